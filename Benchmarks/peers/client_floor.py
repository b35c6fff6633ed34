"""How much of a query's time in ../shared/bench/bench_peers.py is the client's own.

The harness times each query as one `requests.Session().get(...)` plus reading the body, in
Python. A request that does nothing on the server still costs that client its floor, and a
ratio goal (ours at most 0.5x VictoriaMetrics') cannot be met below that floor. This script
serves the data sets a harness run kept (`--keep-data`) from both servers again and times,
interleaved in one loop with the harness' own query code (our adapter and the harness'
VictoriaMetrics adapter), each of Q1-Q4 and a request that does no work (`/ping` on ours,
`/health` on VictoriaMetrics):

    python3 ../shared/bench/bench_peers.py --data DATA --adapter Benchmarks/peers/telemetry_adapter.py \\
        --peers telemetry-http,victoria-metrics --keep-data
    PYTHONPATH=../shared/bench python3 Benchmarks/peers/client_floor.py --data DATA --runs 200

It prints, per peer, the median of each probe and the median minus the no-op request (the
server's work and the transfer of its answer), and writes them as JSON with --out.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_peers import VictoriaMetricsAdapter  # noqa: E402
from telemetry_adapter import TelemetryAdapter, free_port, ROOT  # noqa: E402


def client(cls, url):
    """One of the harness' adapters, for its query code only (no server of its own)."""
    a = object.__new__(cls)
    a.session = requests.Session()
    a.api = url
    return a


def wait_ready(url, proc, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %d before it was ready" % (what, proc.returncode))
        try:
            if requests.get(url, timeout=2).status_code < 300:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("%s not ready within %d s" % (what, timeout))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the directory gen_dcgm.py wrote (its manifest.json has the queries)")
    ap.add_argument("--ours-data", default="/tmp/peerbench-telemetry-http/data", help="our data directory kept by the harness")
    ap.add_argument("--vm-data", default="/tmp/peerbench-victoria-metrics/data", help="VictoriaMetrics' data kept by the harness")
    ap.add_argument("--runs", type=int, default=200, help="timed rounds; each round runs every probe once on both peers")
    ap.add_argument("--warmup", type=int, default=20, help="untimed rounds first")
    ap.add_argument("--out", help="write the medians as JSON here")
    args = ap.parse_args()
    with open(os.path.join(args.data, "manifest.json")) as f:
        specs = json.load(f)["queries"]
    for d in (args.ours_data, args.vm_data):
        if not os.path.isdir(d):
            sys.exit("%s is missing: run the harness with --keep-data first" % d)

    binary = os.environ.get("TELEMETRY_BIN") or os.path.join(ROOT, ".build", "release", "telemetry")
    ours_port, vm_port = free_port(), free_port()
    ours_url, vm_url = "http://127.0.0.1:%d" % ours_port, "http://127.0.0.1:%d" % vm_port
    procs = []
    try:
        procs.append(subprocess.Popen([binary, "api", "--listen", "127.0.0.1:%d" % ours_port, "--data-dir", args.ours_data,
                                       "--insecure-no-auth", "--rate-limit", "0"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_ready(ours_url + "/ready", procs[-1], "telemetry api")
        procs.append(subprocess.Popen(["victoria-metrics", "-httpListenAddr=127.0.0.1:%d" % vm_port,
                                       "-storageDataPath=%s" % args.vm_data, "-retentionPeriod=100y",
                                       "-search.disableCache", "-influxListenAddr=", "-graphiteListenAddr=",
                                       "-opentsdbListenAddr=", "-opentsdbHTTPListenAddr="],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_ready(vm_url + "/health", procs[-1], "victoria-metrics")

        peers = {"telemetry": (client(TelemetryAdapter, ours_url), "/ping"),
                 "victoria-metrics": (client(VictoriaMetricsAdapter, vm_url), "/health")}
        probes = ["noop", "q1", "q2", "q3", "q4"]
        times = {p: {q: [] for q in probes} for p in peers}
        for i in range(args.warmup + args.runs):
            for name, (a, noop) in peers.items():
                for q in probes:
                    t = time.perf_counter()
                    if q == "noop":
                        r = a.session.get(a.api + noop, timeout=60)
                        _ = r.content
                        if r.status_code >= 300:
                            raise RuntimeError("%s %s -> HTTP %d" % (name, noop, r.status_code))
                    else:
                        a.query(q, specs[q])
                    if i >= args.warmup:
                        times[name][q].append((time.perf_counter() - t) * 1000)
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)

    result = {name: {q: round(statistics.median(v), 3) for q, v in qs.items()} for name, qs in times.items()}
    print("median ms over %d interleaved rounds (Python requests.Session, as the harness)" % args.runs)
    print("%-18s %8s %8s %8s %8s %8s" % ("peer", *probes))
    for name, m in result.items():
        print("%-18s %8.3f %8.3f %8.3f %8.3f %8.3f" % (name, *(m[q] for q in probes)))
        print("%-18s %8s %8.3f %8.3f %8.3f %8.3f" % ("  minus no-op", "", *(m[q] - m["noop"] for q in probes[1:])))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"runs": args.runs, "median_ms": result}, f, indent=1)


if __name__ == "__main__":
    main()
