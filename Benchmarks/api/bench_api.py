#!/usr/bin/env python3
"""bench_api.py - wrk benchmark of the API against VictoriaMetrics, side by side, same data.

Two workloads, each answered by both servers with the same data:
  telemetry  one GPU, one metric, one hour of 1 s data (3,600 raw points):
             ours  GET /api/v1/gpus/{uuid}/telemetry?metric=M&start_time=..&end_time=..&limit=100000
             VM    GET /api/v1/query_range?query=M{uuid="U"}&start=..&end=..&step=1s
  grafana    8 GPUs (one host) x 24 h downsampled to 1,000 points (avg per bucket):
             ours  POST /grafana/query {range, maxDataPoints: 1000, targets:[{target: M, payload:{hostname}}]}
             VM    GET /api/v1/query_range?query=avg_over_time(M{Hostname="H"}[S])&step=S
For each: wrk -t2 -c8 -d<secs> --latency; reports requests/s, p50, p99; answers are
checked (point counts) before timing. Data: gen_dcgm.py from ../shared/bench (1 host x 8
GPUs x 86,400 ticks at 1 s = 8.3 M points) imported into ours with `telemetry import`
and into VictoriaMetrics through its Influx /write.

Usage: Benchmarks/api/run.sh  (see there for the environment knobs)
"""
import argparse, json, os, re, shutil, signal, socket, subprocess, sys, time, urllib.parse
import requests

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait_http(url, proc, timeout=60, headers=None):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early: {proc.args}")
        try:
            if requests.get(url, headers=headers, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timeout waiting for {url}")

def wrk(url, seconds, threads, conns, body=None, headers=(), workdir="."):
    script = os.path.join(workdir, "req.lua")
    lines = []
    if body is not None:
        lines.append('wrk.method = "POST"')
        lines.append("wrk.body = " + json.dumps(body))
    for k, v in headers:
        lines.append(f'wrk.headers["{k}"] = "{v}"')
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return None
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"rps": rps, "p50_ms": ms("50"), "p99_ms": ms("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(0) if errors else "", "raw": out}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", default="/tmp/apibench-work")
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--out", default="")
    ap.add_argument("--skip-vm", action="store_true")
    a = ap.parse_args()
    manifest = json.load(open(os.path.join(a.data, "manifest.json")))
    os.makedirs(a.work, exist_ok=True)
    procs = []
    def stop_all():
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try: p.wait(30)
                except subprocess.TimeoutExpired: p.kill()
    try:
        # --- ours
        ours_dir = os.path.join(a.work, "ours")
        stamp = os.path.join(ours_dir, ".imported-" + str(manifest["points"]))
        if not os.path.exists(stamp):
            shutil.rmtree(ours_dir, ignore_errors=True)
            t = time.time()
            subprocess.run([a.bin, "import", "--data-dir", ours_dir, "--quiet", manifest["files"]["csv"]["path"]], check=True)
            print(f"ours: imported {manifest['points']} points in {time.time() - t:.1f}s", file=sys.stderr)
            open(stamp, "w").close()
        key = "bench-key"
        port = free_port()
        ours = subprocess.Popen([a.bin, "api", "--listen", f"127.0.0.1:{port}", "--data-dir", ours_dir, "--api-key", key,
                                 "--rate-limit", "0", "--no-access-log", "--log-level", "warning"])
        procs.append(ours)
        ours_url = f"http://127.0.0.1:{port}"
        wait_http(ours_url + "/health", ours)
        # --- VictoriaMetrics
        vm_url = None
        if not a.skip_vm:
            vm_dir = os.path.join(a.work, "vm")
            vm_port = free_port()
            vm_stamp = os.path.join(vm_dir, ".imported-" + str(manifest["points"]))
            fresh = not os.path.exists(vm_stamp)
            if fresh:
                shutil.rmtree(vm_dir, ignore_errors=True)
            os.makedirs(vm_dir, exist_ok=True)
            vm = subprocess.Popen(["victoria-metrics", f"-httpListenAddr=127.0.0.1:{vm_port}", f"-storageDataPath={vm_dir}/data",
                                   "-retentionPeriod=100y", "-influxSkipSingleField", "-search.disableCache",
                                   "-graphiteListenAddr=", "-influxListenAddr=", "-opentsdbListenAddr=", "-opentsdbHTTPListenAddr="],
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(vm_dir, "vm.log"), "a"))
            procs.append(vm)
            vm_url = f"http://127.0.0.1:{vm_port}"
            wait_http(vm_url + "/health", vm)
            if fresh:
                t = time.time()
                with open(manifest["files"]["lp"]["path"], "rb") as f:
                    while True:
                        chunk = f.read(64 << 20)
                        if not chunk: break
                        rest = f.readline()
                        r = requests.post(vm_url + "/write?precision=ms", data=chunk + rest, timeout=600)
                        r.raise_for_status()
                requests.get(vm_url + "/internal/force_flush", timeout=60)
                print(f"vm: imported in {time.time() - t:.1f}s", file=sys.stderr)
                open(vm_stamp, "w").close()
        # --- workloads
        metric = "DCGM_FI_DEV_GPU_UTIL"
        q1 = manifest["queries"]["q1"]
        uuid, host = q1["uuid"], q1["hostname"]
        s_ms, e_ms = q1["start_ms"], q1["end_ms"]
        rfc = lambda ms: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)
        tel_path = (f"/api/v1/gpus/{uuid}/telemetry?metric={metric}&start_time={urllib.parse.quote(rfc(s_ms))}"
                    f"&end_time={urllib.parse.quote(rfc(e_ms))}&limit=100000")
        r = requests.get(ours_url + tel_path, headers={"X-API-Key": key}, timeout=60).json()
        assert r["count"] == q1["expect_count"], f"ours telemetry count {r['count']} != {q1['expect_count']}"
        r0, r1 = manifest["range_start_ms"], manifest["range_end_ms"]
        gbody = json.dumps({"range": {"from": rfc(r0), "to": rfc(r1 - 1)}, "maxDataPoints": 1000, "intervalMs": 1000,
                            "targets": [{"target": metric, "refId": "A", "payload": {"hostname": host, "agg": "avg"}}]})
        g = requests.post(ours_url + "/grafana/query", data=gbody, headers={"X-API-Key": key, "Content-Type": "application/json"}, timeout=60).json()
        assert len(g) == 8 and all(900 <= len(s["datapoints"]) <= 1001 for s in g), [len(s["datapoints"]) for s in g]
        step_s = -(-(r1 - r0) // 1000 // 1000)
        results = {"ours": {}, "victoria-metrics": {}}
        auth = [("X-API-Key", key)]
        results["ours"]["telemetry"] = wrk(ours_url + tel_path, a.seconds, a.threads, a.conns, headers=auth, workdir=a.work)
        results["ours"]["grafana"] = wrk(ours_url + "/grafana/query", a.seconds, a.threads, a.conns, body=gbody,
                                         headers=auth + [("Content-Type", "application/json")], workdir=a.work)
        if vm_url:
            vq1 = vm_url + "/api/v1/query_range?" + urllib.parse.urlencode(
                {"query": f'{metric}{{uuid="{uuid}"}}', "start": s_ms / 1000, "end": e_ms / 1000, "step": "1s"})
            vr = requests.get(vq1, timeout=60).json()
            vcount = sum(len(x["values"]) for x in vr["data"]["result"])
            vq2 = vm_url + "/api/v1/query_range?" + urllib.parse.urlencode(
                {"query": f'avg_over_time({metric}{{Hostname="{host}"}}[{step_s}s])', "start": r0 / 1000,
                 "end": (r1 - 1) / 1000, "step": f"{step_s}s"})
            vg = requests.get(vq2, timeout=60).json()["data"]["result"]
            results["victoria-metrics"]["answers"] = {"telemetry_points": vcount, "grafana_series": len(vg),
                                                      "grafana_points": [len(x["values"]) for x in vg]}
            results["victoria-metrics"]["telemetry"] = wrk(vq1, a.seconds, a.threads, a.conns, workdir=a.work)
            results["victoria-metrics"]["grafana"] = wrk(vq2, a.seconds, a.threads, a.conns, workdir=a.work)
        results["ours"]["answers"] = {"telemetry_points": r["count"], "grafana_series": len(g),
                                      "grafana_points": [len(s["datapoints"]) for s in g]}
        print("| server | workload | req/s | p50 ms | p99 ms | non-2xx |")
        print("|---|---|---:|---:|---:|---:|")
        for server, rows in results.items():
            for w in ("telemetry", "grafana"):
                if w in rows:
                    x = rows[w]
                    print(f"| {server} | {w} | {x['rps']:.0f} | {x['p50_ms']:.2f} | {x['p99_ms']:.2f} | {x['non2xx']} |")
        for server, rows in results.items():
            if "answers" in rows:
                print(f"{server} answers: {rows['answers']['telemetry_points']} telemetry points; grafana "
                      f"{rows['answers']['grafana_series']} series of {min(rows['answers']['grafana_points'] or [0])}-"
                      f"{max(rows['answers']['grafana_points'] or [0])} points")
        if a.out:
            for rows in results.values():
                for w in ("telemetry", "grafana"):
                    if w in rows: rows[w].pop("raw", None)
            json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "binary": a.bin, "wrk": {
                "threads": a.threads, "connections": a.conns, "seconds": a.seconds}, "results": results}, open(a.out, "w"), indent=2)
    finally:
        stop_all()

if __name__ == "__main__":
    main()
