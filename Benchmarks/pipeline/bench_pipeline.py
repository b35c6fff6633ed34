#!/usr/bin/env python3
"""End-to-end ingest throughput of the pipeline: samples/s from a DCGM CSV on disk to samples
stored in the TSDB (queryable), for three shapes of the stack on loopback:

  embedded   one `telemetry run --once` process (streamer -> broker -> collector -> TSDB in-process)
  processes  streamer -> broker -> collector(--data-dir) : three processes
  cluster    streamer -> proxy -> 2 brokers -> 2 collectors -> API (/internal/v1/write) : seven processes

The clock starts when the first process is launched and stops when the stored-sample counter
(collector_samples_written_total, scraped from /metrics every 50 ms) reaches the number of rows
of the input. Every server listens on 127.0.0.1 only and is stopped by PID.

  python3 Benchmarks/pipeline/bench_pipeline.py --csv /tmp/gen-small/dcgm.csv [--modes embedded,processes,cluster]
      [--binary .build/release/telemetry] [--runs 1] [--fsync batch] [--out results.json]
      [--perf DIR]   (perf record -g of every process, one perf.data per process in DIR)

CPU (user+system) and bytes written (wchar: files and sockets) are read from /proc every 50 ms while the stack runs, so a process that exits
early (the streamer) still counts, and is reported per process and per role (digits stripped:
broker0 + broker1 = broker).
"""
VERBOSE = False
import argparse, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def count_rows(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 24)
            if not b: break
            n += b.count(b"\n")
    return n - 1  # header

def scrape(port, name):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except Exception:
        return None
    total = 0.0; seen = False
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1]); seen = True
    return total if seen else None

def wait_http(port, path="/health", timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1).read(); return True
        except Exception:
            time.sleep(0.02)
    raise RuntimeError(f"nothing answers on port {port}{path}")

PERF_DIR = None

def role(name):
    return name.rstrip("0123456789")

class Stack:
    def __init__(self, binary, workdir, env):
        self.binary, self.workdir, self.env, self.procs = binary, workdir, env, []
        self.last_cpu, self.last_io, self.perfs = {}, {}, []
    def start(self, name, args):
        log = open(os.path.join(self.workdir, name + ".log"), "w")
        p = subprocess.Popen([self.binary] + args, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        self.procs.append((name, p))
        if PERF_DIR:
            out = os.path.join(PERF_DIR, f"{name}.perf.data")
            self.perfs.append(subprocess.Popen(["perf", "record", "-g", "-F", "499", "-o", out, "-p", str(p.pid)],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return p
    def sample_cpu(self):
        """Reads every live process's CPU; the last reading of one that has exited is kept."""
        for name, p in self.procs:
            try:
                with open(f"/proc/{p.pid}/stat") as f:
                    parts = f.read().rsplit(")", 1)[1].split()
                if parts[0] != "Z" or name not in self.last_cpu:
                    self.last_cpu[name] = (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
                with open(f"/proc/{p.pid}/io") as f:
                    io = dict(line.split(": ") for line in f.read().splitlines())
                self.last_io[name] = int(io["wchar"])   # bytes written: files, sockets, pipes
            except Exception:
                pass
    def cpu_by_process(self):
        self.sample_cpu()
        return dict(self.last_cpu)
    def cpu_by_role(self):
        out = {}
        for name, v in self.cpu_by_process().items():
            out[role(name)] = out.get(role(name), 0.0) + v
        return out
    def written_by_role(self):
        out = {}
        for name, v in self.last_io.items():
            out[role(name)] = out.get(role(name), 0) + v
        return out
    def cpu_seconds(self):
        by = self.cpu_by_process()
        if VERBOSE:
            print("    CPU s by process: " + ", ".join(f"{k} {v:.1f}" for k, v in by.items()), flush=True)
        return sum(by.values())
    def stop(self):
        for pr in self.perfs:
            if pr.poll() is None: pr.send_signal(signal.SIGINT)
        for pr in self.perfs:
            try: pr.wait(timeout=60)
            except subprocess.TimeoutExpired: pr.kill(); pr.wait()
        for _, p in self.procs:
            if p.poll() is None: p.send_signal(signal.SIGTERM)
        for _, p in self.procs:
            try: p.wait(timeout=15)
            except subprocess.TimeoutExpired: p.kill(); p.wait()

def measure(stack, port, metric, expected, t0, timeout):
    last = 0
    while time.time() - t0 < timeout:
        stack.sample_cpu()
        v = scrape(port, metric) if not callable(port) else port()
        if v is not None:
            last = v
            if v >= expected:
                return time.time() - t0, v
        time.sleep(0.05)
    raise RuntimeError(f"timed out at {last} of {expected} samples")

def run_embedded(a, csv, expected, work):
    env = dict(os.environ, LOG_LEVEL="warning")
    s = Stack(a.binary, work, env); port = free_port()
    t0 = time.time()
    try:
        s.start("run", ["run", "--data-dir", work + "/data", "--csv", csv, "--once", "--timestamps", "original",
                        "--insecure-no-auth", "--listen", f"127.0.0.1:{port}", "--fsync", a.fsync, "--partitions", str(a.partitions)])
        secs, got = measure(s, port, "collector_samples_written_total", expected, t0, a.timeout)
        return secs, got, s.cpu_seconds(), s.cpu_by_role(), s.written_by_role()
    finally:
        s.stop()

def run_processes(a, csv, expected, work):
    env = dict(os.environ, LOG_LEVEL="warning")
    s = Stack(a.binary, work, env); bp, cp = free_port(), free_port()
    t0 = time.time()
    try:
        s.start("broker", ["broker", "--listen", f"127.0.0.1:{bp}", "--data-dir", work + "/broker", "--fsync", a.fsync,
                           "--partitions", str(a.partitions), "--min-free-bytes", "0"])
        wait_http(bp)
        s.start("collector", ["collector", "--broker", f"http://127.0.0.1:{bp}", "--data-dir", work + "/tsdb",
                              "--fsync", a.fsync, "--partition-count", str(a.partitions), "--listen", f"127.0.0.1:{cp}"])
        wait_http(cp)
        s.start("streamer", ["streamer", csv, "--broker", f"http://127.0.0.1:{bp}", "--timestamps", "original",
                             "--partitions", str(a.partitions), "--listen", "off", "--retries", "20"])
        secs, got = measure(s, cp, "collector_samples_written_total", expected, t0, a.timeout)
        return secs, got, s.cpu_seconds(), s.cpu_by_role(), s.written_by_role()
    finally:
        s.stop()

def run_cluster(a, csv, expected, work):
    token = "bench-token"
    env = dict(os.environ, LOG_LEVEL="warning", SERVICE_TOKEN=token)
    s = Stack(a.binary, work, env)
    bps = [free_port(), free_port()]; pp, ap = free_port(), free_port(); cps = [free_port(), free_port()]
    t0 = time.time()
    try:
        s.start("api", ["api", "--listen", f"127.0.0.1:{ap}", "--data-dir", work + "/tsdb", "--insecure-no-auth",
                        "--rate-limit", "0", "--no-access-log", "--fsync", a.fsync])
        for i, bp in enumerate(bps):
            s.start(f"broker{i}", ["broker", "--listen", f"127.0.0.1:{bp}", "--data-dir", f"{work}/broker{i}", "--fsync", a.fsync,
                                   "--partitions", str(a.partitions), "--min-free-bytes", "0"])
        for bp in bps: wait_http(bp)
        s.start("proxy", ["proxy", "--listen", f"127.0.0.1:{pp}", "--brokers", ",".join(f"http://127.0.0.1:{b}" for b in bps)])
        wait_http(pp); wait_http(ap)
        half = a.partitions // 2
        for i, cp in enumerate(cps):
            parts = ",".join(str(p) for p in (range(0, half) if i == 0 else range(half, a.partitions)))
            s.start(f"collector{i}", ["collector", "--broker", f"http://127.0.0.1:{pp}", "--api", f"http://127.0.0.1:{ap}",
                                      "--partitions", parts, "--partition-count", str(a.partitions), "--listen", f"127.0.0.1:{cp}"])
        for cp in cps: wait_http(cp)
        s.start("streamer", ["streamer", csv, "--broker", f"http://127.0.0.1:{pp}", "--timestamps", "original",
                             "--partitions", str(a.partitions), "--listen", "off", "--retries", "20"])
        def total():
            vals = [scrape(cp, "collector_samples_written_total") for cp in cps]
            return None if any(v is None for v in vals) else sum(vals)
        secs, got = measure(s, total, None, expected, t0, a.timeout)
        return secs, got, s.cpu_seconds(), s.cpu_by_role(), s.written_by_role()
    finally:
        s.stop()

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--binary", default=".build/release/telemetry")
    ap.add_argument("--modes", default="embedded,processes,cluster")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--fsync", default="batch")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--out")
    ap.add_argument("--verbose", action="store_true", help="print CPU seconds per process")
    ap.add_argument("--perf", help="directory for one `perf record -g` file per process (last run of a mode wins)")
    a = ap.parse_args()
    global VERBOSE, PERF_DIR
    VERBOSE = a.verbose
    if a.perf:
        os.makedirs(a.perf, exist_ok=True); PERF_DIR = os.path.abspath(a.perf)
    a.binary = os.path.abspath(a.binary)
    expected = count_rows(a.csv)
    print(f"input {a.csv}: {expected:,} samples, {os.path.getsize(a.csv) / 1e9:.2f} GB; binary {a.binary}")
    modes = {"embedded": run_embedded, "processes": run_processes, "cluster": run_cluster}
    results = []
    for mode in a.modes.split(","):
        for r in range(a.runs):
            work = tempfile.mkdtemp(prefix=f"pipe-bench-{mode}-")
            try:
                secs, got, cpu, by_role, written = modes[mode](a, a.csv, expected, work)
                per_role = {k: round(v / got * 1e6, 2) for k, v in sorted(by_role.items())}
                bytes_per_sample = {k: round(v / got) for k, v in sorted(written.items())}
                row = {"mode": mode, "run": r, "samples": int(got), "seconds": round(secs, 3),
                       "samples_per_s": round(got / secs), "cpu_s": round(cpu, 2), "cpu_us_per_sample": round(cpu / got * 1e6, 2),
                       "cpu_us_per_sample_by_role": per_role, "bytes_written_per_sample_by_role": bytes_per_sample}
                results.append(row)
                print(f"{mode:10s} run {r}: {int(got):,} samples in {secs:.2f} s = {got / secs:,.0f} samples/s "
                      f"(CPU {cpu:.1f} s, {cpu / got * 1e6:.2f} us/sample; by role us/sample: "
                      + ", ".join(f"{k} {v:.2f}" for k, v in per_role.items()) + "; bytes written/sample: "
                      + ", ".join(f"{k} {v}" for k, v in bytes_per_sample.items()) + ")", flush=True)
            except Exception as e:
                print(f"{mode:10s} run {r}: FAILED: {e} (logs in {work})", flush=True)
                results.append({"mode": mode, "run": r, "error": str(e)})
                continue
            shutil.rmtree(work, ignore_errors=True)
    if a.out:
        with open(a.out, "w") as f: json.dump({"csv": a.csv, "samples": expected, "results": results}, f, indent=2)

if __name__ == "__main__":
    main()
