// The query page: build a query (metric, matchers, range, step, aggregation, group-by),
// see its chart, its table and the planner's explain. The form lives in the URL hash, so a
// query can be shared as a link.
"use strict";

(() => {
  const { api, el, status, errorBox, fmtNumber, fmtTime, parseSpan, setParams } = App;
  const AGGS = ["", "avg", "min", "max", "sum", "count", "first", "last", "p50", "p90", "p95", "p99"];
  const RANGES = [["all", "all time"], ["15m", "last 15 min"], ["1h", "last hour"], ["6h", "last 6 hours"],
    ["24h", "last 24 hours"], ["7d", "last 7 days"], ["custom", "custom…"]];
  const FIELDS = ["metric", "match", "range", "start", "end", "step", "agg", "group_by", "limit"];
  const MAX_DRAWN = 12;
  const MAX_ROWS = 500;

  App.page("query", async (root, _arg, params, signal) => {
    const form = el("form", { class: "panel query-form", id: "query-form" });
    const input = (name, attrs) => el("input", Object.assign({ name, id: "q-" + name, value: params.get(name) || "" }, attrs));
    const metric = el("select", { name: "metric", id: "q-metric" }, el("option", { value: "" }, "(any metric)"));
    const range = el("select", { name: "range", id: "q-range" }, RANGES.map(([v, label]) => el("option", { value: v }, label)));
    range.value = params.get("range") || "all";
    const agg = el("select", { name: "agg", id: "q-agg" }, AGGS.map((a) => el("option", { value: a }, a || "(none: raw samples)")));
    agg.value = params.get("agg") || "";
    const start = input("start", { placeholder: "2025-07-18T20:42:00Z" });
    const end = input("end", { placeholder: "2025-07-18T20:43:00Z" });
    const custom = el("div", { class: "span2 row" }, label("start", start), label("end", end));
    const field = (text, control, hint) => el("label", {}, el("span", {}, text), control, hint ? el("small", { class: "muted" }, hint) : null);
    form.append(
      field("Metric", metric),
      field("Matchers", input("match", { placeholder: 'Hostname="mtv5-dgx1-hgpu-031", gpu=~"0|1"', class: "mono", spellcheck: "false" }),
        "PromQL style: =, !=, =~, !~; comma-separated"),
      field("Range", range), custom,
      field("Step", input("step", { placeholder: "e.g. 30s, 5m (empty: raw)", size: 10 })),
      field("Aggregation", agg),
      field("Group by", input("group_by", { placeholder: "e.g. Hostname (empty: per series)" }), "labels, comma-separated; () for one group of everything"),
      field("Series limit", input("limit", { type: "number", min: 1, placeholder: "(server default)" })),
      el("div", { class: "row end span-all" }, el("button", { type: "submit", id: "q-run" }, "Run query")));
    const request = el("pre", { class: "request mono", id: "q-request", hidden: true });
    const output = el("div", { id: "q-output" });
    root.append(el("div", { class: "toolbar" }, el("h1", {}, "Query")), form, request, output);

    const showCustom = () => { custom.hidden = range.value !== "custom"; };
    range.addEventListener("change", showCustom);
    showCustom();

    api("/api/v1/metrics?limit=10000", signal).then((r) => {
      for (const m of r.metrics) metric.append(el("option", { value: m.name }, `${m.name} (${m.series_count})`));
      metric.value = params.get("metric") || "";
    }).catch(() => { /* the query still works with a typed metric */ });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const p = new URLSearchParams();
      const data = new FormData(form);
      for (const f of FIELDS) {
        const v = String(data.get(f) || "").trim();
        if (v && !(f === "range" && v === "all")) p.set(f, v);
      }
      if (range.value !== "custom") { p.delete("start"); p.delete("end"); }
      setParams(p);
      run(p);
    });

    /** The API's parameters for the form's state. */
    function apiParams(p) {
      const q = new URLSearchParams();
      if (p.get("metric")) q.set("metric", p.get("metric"));
      const match = (p.get("match") || "").trim();
      if (match) q.set("match[]", match.startsWith("{") ? match : `{${match}}`);
      const r = p.get("range") || "all";
      if (r === "custom") {
        if (p.get("start")) q.set("start", p.get("start"));
        if (p.get("end")) q.set("end", p.get("end"));
      } else if (r !== "all") {
        q.set("start", new Date(Date.now() - parseSpan(r)).toISOString());
      }
      for (const f of ["step", "agg", "limit"]) if (p.get(f)) q.set(f, p.get(f));
      // As in PromQL's `sum by ()`, "()" puts every series in one group (the API's empty group_by).
      const groupBy = (p.get("group_by") || "").trim();
      if (groupBy) q.set("group_by", groupBy === "()" ? "" : groupBy.replace(/^\((.*)\)$/, "$1"));
      return q;
    }

    async function run(p) {
      const q = apiParams(p);
      request.hidden = false;
      request.textContent = "GET /api/v1/query?" + decodeURIComponent(q.toString());
      output.replaceChildren(el("p", { class: "muted" }, "Running…"));
      root.dataset.ready = "false";
      const shown = new URLSearchParams(q);
      shown.set("time_format", "ms");
      try {
        const [result, plan] = await Promise.all([api("/api/v1/query?" + shown, signal), api("/api/v1/query/explain?" + q, signal)]);
        output.replaceChildren(resultView(result, p), explainView(plan));
        status(`${result.count} series · ${result.stats.samples_returned} points · ${(result.stats.duration_ns / 1e6).toFixed(1)} ms`);
      } catch (error) {
        if (error.name === "AbortError") return;
        output.replaceChildren(errorBox(error));
      }
      root.dataset.ready = "true";
    }

    if (FIELDS.some((f) => params.get(f))) {
      await run(params);
    } else {
      output.append(el("div", { class: "panel muted" },
        el("p", {}, "Pick a metric and press Run. Examples:"),
        el("ul", {}, examples().map(([text, p]) => el("li", {}, el("a", { href: "#/query?" + p }, text))))));
    }
  });

  function examples() {
    return [
      ["Average utilisation per host", "metric=DCGM_FI_DEV_GPU_UTIL&agg=avg&group_by=Hostname"],
      ["Hottest GPU per host (max temperature)", "metric=DCGM_FI_DEV_GPU_TEMP&agg=max&group_by=Hostname"],
      ["Average power draw of the whole fleet, per minute", "metric=DCGM_FI_DEV_POWER_USAGE&step=1m&agg=avg&group_by=()"],
      ["GPU 0 of one host, raw samples", 'metric=DCGM_FI_DEV_GPU_UTIL&match=Hostname%3D%22mtv5-dgx1-hgpu-031%22%2C+gpu%3D%220%22'],
    ];
  }

  function label(text, control) {
    return App.el("label", {}, App.el("span", {}, text), control);
  }

  function seriesName(s) {
    const labels = Object.entries(s.labels || {}).map(([k, v]) => `${k}="${v}"`).join(", ");
    return (s.metric || "") + (labels ? `{${labels}}` : "");
  }

  function resultView(result, p) {
    const { el } = App;
    const box = el("section", { class: "panel", id: "q-result" });
    const series = result.series.map((s) => ({
      name: seriesName(s),
      points: s.timestamps.map((t, i) => [t, s.values[i]]),
      s,
    }));
    const single = !p.get("step") && series.every((x) => x.points.length <= 1) && p.get("agg");
    box.append(el("h2", {}, `${result.count} series`, el("span", { class: "muted small" },
      ` · ${result.stats.samples_returned} points from ${result.stats.samples_scanned} samples read`)));
    const chart = el("div", { class: "plot", id: "q-chart" });
    if (!series.length) {
      box.append(el("p", { class: "muted" }, "No series matched."));
      return box;
    }
    if (single) {
      box.append(el("p", { class: "muted small" }, "One value per series over the whole range (no step): compare them in the table."));
    } else {
      box.append(chart);
      if (series.length > MAX_DRAWN) box.append(el("p", { class: "muted small" }, `The chart shows the first ${MAX_DRAWN} of ${series.length} series; the table has them all.`));
    }
    const values = series.flatMap((x) => x.points.map((pt) => pt[1]));
    const top = Math.max(...values.map(Math.abs), 1e-12);
    const head = single ? ["", "series", "points", "value", ""] : ["", "series", "points", "min", "avg", "max", "last", "last at"];
    const table = el("table", { class: "data", id: "q-table" },
      el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
      el("tbody", {}, series.slice(0, MAX_ROWS).map((x, i) => {
        const v = x.points.map((pt) => pt[1]);
        const last = x.points[x.points.length - 1];
        const avg = v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
        const color = i < MAX_DRAWN && !single ? Chart.PALETTE[i % Chart.PALETTE.length] : "transparent";
        const cells = single
          ? [el("td", { class: "num" }, last ? fmtNumber(last[1]) : "–"),
            el("td", { class: "wide" }, last ? el("span", { class: "bar", style: `width:${Math.max(0.5, (Math.abs(last[1]) / top) * 100)}%` }) : null)]
          : [el("td", { class: "num" }, fmtNumber(v.length ? Math.min(...v) : null)),
            el("td", { class: "num" }, fmtNumber(avg)),
            el("td", { class: "num" }, fmtNumber(v.length ? Math.max(...v) : null)),
            el("td", { class: "num" }, last ? fmtNumber(last[1]) : "–"),
            el("td", { class: "small muted" }, last ? fmtTime(last[0], true) : "–")];
        return el("tr", {},
          el("td", {}, el("i", { class: "swatch", style: `background:${color}` })),
          el("td", { class: "mono" }, x.name),
          el("td", { class: "num" }, v.length),
          ...cells);
      })));
    box.append(el("div", { class: "scroll" }, table));
    if (series.length > MAX_ROWS) box.append(el("p", { class: "muted small" }, `First ${MAX_ROWS} of ${series.length} series.`));
    if (!single) {
      // Drawn after insertion so the chart can size itself to the panel.
      requestAnimationFrame(() => Chart.line(chart, series.slice(0, MAX_DRAWN), { format: fmtNumber, height: 260 }));
    }
    return box;
  }

  function explainView(plan) {
    const { el } = App;
    const facts = [
      ["series matched", plan.series_matched], ["head series", plan.head_series], ["blocks", plan.blocks.length],
      ["chunks", plan.chunks_total], ["answered from summaries", plan.chunks_summarizable], ["to decode", plan.chunks_to_decode],
      ["pruned by time", plan.chunks_pruned], ["estimated samples", plan.estimated_samples],
      ["aggregation", plan.aggregation || "none"], ["step", plan.step_ns ? `${plan.step_ns / 1e9} s` : "none"],
      ["group by", plan.group_by ? (plan.group_by.join(", ") || "(all in one)") : "none"],
    ];
    return el("section", { class: "panel", id: "q-explain" },
      el("h2", {}, "Explain"),
      el("dl", { class: "facts" }, facts.map(([k, v]) => el("div", {}, el("dt", {}, k), el("dd", {}, String(v))))),
      el("h3", {}, "Plan"),
      el("ol", { class: "mono small" }, plan.steps.map((s) => el("li", {}, s))),
      plan.blocks.length ? el("details", {}, el("summary", {}, `${plan.blocks.length} block${plan.blocks.length === 1 ? "" : "s"}`),
        el("ul", { class: "mono small" }, plan.blocks.map((b) => el("li", {}, b)))) : null);
  }
})();
