// The fleet page: every host as a row, its GPUs as cells coloured by the latest
// utilisation, temperature or power, with counts per band. Refreshes every 10 s.
"use strict";

(() => {
  const { api, apiList, el, status, errorBox, fmtNumber, parseTime, setParams } = App;

  const VIEWS = {
    util: { metric: "DCGM_FI_DEV_GPU_UTIL", label: "Utilisation", unit: "%", min: 0, max: 100,
      bands: [[-Infinity, 10, "idle"], [10, 80, "busy"], [80, Infinity, "saturated"]] },
    temp: { metric: "DCGM_FI_DEV_GPU_TEMP", label: "Temperature", unit: "°C", min: 25, max: 90,
      bands: [[-Infinity, 50, "cool"], [50, 75, "warm"], [75, Infinity, "hot"]] },
    power: { metric: "DCGM_FI_DEV_POWER_USAGE", label: "Power", unit: "W", min: 0, max: 700,
      bands: [[-Infinity, 150, "low"], [150, 450, "medium"], [450, Infinity, "high"]] },
  };
  const STALE_MS = 5 * 60 * 1000;

  /** Blue (low) through green and yellow to red (high). */
  function colour(value, view) {
    const t = Math.max(0, Math.min(1, (value - view.min) / (view.max - view.min)));
    return `hsl(${Math.round(220 * (1 - t))}, 70%, ${Math.round(48 + 6 * Math.sin(t * Math.PI))}%)`;
  }

  const band = (value, view) => view.bands.find(([lo, hi]) => value >= lo && value < hi)[2];

  App.page("fleet", async (root, _arg, params, signal) => {
    let viewKey = VIEWS[params.get("metric")] ? params.get("metric") : (localStorage.getItem("telemetry.fleetMetric") || "util");
    if (!VIEWS[viewKey]) viewKey = "util";
    let filter = params.get("host") || "";
    let gpus = [];
    let values = new Map();
    let inventoryAt = 0;

    const picker = el("div", { class: "segmented", role: "group", "aria-label": "Colour by" },
      Object.entries(VIEWS).map(([key, v]) => el("button", {
        type: "button", "data-metric": key, class: key === viewKey ? "on" : "",
        onclick: () => { viewKey = key; localStorage.setItem("telemetry.fleetMetric", key); save(); refresh(false); },
      }, v.label)));
    const search = el("input", { type: "search", placeholder: "Filter hosts", value: filter, "aria-label": "Filter hosts",
      oninput: () => { filter = search.value.trim(); save(); draw(); } });
    const summary = el("div", { class: "cards", id: "fleet-summary" });
    const legend = el("div", { class: "legend", id: "fleet-legend" });
    const grid = el("div", { class: "fleet", id: "fleet-grid" });
    const problem = el("div");
    root.append(
      el("div", { class: "toolbar" }, el("h1", {}, "Fleet"), el("span", { class: "spacer" }), search, picker),
      problem, summary, legend, grid);

    function save() {
      const p = new URLSearchParams();
      if (viewKey !== "util") p.set("metric", viewKey);
      if (filter) p.set("host", filter);
      setParams(p);
      for (const b of picker.querySelectorAll("button")) b.classList.toggle("on", b.dataset.metric === viewKey);
    }

    async function refresh(withInventory) {
      try {
        if (withInventory || Date.now() - inventoryAt > 60000) {
          gpus = await apiList("/api/v1/gpus", "gpus");
          inventoryAt = Date.now();
        }
        const view = VIEWS[viewKey];
        const q = new URLSearchParams({ metric: view.metric, agg: "last", group_by: "UUID", time_format: "ms" });
        const result = await api("/api/v1/query?" + q, signal);
        values = new Map(result.series.map((s) => [s.labels.UUID, s.values[s.values.length - 1]]));
        problem.replaceChildren();
        status(`updated ${App.fmtTime(Date.now())}`);
      } catch (error) {
        if (error.name === "AbortError") return;
        problem.replaceChildren(errorBox(error));
        // Nothing known yet (no key, server down): the error alone, no empty grid.
        if (!gpus.length) return;
      }
      draw();
    }

    function draw() {
      const view = VIEWS[viewKey];
      const hosts = new Map();
      for (const g of gpus) {
        const h = g.hostname || "(no host)";
        if (!hosts.has(h)) hosts.set(h, []);
        hosts.get(h).push(g);
      }
      const names = [...hosts.keys()].sort().filter((h) => !filter || h.toLowerCase().includes(filter.toLowerCase()));
      const newest = Math.max(0, ...gpus.map((g) => parseTime(g.last_seen) || 0));
      const columns = Math.max(1, ...gpus.map((g) => Number(g.gpu_id) + 1).filter(Number.isFinite));
      const counts = Object.fromEntries(view.bands.map((b) => [b[2], 0]));
      let shown = 0, withData = 0, stale = 0, sum = 0;

      const rows = names.map((h) => {
        const list = hosts.get(h);
        const bySlot = new Map();
        const extra = [];
        for (const g of list) {
          const i = Number(g.gpu_id);
          if (Number.isInteger(i) && i >= 0 && !bySlot.has(i)) bySlot.set(i, g); else extra.push(g);
        }
        const slots = [];
        for (let i = 0; i < columns; i++) slots.push(bySlot.get(i) || null);
        slots.push(...extra);
        const cells = slots.map((g, i) => {
          if (!g) return el("span", { class: "cell empty", title: `${h}: no GPU ${i}` });
          shown++;
          const v = values.get(g.uuid);
          const last = parseTime(g.last_seen) || 0;
          const isStale = newest - last > STALE_MS;
          if (isStale) stale++;
          if (v !== undefined) { withData++; sum += v; counts[band(v, view)]++; }
          const mig = g.mig_instances || [];
          const title = `${h} · GPU ${g.gpu_id ?? "?"} · ${g.model_name || ""}\n${g.uuid}\n${view.label}: ${v === undefined ? "no data" : fmtNumber(v) + " " + view.unit}` +
            (mig.length ? `\nMIG: ${mig.map((m) => m.gpu_instance_id + (m.profile ? " (" + m.profile + ")" : "")).join(", ")}` : "") +
            (isStale ? `\nlast seen ${new Date(last).toLocaleString()}` : "");
          return el("a", {
            class: "cell" + (v === undefined ? " nodata" : "") + (isStale ? " stale" : ""),
            href: "#/gpu/" + encodeURIComponent(g.uuid), title,
            style: v === undefined ? null : `background:${colour(v, view)}`,
            "data-uuid": g.uuid, "data-value": v === undefined ? null : v, "data-mig": mig.length ? mig.length : null,
          }, el("span", { class: "idx" }, g.gpu_id ?? "?"), mig.length ? el("span", { class: "mig", title: "MIG instances" }, "×" + mig.length) : null, el("span", { class: "val" }, v === undefined ? "–" : fmtNumber(Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 10) / 10)));
        });
        return el("div", { class: "host-row", "data-host": h },
          el("div", { class: "host", title: h }, el("span", {}, h), el("span", { class: "muted small" }, `${list.length} GPU${list.length === 1 ? "" : "s"}`)),
          el("div", { class: "cells" }, cells));
      });
      // Every host on one line: the label as wide as the longest name, then one cell per GPU slot.
      const longest = Math.min(32, Math.max(8, ...names.map((h) => h.length)));
      const slotsWide = Math.max(columns, ...names.map((h) => hosts.get(h).length));
      grid.style.setProperty("--host-width", `${longest + 1}ch`);
      grid.style.gridTemplateColumns = `repeat(auto-fill, calc(${longest + 1}ch + ${slotsWide} * 2.85rem + 1rem))`;
      grid.replaceChildren(...(rows.length ? rows : [el("p", { class: "muted" }, gpus.length ? "No host matches the filter." : "No GPUs yet. Data appears here as soon as the collector stores some.")]));

      const card = (label, value, id, hint) => el("div", { class: "card" }, el("div", { class: "big", id }, value), el("div", { class: "muted" }, label), hint ? el("div", { class: "small muted" }, hint) : null);
      summary.replaceChildren(
        card("GPUs", String(shown), "gpu-count", filter ? `of ${gpus.length}` : null),
        card("hosts", String(names.length), "host-count"),
        card(`average ${view.label.toLowerCase()}`, withData ? `${fmtNumber(Math.round((sum / withData) * 10) / 10)} ${view.unit}` : "–", "avg-value"),
        ...view.bands.map(([lo, hi, name]) => card(name, String(counts[name]), "band-" + name,
          lo === -Infinity ? `< ${hi} ${view.unit}` : hi === Infinity ? `≥ ${lo} ${view.unit}` : `${lo}–${hi} ${view.unit}`)),
        card("stale (> 5 min)", String(stale), "stale-count"));
      const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => colour(view.min + t * (view.max - view.min), view));
      legend.replaceChildren(
        el("span", {}, `${view.label} (${view.unit})`),
        el("span", { class: "muted" }, fmtNumber(view.min)),
        el("span", { class: "ramp", style: `background:linear-gradient(90deg,${stops.join(",")})` }),
        el("span", { class: "muted" }, fmtNumber(view.max) + "+"),
        el("span", { class: "cell nodata mini" }), el("span", { class: "muted" }, "no data"));
    }

    save();
    await refresh(true);
    const timer = setInterval(() => refresh(false), 10000);
    return () => clearInterval(timer);
  });
})();
