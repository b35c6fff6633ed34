#!/usr/bin/env python3
"""Runs one table of PromQL queries against a real Prometheus 2.42 and against our server,
over the same generated DCGM-like data set, and requires equal answers.

Data: 3 hosts x 4 GPUs x 7 DCGM metrics (+ a histogram) over 1 h at 15 s, written as
OpenMetrics and backfilled into Prometheus with `promtool tsdb create-blocks-from openmetrics`,
and posted to our server's `POST /api/v1/write` as JSON. Each query runs as an instant query
at two times and as a range query (two step sizes, one not dividing the range); a comparison
matches when both sides give the same result type, the same series set (label sets) and
values equal within 1e-9 relative (1e-12 absolute near zero), or both refuse with the same
status class. Prints every difference; exits 1 if any.

Usage: compare_prometheus.py TELEMETRY_BINARY
"""
import json, math, os, random, shutil, signal, socket, subprocess, sys, tempfile, time
import urllib.parse, urllib.request, urllib.error

REL, ABS = 1e-9, 1e-12

# Differences kept on purpose: (query prefix, kind) -> why we answer otherwise.
KEPT = {
    ("predict_linear(DCGM_FI_DEV_GPU_TEMP[10m] @ ", "query_range"):
        "Prometheus 2.42 does not treat predict_linear as step-invariant, emulates @ as an offset "
        "from the range start and fetches only [@-10m, @], so its window slides off the fetched data "
        "after 10 steps; we keep the window pinned at @ at every step (as an instant query at each "
        "step gives in both).",
}
KEY = "compare-key"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def generate(start_ms, end_ms, seed=20260202):
    rnd = random.Random(seed)
    hosts = ["dgx-a01", "dgx-a02", "dgx-b01"]
    series = []  # (name, labels, [(t, v)])
    for hi, host in enumerate(hosts):
        for g in range(4):
            base = {"Hostname": host, "gpu": str(g), "UUID": f"GPU-{hi:02d}{g:02d}-5fd4", "device": f"nvidia{g}",
                    "modelName": "NVIDIA H100 80GB HBM3" if hi < 2 else "NVIDIA A100-SXM4-40GB",
                    "instance": f"{host}:9400", "job": "dcgm"}
            if (hi + g) % 3 != 2:  # allocated GPUs carry a pod
                base.update({"namespace": ["ml-train", "inference"][(hi + g) % 2], "pod": f"job-{hi}{g}", "container": "main"})
            # A GPU of the last host stops reporting 20 minutes before the end (lookback, absent).
            stop = end_ms - 20 * 60_000 if (hi == 2 and g == 3) else end_ms
            ts = list(range(start_ms, stop + 1, 15_000))
            util_level = [3, 40, 85, 97][g] if hi != 1 else [1, 2, 60, 99][g]
            energy = rnd.randint(10**9, 2 * 10**9)
            def put(name, values):
                series.append((name, dict(base), list(zip(ts, values))))
            put("DCGM_FI_DEV_GPU_UTIL", [max(0, min(100, util_level + rnd.randint(-3, 3))) for _ in ts])
            put("DCGM_FI_DEV_GPU_TEMP", [40 + hi * 3 + g + rnd.randint(0, 12) for _ in ts])
            power = [round(60 + util_level * 6.1 + rnd.uniform(-20, 20), 3) for _ in ts]
            put("DCGM_FI_DEV_POWER_USAGE", power)
            vals = []
            for k, p in enumerate(power):
                energy += int(p * 15_000)  # mJ over 15 s
                if hi == 0 and g == 1 and k == len(power) // 2:
                    energy = int(p * 1000)  # a counter reset (driver reload)
                vals.append(energy)
            put("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", vals)
            put("DCGM_FI_DEV_FB_USED", [rnd.choice([0, 1024, 40960, 79000]) if g == 0 else 20000 + g * 1000 for _ in ts])
            put("DCGM_FI_DEV_SM_CLOCK", [1980 if util_level > 50 else rnd.choice([210, 1410, 1980]) for _ in ts])
            put("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", [round(min(1.0, util_level / 100 * rnd.uniform(0.5, 1.0)), 6) for _ in ts])
        # A classic histogram per host: kernel durations.
        ts = list(range(start_ms, end_ms + 1, 15_000))
        counts = [0.0] * 5
        bounds = ["0.01", "0.1", "1", "10", "+Inf"]
        rows = [[] for _ in bounds]
        for t in ts:
            for _ in range(rnd.randint(5, 40)):
                d = rnd.expovariate(1 / (0.05 * (hi + 1)))
                for bi, b in enumerate(bounds):
                    if b == "+Inf" or d <= float(b):
                        counts[bi] += 1
            for bi in range(len(bounds)):
                rows[bi].append((t, counts[bi]))
        for bi, b in enumerate(bounds):
            series.append(("gpu_kernel_duration_seconds_bucket", {"Hostname": host, "le": b, "job": "dcgm"}, rows[bi]))
    return series

def fmt_value(v):
    return repr(float(v)) if isinstance(v, float) else str(v)

def write_openmetrics(series, path):
    with open(path, "w") as f:
        for name, labels, points in series:
            lab = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            for t, v in points:
                f.write(f"{name}{{{lab}}} {fmt_value(v)} {t // 1000}.{t % 1000:03d}\n")
        f.write("# EOF\n")

def http(url, data=None, headers=None, timeout=60):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def wait_ready(url, headers=None, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            code, _ = http(url, headers=headers, timeout=2)
            if code == 200:
                return
        except Exception:
            pass
        time.sleep(0.3)
    raise SystemExit(f"not ready: {url}")

def queries(hosts_regex, at_s):
    q = [
        # literals and the Grafana health check
        "1+1", "2 * 3 ^ 2", "-2 ^ 2", "10 % 3", "1 / 0", "-1 / 0", "0 / 0", "2 > bool 1", "time()", "vector(7)",
        "scalar(sum(DCGM_FI_DEV_GPU_UTIL))", "pi()",
        # selectors and matchers
        "DCGM_FI_DEV_GPU_UTIL",
        'DCGM_FI_DEV_GPU_UTIL{Hostname="dgx-a01"}',
        'DCGM_FI_DEV_GPU_UTIL{Hostname!="dgx-a01"}',
        'DCGM_FI_DEV_GPU_UTIL{Hostname=~"dgx-a.*", gpu!~"0|1"}',
        f'DCGM_FI_DEV_GPU_TEMP{{Hostname=~"{hosts_regex}"}}',
        '{__name__=~"DCGM_FI_DEV_(GPU_UTIL|GPU_TEMP)", gpu="2"}',
        'DCGM_FI_DEV_GPU_UTIL{pod=""}',
        'DCGM_FI_DEV_GPU_UTIL offset 10m',
        'DCGM_FI_DEV_GPU_UTIL offset -5m',
        'DCGM_FI_DEV_GPU_UTIL @ end()',
        'DCGM_FI_DEV_GPU_UTIL @ start()',
        'DCGM_FI_DEV_POWER_USAGE{gpu="3"} offset 1m @ end()',
        # idle-but-allocated GPUs
        'DCGM_FI_DEV_GPU_UTIL{pod!=""} < 5',
        'DCGM_FI_DEV_GPU_UTIL{pod!=""} < bool 5',
        'count by (namespace) (DCGM_FI_DEV_GPU_UTIL{pod!=""} < 5)',
        # aggregations
        "sum(DCGM_FI_DEV_POWER_USAGE)",
        "sum by (Hostname) (DCGM_FI_DEV_POWER_USAGE)",
        "sum without (gpu, UUID, device, pod, container, namespace) (DCGM_FI_DEV_POWER_USAGE)",
        "avg by (modelName) (DCGM_FI_DEV_GPU_TEMP)",
        "min by (Hostname) (DCGM_FI_DEV_GPU_TEMP)",
        "max by (Hostname) (DCGM_FI_DEV_GPU_TEMP)",
        "count(DCGM_FI_DEV_GPU_UTIL)",
        "count by (namespace) (DCGM_FI_DEV_GPU_UTIL)",
        "group by (Hostname, modelName) (DCGM_FI_DEV_GPU_UTIL)",
        "stddev by (Hostname) (DCGM_FI_DEV_POWER_USAGE)",
        "stdvar(DCGM_FI_DEV_POWER_USAGE)",
        "topk by (Hostname) (5, DCGM_FI_DEV_GPU_TEMP)",
        "topk(3, DCGM_FI_DEV_POWER_USAGE)",
        "bottomk(2, DCGM_FI_DEV_POWER_USAGE)",
        "bottomk by (Hostname) (1, DCGM_FI_DEV_POWER_USAGE)",
        "quantile(0.9, DCGM_FI_DEV_GPU_TEMP)",
        "quantile by (Hostname) (0.5, DCGM_FI_DEV_POWER_USAGE)",
        'count_values("clock", DCGM_FI_DEV_SM_CLOCK)',
        'count_values by (Hostname) ("fb", DCGM_FI_DEV_FB_USED)',
        "avg(DCGM_FI_DEV_GPU_UTIL) by (Hostname)",
        # counters and range functions
        "rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[5m])",
        "rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[1m])",
        "irate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[5m])",
        "increase(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[1h])",
        "sum by (namespace) (increase(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[10m]))",
        "sum by (namespace) (increase(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[10m])) / 3.6e9",
        "delta(DCGM_FI_DEV_GPU_TEMP[10m])",
        "idelta(DCGM_FI_DEV_GPU_TEMP[5m])",
        "deriv(DCGM_FI_DEV_GPU_TEMP[10m])",
        "predict_linear(DCGM_FI_DEV_GPU_TEMP[10m], 600)",
        "changes(DCGM_FI_DEV_SM_CLOCK[15m])",
        "resets(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[1h])",
        "avg_over_time(DCGM_FI_DEV_GPU_UTIL[10m])",
        "min_over_time(DCGM_FI_DEV_GPU_TEMP[10m])",
        "max_over_time(DCGM_FI_DEV_GPU_TEMP[10m])",
        "sum_over_time(DCGM_FI_DEV_POWER_USAGE[2m])",
        "count_over_time(DCGM_FI_DEV_GPU_UTIL[7m])",
        "last_over_time(DCGM_FI_DEV_GPU_UTIL[30m])",
        "present_over_time(DCGM_FI_DEV_GPU_UTIL[1m])",
        "stddev_over_time(DCGM_FI_DEV_POWER_USAGE[10m])",
        "stdvar_over_time(DCGM_FI_DEV_POWER_USAGE[10m])",
        "quantile_over_time(0.95, DCGM_FI_DEV_GPU_TEMP[15m])",
        "holt_winters(DCGM_FI_DEV_GPU_TEMP[10m], 0.5, 0.5)",
        "rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[5m] offset 10m)",
        "rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[5m] @ end())",
        "max_over_time(DCGM_FI_DEV_GPU_TEMP[5m] offset 2m)",
        "absent_over_time(DCGM_FI_DEV_GPU_UTIL{Hostname=\"dgx-b01\", gpu=\"3\"}[5m])",
        "absent_over_time(nonexistent_metric{job=\"dcgm\"}[5m])",
        # math functions
        "abs(DCGM_FI_DEV_GPU_TEMP - 50)",
        "ceil(DCGM_FI_DEV_POWER_USAGE)",
        "floor(DCGM_FI_DEV_POWER_USAGE)",
        "round(DCGM_FI_DEV_POWER_USAGE)",
        "round(DCGM_FI_DEV_POWER_USAGE, 5)",
        "round(DCGM_FI_DEV_POWER_USAGE, 0.1)",
        "clamp(DCGM_FI_DEV_GPU_UTIL, 10, 90)",
        "clamp_min(DCGM_FI_DEV_GPU_UTIL, 50)",
        "clamp_max(DCGM_FI_DEV_GPU_UTIL, 50)",
        "sqrt(DCGM_FI_DEV_POWER_USAGE)",
        "ln(DCGM_FI_DEV_POWER_USAGE)",
        "exp(DCGM_FI_PROF_PIPE_TENSOR_ACTIVE)",
        "timestamp(DCGM_FI_DEV_GPU_UTIL)",
        "timestamp(DCGM_FI_DEV_GPU_UTIL offset 3m)",
        "time() - timestamp(DCGM_FI_DEV_GPU_UTIL)",
        "absent(DCGM_FI_DEV_GPU_UTIL)",
        'absent(nonexistent_metric{job="dcgm", gpu="0"})',
        'absent(DCGM_FI_DEV_GPU_UTIL{Hostname="dgx-b01", gpu="3"})',
        'label_replace(DCGM_FI_DEV_GPU_UTIL, "host_short", "$1", "Hostname", "dgx-(.*)")',
        'label_replace(DCGM_FI_DEV_GPU_UTIL, "Hostname", "", "Hostname", ".*")',
        'label_join(DCGM_FI_DEV_GPU_UTIL, "gpu_id", "/", "Hostname", "gpu")',
        "sort(DCGM_FI_DEV_POWER_USAGE)",
        "sort_desc(sum by (Hostname) (DCGM_FI_DEV_POWER_USAGE))",
        "histogram_quantile(0.9, gpu_kernel_duration_seconds_bucket)",
        "histogram_quantile(0.5, sum by (le) (rate(gpu_kernel_duration_seconds_bucket[5m])))",
        "histogram_quantile(0.99, rate(gpu_kernel_duration_seconds_bucket[10m]))",
        # binary operators and matching
        "DCGM_FI_DEV_POWER_USAGE * 2",
        "2 - DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_FB_USED / 1024 % 7",
        "DCGM_FI_DEV_GPU_TEMP ^ 2",
        "DCGM_FI_DEV_POWER_USAGE / DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_GPU_TEMP > 50",
        "DCGM_FI_DEV_GPU_TEMP >= bool 50",
        "50 < DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_GPU_TEMP == 45",
        "DCGM_FI_DEV_GPU_TEMP != bool 45",
        "DCGM_FI_DEV_GPU_TEMP <= 48",
        "DCGM_FI_DEV_GPU_UTIL > 50 and DCGM_FI_DEV_GPU_TEMP > 45",
        "DCGM_FI_DEV_GPU_UTIL < 5 or DCGM_FI_DEV_GPU_UTIL > 95",
        'DCGM_FI_DEV_GPU_UTIL unless on(Hostname, gpu) DCGM_FI_DEV_GPU_UTIL{pod!=""}',
        "DCGM_FI_DEV_POWER_USAGE / on(Hostname) group_left sum by (Hostname) (DCGM_FI_DEV_POWER_USAGE)",
        "DCGM_FI_DEV_GPU_UTIL * on(Hostname, gpu) group_left(modelName) group by (Hostname, gpu, modelName) (DCGM_FI_DEV_GPU_TEMP)",
        "sum by (Hostname) (DCGM_FI_DEV_POWER_USAGE) / on(Hostname) group_right count by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL)",
        "DCGM_FI_DEV_POWER_USAGE - ignoring(job) DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_GPU_UTIL + on(Hostname) DCGM_FI_DEV_GPU_TEMP",  # many-to-many: both refuse
        "-DCGM_FI_DEV_GPU_TEMP",
        "sum(rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[5m])) / 1000",
        # fleet questions
        'topk by (Hostname) (5, avg_over_time(DCGM_FI_DEV_GPU_TEMP[10m]))',
        'sum by (namespace) (DCGM_FI_DEV_FB_USED{namespace!=""}) / 1024',
        'count(DCGM_FI_DEV_GPU_UTIL > 90) / count(DCGM_FI_DEV_GPU_UTIL)',
        'avg by (Hostname) (DCGM_FI_PROF_PIPE_TENSOR_ACTIVE) * 100',
        'max by (Hostname) (DCGM_FI_DEV_GPU_TEMP) - min by (Hostname) (DCGM_FI_DEV_GPU_TEMP)',
        'sum by (Hostname) (rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[5m])) / 1000 > 1',
        # NVIDIA's DCGM Exporter dashboard (12239), variables expanded as Grafana does
        'DCGM_FI_DEV_GPU_TEMP{instance=~"(dgx-a01:9400|dgx-b01:9400)", gpu=~"(0|2)"}',
        'avg(DCGM_FI_DEV_GPU_TEMP{instance=~"(dgx-a01:9400|dgx-b01:9400)", gpu=~"(0|2)"})',
        'sum(DCGM_FI_DEV_POWER_USAGE{instance=~"(dgx-a01:9400|dgx-a02:9400)", gpu=~".*"})',
        'DCGM_FI_DEV_SM_CLOCK{instance=~"dgx-a02:9400", gpu=~"(1|3)"} * 1000000',
        'DCGM_FI_DEV_FB_USED{instance=~".*", gpu=~".*"}',
        # edges: short ranges, fixed @ times, k = 1, out-of-range quantiles, regex corners
        "rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[30s])",
        "increase(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[1m0s])",
        f"DCGM_FI_DEV_GPU_UTIL @ {at_s}",
        f"increase(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[10m] @ {at_s})",
        f"timestamp(DCGM_FI_DEV_GPU_UTIL @ {at_s})",
        f"predict_linear(DCGM_FI_DEV_GPU_TEMP[10m] @ {at_s}, 600)",
        f"predict_linear(DCGM_FI_DEV_GPU_TEMP[10m] @ end(), 60)",
        "topk(1, DCGM_FI_DEV_GPU_TEMP)",
        "bottomk by (namespace) (1, DCGM_FI_DEV_GPU_UTIL)",
        "topk(scalar(count(DCGM_FI_DEV_GPU_UTIL)) - 10, DCGM_FI_DEV_GPU_UTIL)",
        "quantile(0, DCGM_FI_DEV_GPU_TEMP)",
        "quantile(1.5, DCGM_FI_DEV_GPU_TEMP)",
        "histogram_quantile(1.5, gpu_kernel_duration_seconds_bucket)",
        "histogram_quantile(0.75, sum by (le, Hostname) (increase(gpu_kernel_duration_seconds_bucket[5m])))",
        'count_values without (gpu, UUID, device) ("clock", DCGM_FI_DEV_SM_CLOCK)',
        'DCGM_FI_DEV_GPU_UTIL{Hostname=~"dgx-a0.|nothing", modelName=~".*H100.*"}',
        'DCGM_FI_DEV_GPU_UTIL{UUID=~"GPU-01.*", gpu=~"[0-2]"}',
        "avg without (gpu, UUID, device, pod, container, namespace) (DCGM_FI_DEV_GPU_TEMP)",
        "sum(DCGM_FI_DEV_POWER_USAGE) + sum(DCGM_FI_DEV_GPU_UTIL)",
        "DCGM_FI_DEV_GPU_UTIL % 7 == bool 0",
        "DCGM_FI_DEV_GPU_TEMP atan2 DCGM_FI_DEV_GPU_UTIL",
        "scalar(DCGM_FI_DEV_GPU_UTIL)",
        "time() % 3600",
        "sgn(DCGM_FI_DEV_GPU_TEMP - 48)",
        "log2(DCGM_FI_DEV_FB_USED + 1)",
        "deg(DCGM_FI_PROF_PIPE_TENSOR_ACTIVE)",
        "count(count by (Hostname) (DCGM_FI_DEV_GPU_UTIL))",
        "vector(1) and on() count(DCGM_FI_DEV_GPU_UTIL) > 5",
        "DCGM_FI_DEV_GPU_UTIL * on(Hostname, gpu) group_left(nonexistent) DCGM_FI_DEV_GPU_TEMP",
        "last_over_time(DCGM_FI_DEV_GPU_UTIL[5m]) offset 5m",
        "max_over_time(DCGM_FI_DEV_GPU_TEMP[1h])",
        "sum by (Hostname) (rate(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[5m])) > on(Hostname) group_left count by (Hostname) (DCGM_FI_DEV_GPU_UTIL)",
    ]
    return q

def normalise(body):
    d = json.loads(body)
    if d.get("status") != "success":
        return ("error", d.get("errorType"))
    data = d["data"]
    rt, res = data["resultType"], data["result"]
    if rt in ("scalar", "string"):
        return (rt, {"": [(res[0], res[1])]}, None)
    out, order = {}, []
    for s in res:
        key = json.dumps(s["metric"], sort_keys=True)
        pts = [tuple(s["value"])] if rt == "vector" else [tuple(p) for p in s["values"]]
        out[key] = pts
        order.append(key)
    return (rt, out, order)

def num(s):
    return {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}.get(s, None) if s in ("+Inf", "-Inf", "NaN") else float(s)

def close(a, b):
    x, y = num(a), num(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= max(ABS, REL * max(abs(x), abs(y)))

def compare(p, o, ordered):
    if p[0] == "error" or o[0] == "error":
        return p == o, f"prometheus {p[:2]} vs ours {o[:2]}"
    if p[0] != o[0]:
        return False, f"result type {p[0]} vs {o[0]}"
    if set(p[1]) != set(o[1]):
        only_p = sorted(set(p[1]) - set(o[1]))[:3]
        only_o = sorted(set(o[1]) - set(p[1]))[:3]
        return False, f"series sets differ ({len(p[1])} vs {len(o[1])}): only prometheus {only_p}, only ours {only_o}"
    for k, pts in p[1].items():
        ots = o[1][k]
        if len(pts) != len(ots):
            return False, f"{k}: {len(pts)} points vs {len(ots)}"
        for (pt, pv), (ot, ov) in zip(pts, ots):
            if abs(float(pt) - float(ot)) > 1e-9:
                return False, f"{k}: timestamp {pt} vs {ot}"
            if p[0] == "string":
                if pv != ov:
                    return False, f"string {pv!r} vs {ov!r}"
            elif not close(pv, ov):
                return False, f"{k} @ {pt}: {pv} vs {ov}"
    if ordered and p[0] == "vector":
        pv = [p[1][k][0][1] for k in p[2]]
        ov = [o[1][k][0][1] for k in o[2]]
        if not all(close(a, b) for a, b in zip(pv, ov)):
            return False, f"order of values differs: {pv[:5]} vs {ov[:5]}"
    return True, ""

def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="promql-compare-")
    procs = []
    try:
        now = int(time.time())
        end_ms = (now // 60) * 60_000 - 120_000
        start_ms = end_ms - 3_600_000
        series = generate(start_ms, end_ms)
        om = os.path.join(work, "data.om")
        write_openmetrics(series, om)
        pdata = os.path.join(work, "prom")
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", om, pdata], check=True,
                       stdout=subprocess.DEVNULL)
        cfg = os.path.join(work, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 15s\n")
        pport, oport = free_port(), free_port()
        procs.append(subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={pdata}",
                                       f"--web.listen-address=127.0.0.1:{pport}", "--storage.tsdb.retention.time=100y"],
                                      stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prometheus.log"), "w")))
        procs.append(subprocess.Popen([binary, "api", "--listen", f"127.0.0.1:{oport}", "--data-dir", os.path.join(work, "ours"),
                                       "--api-key", KEY, "--rate-limit", "0", "--no-access-log", "--log-level", "warning"],
                                      stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "ours.log"), "w")))
        auth = {"X-API-Key": KEY}
        wait_ready(f"http://127.0.0.1:{pport}/-/ready")
        wait_ready(f"http://127.0.0.1:{oport}/health")
        batch = []
        def flush():
            if batch:
                code, body = http(f"http://127.0.0.1:{oport}/api/v1/write", data=json.dumps(batch).encode(),
                                  headers=dict(auth, **{"Content-Type": "application/json"}))
                if code != 204:
                    raise SystemExit(f"write failed: {code} {body[:300]}")
                batch.clear()
        total = 0
        for name, labels, points in series:
            for t, v in points:
                batch.append({"metric": name, "labels": labels, "time": t, "value": fmt_value(v)})
                total += 1
                if len(batch) >= 5000:
                    flush()
        flush()
        sys.stderr.write(f"loaded {total} samples of {len(series)} series into both\n")

        hosts_regex = "(dgx-a01|dgx-b01)"
        table = queries(hosts_regex, f"{(end_ms - 1_800_000) / 1000:.3f}")
        cases = []
        for q in table:
            for t in (end_ms, end_ms - 17 * 60_000 + 500):
                cases.append((q, "query", {"query": q, "time": f"{t / 1000:.3f}"}))
            cases.append((q, "query_range", {"query": q, "start": f"{(start_ms + 600_000) / 1000:.3f}",
                                             "end": f"{end_ms / 1000:.3f}", "step": "60"}))
            cases.append((q, "query_range", {"query": q, "start": f"{(start_ms + 599_000) / 1000:.3f}",
                                             "end": f"{(end_ms - 1000) / 1000:.3f}", "step": "37s"}))
        matched, diffs, empty, refused, values = 0, [], 0, 0, 0
        refused_queries = set()
        kept_diffs = []
        for q, kind, params in cases:
            enc = urllib.parse.urlencode(params)
            pc, pb = http(f"http://127.0.0.1:{pport}/api/v1/{kind}?{enc}")
            oc, ob = http(f"http://127.0.0.1:{oport}/prometheus/api/v1/{kind}?{enc}", headers=auth)
            p, o = normalise(pb), normalise(ob)
            ok, why = compare(p, o, ordered=q.startswith("sort"))
            if ok and (pc // 100) != (oc // 100):
                ok, why = False, f"status {pc} vs {oc}"
            kept = next((why for (prefix, k), why in KEPT.items() if q.startswith(prefix) and k == kind), None)
            if not ok and kept:
                kept_diffs.append(f"{kind} {params.get('step')} {q}: {why}")
            elif ok:
                matched += 1
                if p[0] == "error":
                    refused += 1
                    refused_queries.add(f"{q} ({p[1]}, {pc})")
                elif not p[1]:
                    empty += 1
                else:
                    values += sum(len(v) for v in p[1].values())
            else:
                diffs.append(f"{kind} {params.get('time', params.get('step'))} {q}: {why}")
        # The metadata endpoints Grafana's variables use: same answers, same order.
        meta = [("series", {"match[]": "DCGM_FI_DEV_GPU_UTIL"}), ("series", {"match[]": ['{Hostname="dgx-a02"}', 'DCGM_FI_DEV_GPU_TEMP{gpu="1"}']}),
                ("labels", {}), ("labels", {"match[]": "gpu_kernel_duration_seconds_bucket"}),
                ("label/Hostname/values", {}), ("label/__name__/values", {}),
                ("label/gpu/values", {"match[]": 'DCGM_FI_DEV_GPU_UTIL{Hostname="dgx-b01"}'}),
                ("label/instance/values", {"match[]": "DCGM_FI_DEV_GPU_TEMP"}),
                ("label/gpu/values", {"match[]": 'DCGM_FI_DEV_GPU_TEMP{instance="dgx-a01:9400"}'})]
        for path, params in meta:
            enc = urllib.parse.urlencode(params, doseq=True)
            pc, pb = http(f"http://127.0.0.1:{pport}/api/v1/{path}?{enc}")
            oc, ob = http(f"http://127.0.0.1:{oport}/prometheus/api/v1/{path}?{enc}", headers=auth)
            pd, od = json.loads(pb).get("data"), json.loads(ob).get("data")
            if path == "series":
                pd = sorted(json.dumps(x, sort_keys=True) for x in pd)
                od = sorted(json.dumps(x, sort_keys=True) for x in od)
            cases.append((path, path, params))
            if pc == oc and pd == od:
                matched += 1
            else:
                diffs.append(f"{path} {params}: {pc} {str(pd)[:200]} vs {oc} {str(od)[:200]}")
        print(f"PromQL comparison: {matched} of {len(cases)} comparisons match Prometheus 2.42 "
              f"({len(table)} queries x 2 instant + 2 range, and {len(meta)} series/labels/values requests); of the matches {empty} are empty on both sides, "
              f"{refused} refused by both, the rest compare {values} values")
        for r in sorted(refused_queries):
            print("  both refused: " + r)
        if kept_diffs:
            print(f"  {len(kept_diffs)} differences kept on purpose:")
            for d in kept_diffs:
                print("  KEPT " + d)
            for why in sorted({w for (pfx, k), w in KEPT.items()}):
                print("    because: " + why)
        for d in diffs:
            print("  DIFF " + d)
        return 0 if not diffs else 1
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("KEEP_COMPARE_DIR"):
            sys.stderr.write(f"kept {work}\n")
        else:
            shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(main())
