// The built-in UI's core: the API client (X-API-Key from localStorage), the hash router,
// a tiny DOM builder and the formatting helpers the pages share. No dependencies.
"use strict";

const App = (() => {
  const KEY_STORAGE = "telemetry.apiKey";
  const pages = {};
  let cleanup = null;      // the current page's teardown (timers, streams)
  let controller = null;   // aborts the current page's requests on navigation

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  // --- API key -----------------------------------------------------------------------------
  const apiKey = () => localStorage.getItem(KEY_STORAGE) || "";

  function askKey(reason) {
    const dialog = document.getElementById("key-dialog");
    document.getElementById("key-reason").textContent = reason || "This server needs an API key.";
    const input = document.getElementById("key-input");
    input.value = apiKey();
    if (!dialog.open) dialog.showModal();
    input.focus();
  }

  function setupKeyDialog() {
    const dialog = document.getElementById("key-dialog");
    document.getElementById("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = document.getElementById("key-input").value.trim();
      if (!value) return;
      localStorage.setItem(KEY_STORAGE, value);
      dialog.close();
      route();
    });
    document.getElementById("key-forget").addEventListener("click", () => {
      localStorage.removeItem(KEY_STORAGE);
      document.getElementById("key-input").value = "";
      dialog.close();
      route();
    });
    document.getElementById("key-button").addEventListener("click", () => askKey("Change or forget the API key kept in this browser."));
  }

  function headers() {
    const h = {};
    const k = apiKey();
    if (k) h["X-API-Key"] = k;
    return h;
  }

  /** GET a JSON endpoint; 401 opens the key dialog; errors carry the API's message. */
  async function api(path, signal) {
    const response = await fetch(path, { headers: headers(), signal: signal || (controller && controller.signal) });
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    if (response.status === 401) {
      askKey(apiKey() ? "The saved API key was refused. Enter a valid key." : "This server needs an API key.");
    }
    if (!response.ok) {
      const message = body && body.error ? body.error.message : response.statusText;
      throw new ApiError(response.status, `${response.status}: ${message}`);
    }
    return body;
  }

  /** Every page of a paginated list endpoint, concatenated. */
  async function apiList(path, field) {
    const out = [];
    let cursor = null;
    for (let i = 0; i < 1000; i++) {
      const sep = path.includes("?") ? "&" : "?";
      const page = await api(path + sep + "limit=10000" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      out.push(...page[field]);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    return out;
  }

  /**
   * Reads a Server-Sent Events endpoint with fetch (EventSource cannot send X-API-Key) and
   * calls onEvent(type, data) per event; reconnects after errors until the signal aborts.
   */
  async function stream(path, signal, onEvent, onState) {
    const decoder = new TextDecoder();
    while (!signal.aborted) {
      try {
        const response = await fetch(path, { headers: headers(), signal });
        if (response.status === 401) { askKey("The saved API key was refused."); return; }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        onState && onState("live");
        const reader = response.body.getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let type = "message";
            const data = [];
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) type = line.slice(6).trim();
              else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
            }
            if (data.length) onEvent(type, data.join("\n"));
          }
        }
      } catch (error) {
        if (signal.aborted) return;
      }
      onState && onState("reconnecting");
      await sleep(2000, signal);
    }
  }

  const sleep = (ms, signal) => new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    if (signal) signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
  });

  // --- DOM ---------------------------------------------------------------------------------
  /** el("div", {class: "x", onclick: fn}, "text", child) — text is always set as text. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function status(text, kind) {
    const s = document.getElementById("status");
    s.textContent = text || "";
    s.className = "status" + (kind ? " " + kind : "");
  }

  function errorBox(error) {
    return el("div", { class: "error", role: "alert" }, error.message || String(error));
  }

  // --- formatting ----------------------------------------------------------------------------
  /** Milliseconds since the epoch from RFC 3339 with any number of fraction digits. */
  function parseTime(text) {
    if (text === null || text === undefined) return null;
    if (typeof text === "number") return text;
    return Date.parse(String(text).replace(/(\.\d{3})\d+/, "$1"));
  }

  function fmtNumber(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 0 : 1) + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + "k";
    if (Number.isInteger(v)) return String(v);
    return String(Number(v.toPrecision(4)));
  }

  function fmtTime(ms, withDate) {
    if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, "0");
    const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    return withDate ? `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}` : time;
  }

  /** "15m", "1h", "7d" → milliseconds; null for anything else. */
  function parseSpan(text) {
    const m = /^(\d+)(s|m|h|d|w)$/.exec(text || "");
    if (!m) return null;
    return Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2]];
  }

  /** A round step (as the API's duration text and in ms) giving about `points` buckets over `span` ms. */
  function niceStep(span, points) {
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800];
    const want = span / 1000 / (points || 300);
    const s = steps.find((x) => x >= want) || steps[steps.length - 1];
    return { text: s + "s", ms: s * 1000 };
  }

  /** What DCGM's metric names mean, for titles and units. */
  const METRICS = {
    DCGM_FI_DEV_GPU_UTIL: ["GPU utilisation", "%"],
    DCGM_FI_DEV_MEM_COPY_UTIL: ["Memory copy utilisation", "%"],
    DCGM_FI_DEV_ENC_UTIL: ["Encoder utilisation", "%"],
    DCGM_FI_DEV_DEC_UTIL: ["Decoder utilisation", "%"],
    DCGM_FI_DEV_GPU_TEMP: ["GPU temperature", "°C"],
    DCGM_FI_DEV_MEMORY_TEMP: ["Memory temperature", "°C"],
    DCGM_FI_DEV_POWER_USAGE: ["Power draw", "W"],
    DCGM_FI_DEV_FB_USED: ["Framebuffer used", "MiB"],
    DCGM_FI_DEV_FB_FREE: ["Framebuffer free", "MiB"],
    DCGM_FI_DEV_SM_CLOCK: ["SM clock", "MHz"],
    DCGM_FI_DEV_MEM_CLOCK: ["Memory clock", "MHz"],
  };
  const metricTitle = (name) => (METRICS[name] || [name])[0];
  const metricUnit = (name) => (METRICS[name] || [name, ""])[1];

  // --- router --------------------------------------------------------------------------------
  /** Registers a page: render(root, arg, params, signal) may return a teardown function. */
  function page(name, render) { pages[name] = render; }

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, "");
    const q = raw.indexOf("?");
    const path = q >= 0 ? raw.slice(0, q) : raw;
    const parts = path.split("/").filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch (_) { return p; } });
    return { name: parts[0] || "fleet", arg: parts.slice(1).join("/"), params: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : "") };
  }

  /** Replaces the hash's parameters without re-rendering (for shareable page state). */
  function setParams(params) {
    const { name, arg } = parseHash();
    const q = params.toString();
    history.replaceState(null, "", "#/" + name + (arg ? "/" + encodeURIComponent(arg) : "") + (q ? "?" + q : ""));
  }

  async function route() {
    if (cleanup) { try { cleanup(); } catch (_) { /* ignore */ } cleanup = null; }
    if (controller) controller.abort();
    controller = new AbortController();
    const { name, arg, params } = parseHash();
    // A 401 on the new page opens the key dialog again; a stale one must not cover it.
    const dialog = document.getElementById("key-dialog");
    if (dialog.open) dialog.close();
    const render = pages[name] || pages.fleet;
    for (const a of document.querySelectorAll("[data-nav]")) {
      a.classList.toggle("active", a.dataset.nav === name || (name === "gpu" && a.dataset.nav === "fleet"));
    }
    const main = document.getElementById("main");
    main.replaceChildren();
    main.dataset.page = name;
    main.dataset.ready = "false";
    status("");
    try {
      const teardown = await render(main, arg, params, controller.signal);
      if (typeof teardown === "function") cleanup = teardown;
    } catch (error) {
      if (error.name !== "AbortError") main.append(errorBox(error));
    }
    main.dataset.ready = "true";
  }

  function start() {
    setupKeyDialog();
    window.addEventListener("hashchange", route);
    route();
  }

  return {
    api, apiList, stream, el, status, errorBox, parseTime, fmtNumber, fmtTime, parseSpan, niceStep,
    metricTitle, metricUnit, page, setParams, start, route, sleep, ApiError,
  };
})();
