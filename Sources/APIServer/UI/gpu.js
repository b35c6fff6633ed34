// The GPU page: one chart per metric over a chosen range (step-averaged by the API), kept
// current by the GPU's live stream (GET /api/v1/gpus/{uuid}/stream, Server-Sent Events).
"use strict";

(() => {
  const { api, stream, el, status, fmtNumber, fmtTime, parseTime, parseSpan, niceStep, metricTitle, metricUnit, setParams } = App;
  const RANGES = ["5m", "15m", "1h", "6h", "24h", "7d", "all"];
  const ORDER = ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_MEM_COPY_UTIL",
    "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_MEM_CLOCK",
    "DCGM_FI_DEV_ENC_UTIL", "DCGM_FI_DEV_DEC_UTIL"];
  const LIVE_MS = 2 * 60 * 1000;

  const rank = (m) => { const i = ORDER.indexOf(m); return i < 0 ? ORDER.length : i; };
  const quote = (v) => '"' + String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';

  App.page("gpu", async (root, uuid, params, signal) => {
    const range = RANGES.includes(params.get("range")) ? params.get("range") : "1h";
    const gpu = await api("/api/v1/gpus/" + encodeURIComponent(uuid), signal);
    const first = parseTime(gpu.first_seen), last = parseTime(gpu.last_seen);
    const live = Date.now() - last < LIVE_MS;
    // A fleet that stopped reporting (an imported file) is shown up to its last sample.
    const end = live ? Date.now() : last;
    const span = range === "all" ? Math.max(end - first, 1000) : parseSpan(range);
    const start = range === "all" ? first : end - span;
    const step = niceStep(span, 300);

    const picker = el("div", { class: "segmented", role: "group", "aria-label": "Range" },
      RANGES.map((r) => el("a", { href: `#/gpu/${encodeURIComponent(uuid)}?range=${r}`, class: r === range ? "on" : "", "data-range": r }, r)));
    const liveBadge = el("span", { class: "badge", id: "live-state" }, "connecting…");
    const info = el("dl", { class: "facts" },
      fact("host", el("a", { href: "#/?host=" + encodeURIComponent(gpu.hostname || "") }, gpu.hostname || "–")),
      fact("GPU", gpu.gpu_id ?? "–"), fact("device", gpu.device || "–"), fact("model", gpu.model_name || "–"),
      fact("namespaces", (gpu.namespaces || []).join(", ") || "–"),
      fact("MIG instances", migList(gpu.mig_instances || [])),
      fact("first seen", fmtTime(first, true)), fact("last seen", el("span", { id: "last-seen" }, fmtTime(last, true))),
      fact("series", gpu.series_count),
      fact("raw samples", el("a", { href: "#/query?" + new URLSearchParams({ match: `UUID=${quote(uuid)}`, range: live ? "1h" : "all" }) }, "query this GPU")));
    const note = el("p", { class: "muted small" });
    const charts = el("div", { class: "charts", id: "gpu-charts" });
    root.append(
      el("div", { class: "toolbar" },
        el("a", { href: "#/", class: "ghost" }, "← Fleet"),
        el("h1", { class: "mono" }, uuid), el("span", { class: "spacer" }), liveBadge, picker),
      info, note, charts);

    const query = new URLSearchParams({ start: new Date(start).toISOString(), step: step.text, agg: "avg", group_by: "__name__", time_format: "ms" });
    query.append("match[]", `UUID=${quote(uuid)}`);
    const result = await api("/api/v1/query?" + query, signal);
    note.textContent = `${range === "all" ? "All data" : "Last " + range}${live ? "" : " up to the last sample"} · ` +
      `${step.text} averages · ${result.stats.samples_scanned} samples read in ${(result.stats.duration_ns / 1e6).toFixed(1)} ms`;

    // metric → {points: [[bucketMs, avg]], counts: [n per point], card, box, value, dirty}
    const series = new Map();
    function card(metric) {
      if (series.has(metric)) return series.get(metric);
      const value = el("span", { class: "now" });
      const box = el("div", { class: "plot" });
      const node = el("section", { class: "panel chart-card", "data-metric": metric },
        el("header", {}, el("h2", {}, metricTitle(metric), el("span", { class: "muted small" }, metricUnit(metric) ? ` (${metricUnit(metric)})` : "")), value),
        el("div", { class: "small muted mono" }, metric), box);
      const entry = { metric, points: [], counts: [], node, box, value, dirty: true };
      series.set(metric, entry);
      const sorted = [...series.values()].sort((a, b) => rank(a.metric) - rank(b.metric) || a.metric.localeCompare(b.metric));
      charts.replaceChildren(...sorted.map((s) => s.node));
      return entry;
    }
    for (const s of result.series) {
      const entry = card(s.metric || "(no name)");
      entry.points = s.timestamps.map((t, i) => [t, s.values[i]]);
      entry.counts = entry.points.map(() => 1);
    }
    if (!result.series.length) charts.append(el("p", { class: "muted" }, "No samples for this GPU in this range."));

    function render(force) {
      const now = Date.now();
      const lo = live && range !== "all" ? now - span : start;
      for (const s of series.values()) {
        if (!s.dirty && !force) continue;
        s.dirty = false;
        while (s.points.length && s.points[0][0] < lo - step.ms) { s.points.shift(); s.counts.shift(); }
        const unit = metricUnit(s.metric);
        const lastPoint = s.points[s.points.length - 1];
        s.value.textContent = lastPoint ? `${fmtNumber(lastPoint[1])} ${unit}` : "–";
        Chart.line(s.box, [{ name: metricTitle(s.metric), points: s.points }], {
          unit, format: fmtNumber, domain: [lo, Math.max(live ? now : end, lastPoint ? lastPoint[0] : 0)],
          yMin: unit === "%" ? 0 : undefined, yMax: unit === "%" ? 100 : undefined, height: 170,
        });
      }
    }
    render(true);

    // Live samples fold into the same step buckets the query returned.
    let received = 0;
    const onSample = (type, data) => {
      if (type !== "sample") return;
      let sample;
      try { sample = JSON.parse(data); } catch (_) { return; }
      const t = parseTime(sample.timestamp);
      if (!Number.isFinite(t) || typeof sample.value !== "number") return;
      received++;
      const s = card(sample.metric || "(no name)");
      const bucket = Math.floor(t / step.ms) * step.ms;
      const tail = s.points.length - 1;
      if (tail >= 0 && s.points[tail][0] === bucket) {
        const n = s.counts[tail] + 1;
        s.points[tail][1] += (sample.value - s.points[tail][1]) / n;
        s.counts[tail] = n;
      } else if (tail < 0 || s.points[tail][0] < bucket) {
        s.points.push([bucket, sample.value]);
        s.counts.push(1);
      }
      s.dirty = true;
      document.getElementById("last-seen").textContent = fmtTime(t, true);
      if (received === 1) status("");
      liveBadge.dataset.events = String(received);
    };
    const onState = (state) => {
      liveBadge.textContent = state === "live" ? "● live" : "reconnecting…";
      liveBadge.className = "badge " + (state === "live" ? "live" : "warn");
    };
    stream(`/api/v1/gpus/${encodeURIComponent(uuid)}/stream`, signal, onSample, onState);

    const timer = setInterval(() => render(false), 1000);
    let resizeTimer = null;
    const onResize = () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => render(true), 150); };
    window.addEventListener("resize", onResize);
    status(live ? "" : `no samples since ${fmtTime(last, true)}`);
    setParams(new URLSearchParams({ range }));
    return () => { clearInterval(timer); window.removeEventListener("resize", onResize); };
  });

  // A MIG-enabled GPU lists its slices (GPU instance id and profile) here; they are not GPUs.
  function migList(instances) {
    if (!instances.length) return "–";
    return el("ul", { class: "mig-list", id: "mig-instances" },
      instances.map((m) => el("li", { "data-gpu-instance": m.gpu_instance_id },
        el("span", { class: "mono" }, "GI " + m.gpu_instance_id), m.profile ? " · " + m.profile : "")));
  }

  function fact(label, value) {
    return App.el("div", {}, App.el("dt", {}, label), App.el("dd", {}, value));
  }
})();
