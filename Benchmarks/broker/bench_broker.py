#!/usr/bin/env python3
"""Broker throughput vs Redis Streams, side by side in one run, on loopback.

Produce: N records of SIZE bytes in batches of BATCH (ours: POST /produce?batch=1 with
length-prefixed framing; Redis: a pipeline of BATCH XADDs). Consume: ours: one SSE stream
per partition (base64, up to BATCH records per write) plus POST /ack with BATCH ids; Redis:
XREADGROUP COUNT BATCH + XACK of BATCH ids. Every produce/ack is acknowledged by the server
before the next one is sent, so durability matches the fsync policy:

    ours --fsync always  <->  redis appendfsync always
    ours --fsync batch   <->  redis appendfsync everysec  (ours is stronger: acks wait for the group fsync)
    ours --fsync none    <->  redis appendfsync no

Both servers listen on 127.0.0.1 only, keep their data in scratch directories and are
stopped by PID. Usage:

    swift build -c release --product telemetry
    python3 Benchmarks/broker/bench_broker.py --binary .build/release/telemetry [--records 200000]
        [--size 200] [--batch 500] [--partitions 4] [--fsync always,batch] [--json out.json]
"""
import argparse, base64, binascii, statistics, http.client, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time

try:
    import hiredis
    import redis
except ImportError:
    sys.exit("pip install redis hiredis")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def frame(payloads):
    out = bytearray()
    for p in payloads:
        out += len(p).to_bytes(4, "big")
        out += p
    return bytes(out)


class Ours:
    name = "telemetry broker"

    def __init__(self, binary, fsync, scratch):
        self.dir = os.path.join(scratch, "broker-" + fsync)
        self.proc = subprocess.Popen(
            [binary, "broker", "--listen", "127.0.0.1:0", "--data-dir", self.dir, "--fsync", fsync,
             "--min-free-bytes", "0", "--log-level", "warning", "--max-body-bytes", str(64 << 20)],
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            sys.exit(f"broker did not start: {line!r}")
        self.port = int(m.group(1))

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def produce(self, partition, batches):
        c = self.conn()
        for body in batches:
            c.request("POST", f"/produce?topic=bench&partition={partition}&batch=1", body=body,
                      headers={"Content-Type": "application/x-telemetry-batch"})
            r = c.getresponse()
            data = r.read()
            if r.status != 200:
                raise RuntimeError(f"produce: {r.status} {data[:200]!r}")
        c.close()

    def consume(self, partition, count, batch, size):
        stream = self.conn()
        stream.request("GET", f"/consume?topic=bench&partition={partition}&group=bench&encoding=base64&max={batch}")
        resp = stream.getresponse()
        acker = self.conn()
        got, pending, buf = 0, [], b""
        while got < count:
            chunk = resp.read1(1 << 20)
            if not chunk:
                raise RuntimeError("consume stream ended early")
            buf += chunk
            events = buf.split(b"\n\n")
            buf = events.pop()
            for ev in events:
                if not ev.startswith(b"id: "):
                    continue  # comment / heartbeat
                nl = ev.index(b"\n")
                rid = ev[4:nl].decode()
                payload = binascii.a2b_base64(ev[nl + 7:])
                if len(payload) != size:
                    raise RuntimeError("payload size mismatch")
                pending.append(rid)
                got += 1
                if len(pending) >= batch or got == count:
                    acker.request("POST", f"/ack?topic=bench&partition={partition}&group=bench",
                                  body=json.dumps({"ids": pending}), headers={"Content-Type": "application/json"})
                    r = acker.getresponse()
                    r.read()
                    if r.status != 200:
                        raise RuntimeError(f"ack: {r.status}")
                    pending = []
        stream.close()
        acker.close()

    def disk_bytes(self):
        total = 0
        for root, _, files in os.walk(self.dir):
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
        return total

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class OursViaProxy(Ours):
    """`telemetry proxy` in front of BROKERS brokers; the client talks to the proxy only."""
    name = "proxy+brokers"

    def __init__(self, binary, fsync, scratch, brokers):
        self.brokers = [Ours(binary, fsync, os.path.join(scratch, f"b{i}")) for i in range(brokers)]
        self.name = f"proxy+{brokers} brokers"
        urls = ",".join(f"http://127.0.0.1:{b.port}" for b in self.brokers)
        self.proc = subprocess.Popen([binary, "proxy", "--listen", "127.0.0.1:0", "--brokers", urls, "--log-level", "warning",
                                      "--max-body-bytes", str(64 << 20)], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            sys.exit(f"proxy did not start: {line!r}")
        self.port = int(m.group(1))

    def stop(self):
        super().stop()
        for b in self.brokers:
            b.stop()


class Redis:
    name = "redis streams"
    FSYNC = {"always": "always", "batch": "everysec", "none": "no"}

    def __init__(self, fsync, scratch):
        self.dir = os.path.join(scratch, "redis-" + fsync)
        os.makedirs(self.dir)
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", self.FSYNC[fsync], "--save", "", "--daemonize", "no",
             "--protected-mode", "yes", "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL)
        for _ in range(200):
            try:
                redis.Redis(port=self.port).ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)

    @staticmethod
    def encode_xadds(key, payloads):
        """A pipeline of XADDs as raw RESP, encoded before the clock starts (as our framing is)."""
        k = key.encode()
        out = bytearray()
        for p in payloads:
            out += b"*5\r\n$4\r\nXADD\r\n$%d\r\n%s\r\n$1\r\n*\r\n$1\r\nd\r\n$%d\r\n" % (len(k), k, len(p))
            out += p + b"\r\n"
        return bytes(out)

    def produce(self, partition, batches):
        """Sends each pre-encoded pipeline and reads all its replies (hiredis parser) before the next."""
        key = f"bench:{partition}"
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = hiredis.Reader()
        for encoded, n in batches:
            sock.sendall(encoded)
            got = 0
            while got < n:
                data = sock.recv(1 << 20)
                if not data:
                    raise RuntimeError("redis closed the connection")
                reader.feed(data)
                while True:
                    reply = reader.gets()
                    if reply is False:
                        break
                    if isinstance(reply, hiredis.ReplyError):
                        raise RuntimeError(f"XADD: {reply}")
                    got += 1
        sock.close()

    def consume(self, partition, count, batch, size):
        r = redis.Redis(port=self.port)
        key = f"bench:{partition}"
        try:
            r.xgroup_create(key, "bench", id="0")
        except redis.exceptions.ResponseError:
            pass
        got = 0
        while got < count:
            resp = r.xreadgroup("bench", "c1", {key: ">"}, count=batch, block=5000)
            if not resp:
                raise RuntimeError("redis consume timed out")
            entries = resp[0][1]
            ids = []
            for eid, fields in entries:
                if len(fields[b"d"]) != size:
                    raise RuntimeError("payload size mismatch")
                ids.append(eid)
            r.xack(key, "bench", *ids)
            got += len(ids)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def run_phase(fn, partitions):
    errors = []

    def wrap(p):
        try:
            fn(p)
        except Exception as e:  # noqa: BLE001 - report any failure of a worker
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(p,)) for p in range(partitions)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def bench(server, args, payloads):
    per = args.records // args.partitions
    framed = isinstance(server, Ours)
    batches = []
    for i in range(0, per, args.batch):
        chunk = payloads[i:i + args.batch]
        batches.append(frame(chunk) if framed else chunk)
    if not framed:  # pre-encode per partition: each stream has its own key
        per_partition = {p: [(Redis.encode_xadds(f"bench:{p}", c), len(c)) for c in batches] for p in range(args.partitions)}
        produce_s = run_phase(lambda p: server.produce(p, per_partition[p]), args.partitions)
        consume_s = run_phase(lambda p: server.consume(p, per, args.batch, args.size), args.partitions)
        n = per * args.partitions
        mb = n * args.size / 1e6
        return {"produce_rps": n / produce_s, "produce_mbps": mb / produce_s,
                "consume_rps": n / consume_s, "consume_mbps": mb / consume_s, "records": n}
    produce_s = run_phase(lambda p: server.produce(p, batches), args.partitions)
    consume_s = run_phase(lambda p: server.consume(p, per, args.batch, args.size), args.partitions)
    n = per * args.partitions
    mb = n * args.size / 1e6
    return {"produce_rps": n / produce_s, "produce_mbps": mb / produce_s,
            "consume_rps": n / consume_s, "consume_mbps": mb / consume_s, "records": n}


def main():  # noqa: C901 - a linear script
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=".build/release/telemetry")
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--partitions", type=int, default=4, help="one producer and one consumer thread per partition/stream")
    ap.add_argument("--fsync", default="always,batch")
    ap.add_argument("--via-proxy", type=int, default=0, metavar="BROKERS",
                    help="also measure through `telemetry proxy` in front of BROKERS brokers")
    ap.add_argument("--repeat", type=int, default=3, help="runs per server and policy, alternating; the median is reported")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("redis-server not found: apt-get install redis-server")
    payloads = [os.urandom(args.size) for _ in range(args.records // args.partitions)]
    results = []
    scratch = tempfile.mkdtemp(prefix="bench-broker-")
    load = os.getloadavg()[0]
    print(f"load average before: {load:.2f} on {os.cpu_count()} CPUs"
          + ("  (busy host: compare only quiet runs)" if load > 0.5 * (os.cpu_count() or 1) else ""), flush=True)
    try:
        for fsync in args.fsync.split(","):
            makers = [lambda: Ours(args.binary, fsync, os.path.join(scratch, f"o{len(results)}-{time.time_ns()}")),
                      lambda: Redis(fsync, os.path.join(scratch, f"r{len(results)}-{time.time_ns()}"))]
            if args.via_proxy:
                makers.append(lambda: OursViaProxy(args.binary, fsync, os.path.join(scratch, f"p{time.time_ns()}"), args.via_proxy))
            runs = [[] for _ in makers]
            for _ in range(args.repeat):
                for i, make in enumerate(makers):
                    server = make()
                    try:
                        r = bench(server, args, payloads)
                    finally:
                        server.stop()
                    r.update(server=server.name, fsync=fsync if isinstance(server, Ours) else "appendfsync " + Redis.FSYNC[fsync])
                    runs[i].append(r)
                    print(f"  run: {r['server']:<17} {r['fsync']:<22} produce {r['produce_rps']:>10,.0f} rec/s"
                          f"   consume+ack {r['consume_rps']:>10,.0f} rec/s", flush=True)
            for rs in runs:
                med = dict(rs[0])
                for k in ("produce_rps", "produce_mbps", "consume_rps", "consume_mbps"):
                    med[k] = statistics.median(x[k] for x in rs)
                med["runs"] = rs
                results.append(med)
                print(f"{med['server']:<17} {med['fsync']:<22} produce {med['produce_rps']:>10,.0f} rec/s {med['produce_mbps']:>7.1f} MB/s"
                      f"   consume+ack {med['consume_rps']:>10,.0f} rec/s {med['consume_mbps']:>7.1f} MB/s   (median of {len(rs)})", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    step = 3 if args.via_proxy else 2
    for i in range(0, len(results), step):
        ours, red = results[i], results[i + 1]
        print(f"fsync {ours['fsync']:<7} ratio ours/redis (medians): produce {ours['produce_rps'] / red['produce_rps']:.2f}x,"
              f" consume+ack {ours['consume_rps'] / red['consume_rps']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
