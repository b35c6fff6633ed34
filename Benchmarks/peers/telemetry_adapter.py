"""Our server as one more peer of ../shared/bench/bench_peers.py.

    python3 bench_peers.py --data DIR --adapter /path/to/telemetry_adapter.py --peers telemetry,telemetry-http,victoria-metrics

Ingest goes through `telemetry import` of the CSV (the offline bulk path, like promtool's
backfill; set TELEMETRY_INGEST=http to post line protocol to /api/v1/write instead, like
the InfluxDB and VictoriaMetrics rows; the peer `telemetry-http` is the same adapter in that
mode, so one run can hold both rows), then
`telemetry api` serves the queries over HTTP on loopback. The binary is
$TELEMETRY_BIN or the release build next to this file.
"""

import json
import os
import resource
import shutil
import socket
import subprocess
import time

from bench_peers import Adapter, du

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class TelemetryAdapter(Adapter):
    name = "telemetry"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.binary = os.environ.get("TELEMETRY_BIN") or os.path.join(ROOT, ".build", "release", "telemetry")
        self.data = os.path.join(self.base, "data")
        self.port = free_port()
        self.api = "http://127.0.0.1:%d" % self.port
        self.mode = os.environ.get("TELEMETRY_INGEST", "import")

    def version(self):
        return "telemetry (this repository)"

    def setup(self):
        shutil.rmtree(self.base, ignore_errors=True)
        os.makedirs(self.base)
        if self.mode == "http":
            self._start_api()

    def _start_api(self):
        # --rate-limit 0: the harness posts as fast as the server answers, one client doing a bulk
        # load; the default per-client limit (200 requests/s, burst 400) would answer 429 once
        # ingest passes ~1 M points/s, and the peers have no such limit.
        cmd = [self.binary, "api", "--listen", "127.0.0.1:%d" % self.port, "--data-dir", self.data, "--insecure-no-auth",
               "--rate-limit", "0"]
        self.start_server(cmd, self.api + "/ready")

    def ingest(self, ds):
        if self.mode == "http":
            # The harness' line protocol carries millisecond timestamps (as VictoriaMetrics and
            # InfluxDB are told with the same parameter); without it they would read as ns.
            return self.http_bulk(ds, "lp", self.api + "/api/v1/write?precision=ms")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run([self.binary, "import", "--quiet", "--data-dir", self.data, ds.path("csv")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            raise RuntimeError("telemetry import failed: %s %s" % (p.stdout[-2000:], p.stderr[-2000:]))
        self.ctx.log(p.stdout.strip().splitlines()[0] if p.stdout else "imported")
        return {"seconds": seconds, "points": ds.manifest["points"],
                "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
                "peak_rss_bytes": after.ru_maxrss * 1024}

    def settle(self):
        if self.mode == "http":
            self.stop_server()
        subprocess.run([self.binary, "flush", "--data-dir", self.data], check=True, stdout=subprocess.DEVNULL)
        self._start_api()
        return {}

    def disk_usage(self):
        alloc, app = du(self.data)
        parts = {}
        for part in ("blocks", "wal"):
            parts[part] = du(os.path.join(self.data, part))[0]
        parts["catalog"] = alloc - parts["blocks"] - parts["wal"]
        return {"bytes": alloc, "apparent_bytes": app, "parts": parts}

    def _get(self, path, params):
        r = self.session.get(self.api + path, params=params, timeout=600)
        if r.status_code != 200:
            raise RuntimeError("%s %s -> HTTP %d %s" % (path, params, r.status_code, r.text[:300]))
        return r.content

    def count_points(self):
        m = self.ctx.manifest
        body = json.loads(self._get("/api/v1/query", {"agg": "count", "group_by": "", "start": m["range_start_ms"],
                                                     "end": m["range_end_ms"], "time_format": "ms"}))
        return int(sum(v for s in body["series"] for v in s["values"]))

    def query(self, q, s):
        if q == "q1":
            return self._get("/api/v1/query", {"metric": s["metric"], "match[]": 'uuid="%s"' % s["uuid"],
                                               "start": s["start_ms"], "end": s["end_ms"], "time_format": "ms"})
        if q == "q2":
            return self._get("/api/v1/query", {"metric": s["metric"], "match[]": 'Hostname="%s"' % s["hostname"],
                                               "start": s["start_ms"], "end": s["end_ms"] - 1, "step": "%ds" % s["step_s"],
                                               "agg": "avg", "time_format": "ms"})
        if q == "q3":
            return self._get("/api/v1/query", {"metric": s["metric"], "start": s["start_ms"], "end": s["end_ms"],
                                               "agg": "max", "group_by": "Hostname", "time_format": "ms"})
        if q == "q4":
            # The inventory endpoints answer "which hosts / GPUs report" directly, each object
            # narrowed to the key the question asks for (`fields`); a fleet larger than one
            # page is read page by page, the cursor taken from the X-Next-Cursor header so
            # no page is parsed inside the timed call. TELEMETRY_Q4_LEGACY=1 reads full records
            # 10,000 a page with the cursor parsed from each body (binaries before `fields`).
            if os.environ.get("TELEMETRY_Q4_LEGACY") == "1":
                return (self._legacy_pages("/api/v1/hosts"), self._legacy_pages("/api/v1/gpus"))
            return (self._pages("/api/v1/hosts", "hostname"), self._pages("/api/v1/gpus", "uuid"))
        raise KeyError(q)

    def _pages(self, path, field):
        pages, cursor = [], None
        while True:
            params = {"limit": 100000, "fields": field}
            if cursor:
                params["cursor"] = cursor
            r = self.session.get(self.api + path, params=params, timeout=600)
            if r.status_code != 200:
                raise RuntimeError("%s %s -> HTTP %d %s" % (path, params, r.status_code, r.text[:300]))
            pages.append(r.content)
            cursor = r.headers.get("X-Next-Cursor")
            if not cursor:
                return pages

    def _legacy_pages(self, path):
        pages, cursor = [], None
        while True:
            params = {"limit": 10000}
            if cursor:
                params["cursor"] = cursor
            raw = self._get(path, params)
            pages.append(raw)
            cursor = json.loads(raw).get("next_cursor")
            if not cursor:
                return pages

    def parse(self, q, raw):
        if q == "q4":
            return (sorted(h["hostname"] for page in raw[0] for h in json.loads(page)["hosts"]),
                    sorted(g["uuid"] for page in raw[1] for g in json.loads(page)["gpus"]))
        series = json.loads(raw)["series"]
        if q == "q1":
            out = []
            for s in series:
                out.extend(zip(s["timestamps"], s["values"]))
            return sorted(out)
        if q == "q2":
            return {s["labels"].get("gpu_id", "?"): list(zip(s["timestamps"], s["values"])) for s in series}
        if q == "q3":
            return {s["labels"].get("Hostname", "?"): float(s["values"][0]) for s in series}
        raise KeyError(q)

    def teardown(self):
        self.stop_server()


class TelemetryHTTPAdapter(TelemetryAdapter):
    """The same server fed over HTTP line protocol, the path Telegraf and our collectors use."""
    name = "telemetry-http"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.mode = "http"


ADAPTERS = {"telemetry": TelemetryAdapter, "telemetry-http": TelemetryHTTPAdapter}
