#!/usr/bin/env python3
"""PromQL side by side: the same queries against our /prometheus API, VictoriaMetrics 1.79 and
Prometheus 2.42, on the peer harness' data set (gen_dcgm.py's defaults: 16 hosts x 8 GPUs x
12 metrics x 6,500 ticks at 1 s).

    python3 Benchmarks/promql/bench_promql.py --data /tmp/peerbench-data --runs 10
    python3 Benchmarks/promql/bench_promql.py --data DIR --quiet-cmd "taskset -c 1"   # timing phase under a wrapper

Loading goes through the peer harness (../shared/bench/bench_peers.py, imported as a module:
its VictoriaMetrics and Prometheus adapters, and ours from Benchmarks/peers/telemetry_adapter.py).
Every server listens on 127.0.0.1 and is stopped by PID at the end. The timing phase runs each
query of each class --warmup times untimed, then --runs times per peer (peers interleaved
query by query, so drifting load hits all alike), and reports per query and per class the
p50 and the ratio ours / VictoriaMetrics. With --quiet-cmd the timing phase runs as a child
process under that wrapper (for example a tool that waits for the machine to be idle).
Answers are compared (series count of each query) so a fast wrong answer shows.
"""

import argparse
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_HARNESS = "/work/shared/bench"


def load_harness(path):
    sys.path.insert(0, path)
    import bench_peers  # noqa: E402  (the harness is a sibling checkout, not a package)
    spec = importlib.util.spec_from_file_location("telemetry_adapter",
                                                  os.path.join(ROOT, "Benchmarks", "peers", "telemetry_adapter.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    bench_peers.ADAPTERS.update(mod.ADAPTERS)
    return bench_peers


def s(ms):
    return "%d.%03d" % (ms // 1000, ms % 1000)


def query_table(m):
    """(class, name, path, params) for every timed request. Range queries cover the last hour
    of the data at a 15 s step (240 points, a Grafana panel's default), instant ones its end."""
    end = m["range_end_ms"] - m["range_end_ms"] % 1000
    start = end - 3600 * 1000
    host = m["queries"]["q2"]["hostname"]
    rng = {"start": s(start), "end": s(end), "step": "15"}
    inst = {"time": s(end)}
    Q = []

    def q(cls, name, expr, params):
        Q.append((cls, name, "/api/v1/query_range" if "step" in params else "/api/v1/query", dict(params, query=expr)))

    q("selector", "one host, range", 'DCGM_FI_DEV_GPU_UTIL{Hostname="%s"}' % host, rng)
    q("selector", "all GPUs, instant", "DCGM_FI_DEV_GPU_TEMP", inst)
    q("selector", "regex, range", 'DCGM_FI_DEV_POWER_USAGE{gpu_id=~"0|1"}', rng)
    q("rate/increase", "rate 1m, range", "rate(DCGM_FI_DEV_POWER_USAGE[1m])", rng)
    q("rate/increase", "increase 1h, instant", "increase(DCGM_FI_DEV_PCIE_TX_THROUGHPUT[1h])", inst)
    q("*_over_time", "avg_over_time 5m, range", "avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m])", rng)
    q("*_over_time", "max_over_time 1h, instant", "max_over_time(DCGM_FI_DEV_GPU_TEMP[1h])", inst)
    q("aggregation by host", "avg by host, range", "avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL)", rng)
    q("aggregation by host", "sum by host of power, range", "sum by (Hostname) (DCGM_FI_DEV_POWER_USAGE)", rng)
    q("topk", "topk 5 temp, range", "topk(5, DCGM_FI_DEV_GPU_TEMP)", rng)
    q("topk", "top-5 hottest per host, instant", "topk by (Hostname) (5, DCGM_FI_DEV_GPU_TEMP)", inst)
    q("binary ops", "FB used %, range",
      "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) * 100", rng)
    q("binary ops", "idle-but-allocated, range", 'DCGM_FI_DEV_GPU_UTIL{pod!=""} < 5', rng)
    q("binary ops", "bool comparison, instant", "DCGM_FI_DEV_GPU_TEMP > bool 60", inst)
    win = {"start": s(start), "end": s(end)}
    Q.append(("labels/series", "label values Hostname", "/api/v1/label/Hostname/values",
              dict(win, **{"match[]": "DCGM_FI_DEV_GPU_UTIL"})))
    Q.append(("labels/series", "labels", "/api/v1/labels", dict(win)))
    Q.append(("labels/series", "series one metric", "/api/v1/series", dict(win, **{"match[]": "DCGM_FI_DEV_GPU_UTIL"})))
    return Q


def answer_shape(body):
    d = json.loads(body)
    if d.get("status") != "success":
        return "error: %s" % d.get("error")
    data = d["data"]
    if isinstance(data, list):
        return "%d items" % len(data)
    res = data["result"]
    if data["resultType"] == "matrix":
        return "%d series, %d points" % (len(res), sum(len(x["values"]) for x in res))
    if data["resultType"] == "vector":
        return "%d series" % len(res)
    return data["resultType"]


def time_phase(state, runs, warmup, log):
    import requests
    table = query_table(state["manifest"])
    sessions = {p: requests.Session() for p in state["peers"]}
    times = {p: {} for p in state["peers"]}
    shapes = {p: {} for p in state["peers"]}
    for cls, name, path, params in table:
        for p, base in state["peers"].items():
            for _ in range(warmup):
                r = sessions[p].get(base + path, params=params, timeout=600)
            shapes[p][name] = answer_shape(r.content) if r.status_code == 200 else "HTTP %d %s" % (
                r.status_code, r.text[:200])
        for _ in range(runs):
            for p, base in state["peers"].items():
                t0 = time.perf_counter()
                r = sessions[p].get(base + path, params=params, timeout=600)
                _ = r.content
                times[p].setdefault(name, []).append((time.perf_counter() - t0) * 1000)
        log("%-20s %-34s %s" % (cls, name, "  ".join("%s %.2f ms" % (p, statistics.median(times[p][name]))
                                                      for p in state["peers"])))
    return table, times, shapes


def report(table, times, shapes, peers):
    ours, ref = "telemetry", "victoria-metrics"
    lines = []
    hdr = "| class | query | " + " | ".join("%s p50 ms" % p for p in peers)
    if ours in peers and ref in peers:
        hdr += " | ours/VM"
    lines.append(hdr + " |")
    lines.append("|" + "---|" * (len(hdr.split("|")) - 2))
    classes = []
    for cls, name, _, _ in table:
        if cls not in classes:
            classes.append(cls)
        row = "| %s | %s | " % (cls, name) + " | ".join("%.2f" % statistics.median(times[p][name]) for p in peers)
        if ours in peers and ref in peers:
            row += " | %.2f" % (statistics.median(times[ours][name]) / statistics.median(times[ref][name]))
        lines.append(row + " |")
    summary = {}
    for cls in classes:
        names = [n for c, n, _, _ in table if c == cls]
        # The class' time per run is the sum of its queries; p50 over the runs.
        per = {p: statistics.median([sum(times[p][n][k] for n in names) for k in range(len(times[p][names[0]]))])
               for p in peers}
        summary[cls] = per
    lines.append("")
    lines.append("| class | " + " | ".join("%s p50 ms" % p for p in peers) +
                 (" | ours/VM | goal <= 0.5" if ours in peers and ref in peers else "") + " |")
    lines.append("|" + "---|" * (len(peers) + 1 + (2 if ours in peers and ref in peers else 0)))
    for cls, per in summary.items():
        row = "| %s | " % cls + " | ".join("%.2f" % per[p] for p in peers)
        if ours in peers and ref in peers:
            ratio = per[ours] / per[ref]
            row += " | %.2f | %s" % (ratio, "met" if ratio <= 0.5 else "missed")
        lines.append(row + " |")
    mismatches = []
    for _, name, _, _ in table:
        got = {p: shapes[p][name] for p in peers}
        if len(set(got.values())) > 1:
            mismatches.append("%s: %s" % (name, got))
    return "\n".join(lines), summary, mismatches


def write_report(args, state, got, versions, log):
    table = query_table(state["manifest"])
    text, summary, mismatches = report(table, got["times"], got["shapes"], list(state["peers"]))
    print(text)
    for mm in mismatches:
        print("answer shapes differ: " + mm)
    out = args.out or os.path.join(HERE, "results", "promql-%s.json" % time.strftime("%Y%m%d-%H%M%S", time.gmtime()))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"runs": args.runs, "warmup": args.warmup, "data": args.data, "points": state["manifest"]["points"],
                   "queries": [list(x) for x in table], "times_ms": got["times"], "shapes": got["shapes"],
                   "class_p50_ms": summary, "mismatches": mismatches, "versions": versions}, f, indent=1)
    log("wrote %s" % out)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phase", nargs="?", default="all", choices=["all", "time", "report"],
                    help="all: load, time, stop; time: only time the servers listed in --state; "
                         "report: print and save what the last 'time' of --state measured")
    ap.add_argument("--data", default="/tmp/peerbench-data")
    ap.add_argument("--harness", default=DEFAULT_HARNESS, help="directory of bench_peers.py")
    ap.add_argument("--peers", default="telemetry,victoria-metrics,prometheus")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--state", default=None, help="JSON naming the running servers (written by 'all')")
    ap.add_argument("--quiet-cmd", default=None, help="run the timing phase under this wrapper command")
    ap.add_argument("--out", default=None, help="results JSON (default Benchmarks/promql/results/promql-<UTC>.json)")
    ap.add_argument("--hold", action="store_true", help="after loading, keep the servers up until Ctrl-C or SIGTERM")
    # settings the harness' adapters read
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--batch-lines", type=int, default=5000)
    ap.add_argument("--settle-timeout", type=float, default=900)
    args = ap.parse_args()

    def log(msg):
        print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)

    if args.phase == "time":
        with open(args.state) as f:
            state = json.load(f)
        table, times, shapes = time_phase(state, args.runs, args.warmup, log)
        with open(args.state + ".times", "w") as f:
            json.dump({"times": times, "shapes": shapes}, f)
        return 0

    if args.phase == "report":
        with open(args.state) as f:
            state = json.load(f)
        with open(args.state + ".times") as f:
            got = json.load(f)
        return write_report(args, state, got, versions={}, log=log)

    # SIGTERM (how a held run is ended) unwinds through the finally below, stopping the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bp = load_harness(args.harness)
    ds = bp.Dataset(args.data)
    ctx = bp.Context(args, ds)
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    prefixes = {"telemetry": "/prometheus"}
    adapters, state = {}, {"manifest": ds.manifest, "peers": {}}
    try:
        for p in peers:
            a = bp.ADAPTERS[p](ctx)
            adapters[p] = a
            a.setup()
            t0 = time.time()
            a.ingest(ds)
            a.settle()
            log("%s loaded in %.0f s" % (p, time.time() - t0))
            state["peers"][p] = a.api + prefixes.get(p, "")
        state_path = args.state or "/tmp/bench-promql-state.json"
        with open(state_path, "w") as f:
            json.dump(state, f)
        if args.hold:
            log("servers up (state %s); Ctrl-C or SIGTERM stops them" % state_path)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
        cmd = [sys.executable, os.path.abspath(__file__), "time", "--state", state_path,
               "--runs", str(args.runs), "--warmup", str(args.warmup)]
        if args.quiet_cmd:
            cmd = args.quiet_cmd.split() + cmd
        subprocess.run(cmd, check=True)
        with open(state_path + ".times") as f:
            got = json.load(f)
        return write_report(args, state, got, {p: adapters[p].version() for p in adapters}, log)
    finally:
        for a in adapters.values():
            try:
                a.teardown()
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                log("teardown of %s: %s" % (a.name, e))


if __name__ == "__main__":
    sys.exit(main())
