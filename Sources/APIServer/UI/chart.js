// A small SVG time-series chart: axes with round ticks, one path per series (broken at gaps),
// dots when points are few, and a hover read-out. Chart.line(container, series, options).
"use strict";

const Chart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2f6fde", "#e0582b", "#1f9d55", "#b83fbf", "#d4a106", "#0f9fb5", "#d93a6a", "#6b7a8f",
    "#7a52d1", "#4a8f1f", "#c4661f", "#2a4f9e"];

  function node(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  }

  /** About `count` round values covering [min, max]. */
  function niceTicks(min, max, count) {
    const span = max - min || Math.abs(max) || 1;
    const raw = span / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
    const ticks = [];
    for (let v = Math.floor(min / step + 1e-9) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
    return ticks;
  }

  /** Round times (ms) covering [t0, t1], aligned in local time. */
  function timeTicks(t0, t1, count) {
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800]
      .map((s) => s * 1000);
    const want = (t1 - t0) / Math.max(1, count);
    const step = steps.find((s) => s >= want) || steps[steps.length - 1];
    const offset = new Date(t0).getTimezoneOffset() * 60000;
    const ticks = [];
    for (let t = Math.ceil((t0 - offset) / step) * step + offset; t <= t1; t += step) ticks.push(t);
    return { ticks, step };
  }

  function fmtTick(t, step, span) {
    const d = new Date(t);
    const p = (n) => String(n).padStart(2, "0");
    if (step >= 86400000) return `${d.getMonth() + 1}/${d.getDate()}`;
    const hm = `${p(d.getHours())}:${p(d.getMinutes())}`;
    if (step < 60000) return `${hm}:${p(d.getSeconds())}`;
    return span > 86400000 ? `${d.getMonth() + 1}/${d.getDate()} ${hm}` : hm;
  }

  /** Index of the point nearest to t in a time-sorted list. */
  function nearest(points, t) {
    let lo = 0, hi = points.length - 1;
    if (hi < 0) return -1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (points[mid][0] < t) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && Math.abs(points[lo - 1][0] - t) <= Math.abs(points[lo][0] - t)) return lo - 1;
    return lo;
  }

  /**
   * Draws series = [{name, points: [[ms, value], ...] (time-sorted), color?}] into container.
   * options: {height, unit, domain: [t0, t1], yMin, yMax, format(value)}.
   * The svg carries data-series and data-points (what was drawn) for tests and tools.
   */
  function line(container, series, options) {
    const o = Object.assign({ height: 190, unit: "", format: (v) => String(v) }, options || {});
    container.replaceChildren();
    container.classList.add("chart-box");
    const width = Math.max(280, container.clientWidth || 600);
    const height = o.height;
    const m = { left: 54, right: 14, top: 10, bottom: 24 };
    const all = series.flatMap((s) => s.points);
    const svg = node("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
    svg.dataset.series = String(series.filter((s) => s.points.length).length);
    svg.dataset.points = String(all.length);
    container.append(svg);
    if (!all.length) {
      svg.append(node("text", { x: width / 2, y: height / 2, class: "empty", "text-anchor": "middle" }, "No data in this range"));
      return svg;
    }
    let [t0, t1] = o.domain || [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
    t0 = Math.min(t0, all[0][0]);
    if (t1 - t0 < 2000) { t0 -= 30000; t1 += 30000; }
    let vmin = Math.min(...all.map((p) => p[1])), vmax = Math.max(...all.map((p) => p[1]));
    if (o.yMin !== undefined) vmin = Math.min(vmin, o.yMin);
    if (o.yMax !== undefined) vmax = Math.max(vmax, o.yMax);
    if (vmin === vmax) { vmin -= Math.abs(vmin) * 0.1 || 1; vmax += Math.abs(vmax) * 0.1 || 1; }
    const yTicks = niceTicks(vmin, vmax, 4);
    // Short labels ("73.4k") can collide on a narrow range; then write the numbers out.
    const labels = yTicks.map(o.format);
    const tickLabel = new Set(labels).size === labels.length ? o.format : (v) => v.toLocaleString("en-US");
    vmin = Math.min(vmin, yTicks[0]);
    vmax = Math.max(vmax, yTicks[yTicks.length - 1]);
    const pw = width - m.left - m.right, ph = height - m.top - m.bottom;
    const x = (t) => m.left + ((t - t0) / (t1 - t0)) * pw;
    const y = (v) => m.top + ph - ((v - vmin) / (vmax - vmin)) * ph;

    const grid = node("g", { class: "grid" });
    for (const v of yTicks) {
      grid.append(node("line", { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }));
      grid.append(node("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, tickLabel(v)));
    }
    const { ticks, step } = timeTicks(t0, t1, Math.max(2, Math.floor(pw / 90)));
    for (const t of ticks) {
      grid.append(node("line", { x1: x(t), x2: x(t), y1: m.top, y2: m.top + ph, class: "v" }));
      grid.append(node("text", { x: x(t), y: height - 6, "text-anchor": "middle" }, fmtTick(t, step, t1 - t0)));
    }
    svg.append(grid);

    series.forEach((s, i) => {
      const color = s.color || PALETTE[i % PALETTE.length];
      const pts = s.points;
      if (!pts.length) return;
      // A gap of more than three typical spacings breaks the line.
      const gaps = pts.slice(1).map((p, j) => p[0] - pts[j][0]).sort((a, b) => a - b);
      const typical = gaps.length ? gaps[gaps.length >> 1] : 0;
      let d = "";
      pts.forEach((p, j) => {
        const jump = j === 0 || (typical > 0 && p[0] - pts[j - 1][0] > 3 * typical);
        d += `${jump ? "M" : "L"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`;
      });
      const path = node("path", { d, class: "line", stroke: color });
      path.dataset.points = String(pts.length);
      path.dataset.name = s.name || "";
      svg.append(path);
      if (pts.length <= 120) {
        const dots = node("g", { fill: color, class: "dots" });
        for (const p of pts) dots.append(node("circle", { cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2.4 }));
        svg.append(dots);
      }
    });

    // Hover read-out: the nearest time and every series' value there.
    const cursor = node("line", { class: "cursor", y1: m.top, y2: m.top + ph, visibility: "hidden" });
    svg.append(cursor);
    const tip = document.createElement("div");
    tip.className = "tip";
    tip.hidden = true;
    container.append(tip);
    svg.addEventListener("mousemove", (event) => {
      const box = svg.getBoundingClientRect();
      const t = t0 + ((event.clientX - box.left - m.left) / pw) * (t1 - t0);
      const longest = series.reduce((a, s) => (s.points.length > a.points.length ? s : a), series[0]);
      const k = nearest(longest.points, t);
      if (k < 0) return;
      const at = longest.points[k][0];
      cursor.setAttribute("x1", x(at));
      cursor.setAttribute("x2", x(at));
      cursor.setAttribute("visibility", "visible");
      const rows = series.slice(0, 8).map((s, i) => {
        const j = nearest(s.points, at);
        const v = j >= 0 && Math.abs(s.points[j][0] - at) <= (t1 - t0) / 50 ? s.points[j][1] : null;
        return `<div><i style="background:${s.color || PALETTE[i % PALETTE.length]}"></i>${escapeHTML(s.name || "")} <b>${v === null ? "–" : escapeHTML(o.format(v))}${escapeHTML(o.unit ? " " + o.unit : "")}</b></div>`;
      });
      tip.innerHTML = `<div class="t">${escapeHTML(new Date(at).toLocaleString())}</div>` + rows.join("");
      tip.hidden = false;
      const left = Math.min(x(at) + 12, width - 180);
      tip.style.left = `${Math.max(0, left)}px`;
      tip.style.top = `${m.top}px`;
    });
    svg.addEventListener("mouseleave", () => { tip.hidden = true; cursor.setAttribute("visibility", "hidden"); });
    return svg;
  }

  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  return { line, PALETTE, niceTicks };
})();
