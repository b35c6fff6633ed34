#!/usr/bin/env bash
# A real client nobody here wrote: the `influxdb` Python client (PyPI) creates its database and
# writes line protocol to `telemetry api` (/write, with the API key as the Basic-auth password
# as InfluxDB v1 clients send it, plain and gzip-compressed), and the points are read back through /api/v1/query and compared exactly
# (timestamps to the nanosecond, values bit for bit, tags as labels). About 10 s.
#
# Usage: Tests/APIServerTests/influx_client.sh   (from the repository root)
# Env:   TELEMETRY_BIN (default .build/debug/telemetry)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${TELEMETRY_BIN:-$ROOT/.build/debug/telemetry}
KEY=influx-key-$RANDOM$RANDOM

if [ ! -x "$BIN" ]; then swift build --product telemetry >&2; fi
if ! python3 -c 'import influxdb, requests' >/dev/null 2>&1; then python3 -m pip install -q "influxdb==5.3.2" requests >&2; fi

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$BIN" api --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --api-key "$KEY" --rate-limit 0 --no-access-log >"$WORK/api.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/api.log" >&2; exit 1; fi
    sleep 0.1
done

PORT=$PORT KEY=$KEY python3 - <<'PY'
import os, random, struct, sys
import requests
from influxdb import InfluxDBClient

port, key = int(os.environ["PORT"]), os.environ["KEY"]
base = f"http://127.0.0.1:{port}"
rng = random.Random(20250718)
client = InfluxDBClient(host="127.0.0.1", port=port, username="telegraf", password=key, database="telemetry")
# What applications call first: POST /query?q=CREATE DATABASE "telemetry"&u=…&p=<key>.
client.create_database("telemetry")
# The same client with gzip=True sends Content-Encoding: gzip, as Telegraf does by default.
gz = InfluxDBClient(host="127.0.0.1", port=port, username="telegraf", password=key, database="telemetry", gzip=True)
assert gz.write_points([{"measurement": "gz_probe", "tags": {"host": "node-1", "gpu": "0"}, "time": 1752871401, "fields": {"value": 2.5}}],
                       time_precision="s"), "gzip write_points failed"

# 3 GPUs x 50 points at nanosecond precision, values with full float64 precision.
t0 = 1_752_871_354_123_456_789
expected = {}
points = []
for gpu in range(3):
    for i in range(50):
        ts = t0 + i * 1_000_000_007
        value = rng.uniform(0, 700)
        temp = rng.randint(30, 90)
        points.append({"measurement": "gpu_power", "tags": {"host": "node-1", "gpu": str(gpu)},
                       "time": ts, "fields": {"value": value, "temp": temp}})
        expected.setdefault(("gpu_power", str(gpu)), []).append((ts, value))
        expected.setdefault(("gpu_power_temp", str(gpu)), []).append((ts, float(temp)))
assert client.write_points(points, time_precision="n", batch_size=60), "write_points failed"
# Seconds precision through the same client.
assert client.write_points([{"measurement": "fan", "tags": {"host": "node-1", "gpu": "0"}, "time": 1752871400, "fields": {"value": 0.5}}], time_precision="s")
expected[("fan", "0")] = [(1_752_871_400_000_000_000, 0.5)]
expected[("gz_probe", "0")] = [(1_752_871_401_000_000_000, 2.5)]

bad = 0
for (metric, gpu), want in sorted(expected.items()):
    r = requests.get(f"{base}/api/v1/query", params={"metric": metric, "match[]": f'gpu="{gpu}"', "time_format": "ns"},
                     headers={"X-API-Key": key}, timeout=30)
    r.raise_for_status()
    series = r.json()["series"]
    if len(series) != 1:
        print(f"{metric} gpu={gpu}: {len(series)} series", file=sys.stderr); bad += 1; continue
    s = series[0]
    got = list(zip(s["timestamps"], s["values"]))
    if s["labels"] != {"host": "node-1", "gpu": gpu}:
        print(f"{metric} gpu={gpu}: labels {s['labels']}", file=sys.stderr); bad += 1
    if [(t, struct.pack("<d", v)) for t, v in got] != [(t, struct.pack("<d", v)) for t, v in want]:
        print(f"{metric} gpu={gpu}: {len(got)} points differ from the {len(want)} written; first {got[:2]} vs {want[:2]}", file=sys.stderr)
        bad += 1
# Wrong key is refused.
try:
    InfluxDBClient(host="127.0.0.1", port=port, username="x", password="wrong", database="t").write_points(points[:1])
    print("a wrong key was accepted", file=sys.stderr); bad += 1
except Exception:
    pass
# A bad line in a batch: InfluxDB 1.x stores the good lines and says "partial write".
r = requests.post(f"{base}/write", params={"db": "telemetry", "precision": "s", "u": "telegraf", "p": key},
                  data="partial_probe,gpu=0 value=1 1752871402\npartial_probe,gpu=0 value=oops 1752871403\n", timeout=30)
if r.status_code != 400 or "partial write" not in r.json().get("error", "") or r.headers.get("X-Samples-Written") != "1":
    print(f"partial write answered {r.status_code} {r.text[:200]}", file=sys.stderr); bad += 1
total = sum(len(v) for v in expected.values())
print(f"influxdb client: {total} points written and read back, {bad} mismatching series", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
