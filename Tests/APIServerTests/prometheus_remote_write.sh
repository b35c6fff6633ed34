#!/usr/bin/env bash
# A real Prometheus (Debian's 2.42, apt-installed when missing) scrapes two static expositions
# in dcgm-exporter's format, served on loopback (an older exporter spelling `Hostname`, a newer
# one spelling `hostname` with pci_bus_id/MIG labels, an NVSwitch series, and pod labels that
# Prometheus renames to exported_*), and remote-writes to `telemetry api`. Then:
#   - every sample Prometheus counted as sent (prometheus_remote_storage_samples_total, with
#     nothing failed, retried or dropped) is what our api_remote_write_samples_total counted and
#     what /api/v1/query returns, sample for sample;
#   - series keep their labels exactly (hostname vs Hostname, pci_bus_id, exported_namespace);
#   - /api/v1/gpus lists the 4 GPUs with host, model and index, and no NVSwitch "GPU";
#   - NVIDIA's DCGM dashboard (12239) replayed as Grafana's Prometheus datasource sends it
#     (dcgm_dashboard_12239.json, the table GrafanaPrometheusReplayTests uses): both label_values
#     variables, then every panel's query_range (and instant query) with $instance/$gpu expanded
#     to `(a|b)` regexes, gives one series per GPU (aggregates one series) on this data.
# About 30 s.
#
# Usage: Tests/APIServerTests/prometheus_remote_write.sh   (from anywhere)
# Env:   TELEMETRY_BIN (default .build/debug/telemetry), PROMETHEUS_BIN (default prometheus)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${TELEMETRY_BIN:-$ROOT/.build/debug/telemetry}
PROM=${PROMETHEUS_BIN:-prometheus}
KEY=rw-key-$RANDOM$RANDOM

if [ ! -x "$BIN" ]; then swift build --product telemetry >&2; fi
if ! command -v "$PROM" >/dev/null 2>&1; then
    echo "installing Debian's prometheus" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    # A policy-rc.d answering 101 keeps the package's service from starting (and taking port
    # 9090) during the install; one we add is removed afterwards.
    added_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d; added_policy=1
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >&2
    if [ -n "$added_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
fi
"$PROM" --version 2>&1 | head -1 >&2

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# --- two dcgm-exporter expositions, each served by a tiny loopback server -----------------
mkdir -p "$WORK/old" "$WORK/new"
python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
metrics = [("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
           ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
           ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
           ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
           ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
           ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "Ratio of cycles the tensor (HMMA) pipe is active.")]
def exposition(host_label, host, uuids, extra):
    out = []
    for m, typ, help_ in metrics:
        out.append(f"# HELP {m} {help_}\n# TYPE {m} {typ}\n")
        for i, uuid in enumerate(uuids):
            labels = f'gpu="{i}",UUID="{uuid}",device="nvidia{i}",modelName="NVIDIA H100 80GB HBM3",{host_label}="{host}"'
            labels += extra(i)
            labels += ',DCGM_FI_DRIVER_VERSION="535.129.03"'
            out.append(f"{m}{{{labels}}} {10 * (i + 1) + len(m) % 7}.5\n")
    return "".join(out)
old = exposition("Hostname", "dgx-old", ["GPU-0a0a0a0a-0000-0000-0000-000000000000", "GPU-0a0a0a0a-0000-0000-0000-000000000001"],
                 lambda i: f',container="trainer",namespace="team-a",pod="train-{i}"')
new = exposition("hostname", "dgx-new", ["GPU-1b1b1b1b-0000-0000-0000-000000000000", "GPU-1b1b1b1b-0000-0000-0000-000000000001"],
                 lambda i: f',pci_bus_id="00000000:{i + 1:02X}:00.0",GPU_I_PROFILE="1g.10gb",GPU_I_ID="{i + 1}"')
new += ('# HELP DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX NVSwitch link TX bytes.\n'
        '# TYPE DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX counter\n'
        'DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX{nvswitch="0",nvlink="3",hostname="dgx-new"} 123456\n')
open(f"{work}/old/metrics", "w").write(old)
open(f"{work}/new/metrics", "w").write(new)
PY
serve() {  # serve DIR PORTFILE: a static file server on 127.0.0.1:0 that writes its port
    python3 - "$1" "$2" <<'PY' &
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
handler.func.log_message = lambda *a: None
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.serve_forever()
PY
    PIDS+=($!)
}
serve "$WORK/old" "$WORK/old.port"
serve "$WORK/new" "$WORK/new.port"

# --- our server ----------------------------------------------------------------------------
API_PORT=$(free_port)
"$BIN" api --listen "127.0.0.1:$API_PORT" --data-dir "$WORK/data" --api-key "$KEY" --rate-limit 0 --no-access-log >"$WORK/api.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$API_PORT/health" >/dev/null 2>&1 && [ -s "$WORK/old.port" ] && [ -s "$WORK/new.port" ]; then break; fi
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$API_PORT/health" >/dev/null || { cat "$WORK/api.log" >&2; exit 1; }

# --- Prometheus ----------------------------------------------------------------------------
PROM_PORT=$(free_port)
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: dcgm
    static_configs:
      # The target's own namespace/pod (as Kubernetes service discovery would add) collide
      # with the exporter's: Prometheus renames the exporter's to exported_namespace/_pod.
      - targets: ["127.0.0.1:$(cat "$WORK/old.port")"]
        labels: {namespace: gpu-operator, pod: dcgm-exporter-old}
      - targets: ["127.0.0.1:$(cat "$WORK/new.port")"]
remote_write:
  - url: http://127.0.0.1:$API_PORT/prometheus/api/v1/write
    authorization:
      credentials: $KEY
    queue_config:
      batch_send_deadline: 500ms
      min_backoff: 100ms
    metadata_config:
      send_interval: 2s
EOF
"$PROM" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prom.log" 2>&1 &
PROM_PID=$!
PIDS+=($PROM_PID)

BOARD=$ROOT/Tests/APIServerTests/dcgm_dashboard_12239.json WORK=$WORK API_PORT=$API_PORT PROM_PORT=$PROM_PORT PROM_PID=$PROM_PID KEY=$KEY python3 - <<'PY' || { echo "--- prometheus log" >&2; tail -30 "$WORK/prom.log" >&2; echo "--- api log" >&2; tail -30 "$WORK/api.log" >&2; exit 1; }
import json, os, re, signal, sys, time, urllib.parse, urllib.request

work, key = os.environ["WORK"], os.environ["KEY"]
api, prom, prom_pid = int(os.environ["API_PORT"]), int(os.environ["PROM_PORT"]), int(os.environ["PROM_PID"])

def get(url, headers={}):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
        return r.read().decode()

def metric(text, name):
    """Sum of every series of a metric in Prometheus text (None when absent)."""
    total, seen = 0.0, False
    for line in text.splitlines():
        m = re.match(r"^" + re.escape(name) + r"(\{[^}]*\})?\s+(\S+)", line)
        if m:
            total += float(m.group(2)); seen = True
    return total if seen else None

def theirs():
    return get(f"http://127.0.0.1:{prom}/metrics")

def ours():
    return get(f"http://127.0.0.1:{api}/metrics")

def api_get(path, **params):
    q = urllib.parse.urlencode(params, doseq=True)
    return json.loads(get(f"http://127.0.0.1:{api}{path}?{q}", {"X-API-Key": key}))

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

# 1. Let Prometheus scrape both targets several times and ship samples and metadata.
scrape_from = time.time()
sent = meta = 0
deadline = time.time() + 60
while time.time() < deadline:
    try:
        text = theirs()
    except OSError:
        time.sleep(0.3); continue
    sent = metric(text, "prometheus_remote_storage_samples_total") or 0
    meta = metric(text, "prometheus_remote_storage_metadata_total") or 0
    if sent >= 150 and meta > 0:
        break
    time.sleep(0.3)
else:
    fail(f"Prometheus sent too little in 60 s (samples_total={sent}, metadata_total={meta})")

# 2. Stop scraping: reload with no scrape configs (remote_write unchanged, so its queue is
# kept). Prometheus writes staleness markers for the gone targets, ships them, and then
# produces nothing more, so both sides' counters can be compared exactly.
config = open(f"{work}/prometheus.yml").read()
head, rest = config.split("scrape_configs:", 1)
open(f"{work}/prometheus.yml", "w").write(head + "scrape_configs: []\nremote_write:" + rest.split("remote_write:", 1)[1])
scrape_to = time.time()
os.kill(prom_pid, signal.SIGHUP)

stable, last, deadline = 0, None, time.time() + 45
while time.time() < deadline:
    t, o = theirs(), ours()
    now = (metric(t, "prometheus_remote_storage_samples_total"), metric(t, "prometheus_remote_storage_samples_pending"),
           metric(o, "api_remote_write_samples_total"))
    stable = stable + 1 if now == last and now[1] == 0 else 0
    last = now
    if stable >= 6 and now[0] == now[2]:
        break
    time.sleep(0.5)
t, o = theirs(), ours()
sent = metric(t, "prometheus_remote_storage_samples_total")
failed = [(n, metric(t, n)) for n in ("prometheus_remote_storage_samples_failed_total", "prometheus_remote_storage_samples_retried_total",
                                      "prometheus_remote_storage_samples_dropped_total", "prometheus_remote_storage_metadata_failed_total")]
received = metric(o, "api_remote_write_samples_total")
requests = metric(o, "api_remote_write_requests_total")
problems = " ".join("%s=%.0f" % (n.split("remote_storage_")[1], v) for n, v in failed if v is not None)
print("prometheus samples_total=%.0f metadata_total=%.0f %s; ours api_remote_write_samples_total=%.0f requests_total=%.0f"
      % (sent, metric(t, "prometheus_remote_storage_metadata_total") or 0, problems, received or 0, requests or 0), file=sys.stderr)
if any(v for _, v in failed):
    fail(f"Prometheus reports failures: {failed}")
if sent != received:
    fail(f"Prometheus sent {sent:.0f} samples, we counted {received:.0f}")

# 3. Every sent sample is stored: count what the query API returns, per series.
result = api_get("/api/v1/query", **{"match[]": 'job=~".+"'})
stored = sum(len(s["timestamps"]) for s in result["series"])
if stored != sent:
    fail(f"Prometheus sent {sent:.0f} samples; /api/v1/query returns {stored}")
series = {(s["metric"], tuple(sorted(s["labels"].items()))): s for s in result["series"]}
names = {s["metric"] for s in result["series"]}
for want in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_NVSWITCH_LINK_THROUGHPUT_TX", "up", "scrape_duration_seconds"):
    if want not in names:
        fail(f"no series {want} stored; have {sorted(names)}")

# 4. Labels exactly as scraped (and as Prometheus renamed them).
util = [s for s in result["series"] if s["metric"] == "DCGM_FI_DEV_GPU_UTIL"]
old = [s["labels"] for s in util if s["labels"].get("Hostname") == "dgx-old"]
new = [s["labels"] for s in util if s["labels"].get("hostname") == "dgx-new"]
if len(old) != 2 or len(new) != 2:
    fail(f"expected 2 GPU_UTIL series per host, got {[s['labels'] for s in util]}")
o0 = next(l for l in old if l["gpu"] == "0")
want_old = {"gpu": "0", "UUID": "GPU-0a0a0a0a-0000-0000-0000-000000000000", "device": "nvidia0", "modelName": "NVIDIA H100 80GB HBM3",
            "Hostname": "dgx-old", "container": "trainer", "exported_namespace": "team-a", "exported_pod": "train-0",
            "namespace": "gpu-operator", "pod": "dcgm-exporter-old", "DCGM_FI_DRIVER_VERSION": "535.129.03", "job": "dcgm"}
for k, v in want_old.items():
    if o0.get(k) != v:
        fail(f"old-exporter series label {k}={o0.get(k)!r}, want {v!r}: {o0}")
n1 = next(l for l in new if l["gpu"] == "1")
if n1.get("pci_bus_id") != "00000000:02:00.0" or n1.get("GPU_I_ID") != "2" or "Hostname" in n1:
    fail(f"new-exporter series labels changed: {n1}")
values = next(s for s in util if s["labels"].get("hostname") == "dgx-new" and s["labels"]["gpu"] == "1")["values"]
if not any(v == 20 + len("DCGM_FI_DEV_GPU_UTIL") % 7 + 0.5 for v in values if v is not None):
    fail(f"GPU_UTIL values of dgx-new gpu 1 are {values[:5]}…")

# 5. The inventory: 4 GPUs with host, model, index; the NVSwitch series made none.
gpus = {g["uuid"]: g for g in api_get("/api/v1/gpus")["gpus"]}
if len(gpus) != 4:
    fail(f"expected 4 GPUs, got {sorted(gpus)}")
for uuid, g in gpus.items():
    host = "dgx-old" if uuid.startswith("GPU-0a") else "dgx-new"
    if g["hostname"] != host or g["model_name"] != "NVIDIA H100 80GB HBM3" or g["gpu_id"] != uuid[-1]:
        fail(f"GPU {uuid}: {g}")
    if host == "dgx-old" and (g["namespaces"] != ["team-a"] or g["pods"] != [f"train-{uuid[-1]}"]):
        fail(f"GPU {uuid} namespaces/pods {g['namespaces']}/{g['pods']}, want the exporter's (exported_*) team-a/train-N")
    if host == "dgx-new" and g["mig_instances"] != [{"gpu_instance_id": str(int(uuid[-1]) + 1), "profile": "1g.10gb"}]:
        fail(f"GPU {uuid} MIG instances {g['mig_instances']}")
hosts = {h["hostname"]: h["gpu_count"] for h in api_get("/api/v1/hosts")["hosts"]}
if hosts != {"dgx-old": 2, "dgx-new": 2}:
    fail(f"hosts {hosts}")
# 6. NVIDIA's DCGM dashboard through Grafana's Prometheus datasource, on what Prometheus sent.
board = json.load(open(os.environ["BOARD"]))
def prom_form(path, form):
    body = urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{api}/prometheus/api/v1/{path}", data=body, method="POST",
                                 headers={"X-API-Key": key, "Content-Type": "application/x-www-form-urlencoded",
                                          "User-Agent": "Grafana/11.1.0"})
    with urllib.request.urlopen(req, timeout=30) as r:
        reply = json.loads(r.read().decode())
    if reply.get("status") != "success":
        fail(f"{path} {form}: {reply}")
    return reply["data"]
def grafana_escape(s):  # Grafana's prometheusSpecialRegexEscape, then PromQL string escaping
    return "".join("\\\\\\\\" if c == "\\" else ("\\\\" + c if c in "$^*{}[]'+?.()|" else c) for c in s)
def interpolate(text, values):
    for name, chosen in values.items():
        text = text.replace("$" + name, chosen if chosen == ".*" else
                            (grafana_escape(chosen[0]) if len(chosen) == 1 else "(" + "|".join(map(grafana_escape, chosen)) + ")"))
    return text
start, end = int(scrape_from) - 2, int(scrape_to) - 1
window = {"start": str(start), "end": str(end)}
ivar, gvar = board["variables"]
instances = prom_form(f"label/{ivar['label']}/values", dict(window, **{"match[]": ivar["match"]}))
if len(instances) != 2:
    fail(f"instance variable: {instances}")
gpus_of = {i: prom_form(f"label/{gvar['label']}/values", dict(window, **{"match[]": gvar["match"].replace("$instance", i)}))
           for i in instances}
if any(v != ["0", "1"] for v in gpus_of.values()):
    fail(f"gpu variable per instance: {gpus_of}")
selections = [({"instance": instances, "gpu": ["0", "1"]}, 4), ({"instance": [instances[0]], "gpu": ".*"}, 2),
              ({"instance": instances, "gpu": ["1"]}, 2)]
checked = 0
for values, want in selections:
    for panel in board["panels"]:
        expr = interpolate(panel["expr"], values)
        replies = [("range", prom_form("query_range", {"query": expr, "start": start, "end": end, "step": 1}))]
        if panel["instant"]:
            replies.append(("instant", prom_form("query", {"query": expr, "time": end})))
        for kind, d in replies:
            got = d["result"]
            if not panel["perGPU"]:
                if len(got) != 1 or got[0]["metric"]:
                    fail(f"{panel['title']} {kind} {expr}: want one unlabelled series, got {got[:2]}")
                continue
            pairs = sorted((s["metric"].get("instance"), s["metric"].get("gpu")) for s in got)
            if len(pairs) != want or len(set(pairs)) != want:
                fail(f"{panel['title']} {kind} {expr}: want {want} series (one per GPU), got {pairs}")
            for s in got:
                points = s["values"] if kind == "range" else [s["value"]]
                if not points or any(v[1] in ("NaN", "+Inf", "-Inf") for v in points):
                    fail(f"{panel['title']} {kind}: {s['metric']} has points {points[:3]}")
            checked += 1
print(f"ok: dashboard 12239 replayed: {len(board['panels'])} panels x {len(selections)} selections, "
      f"{checked} per-GPU answers with one series per GPU", file=sys.stderr)

print(f"ok: {stored} samples in {len(result['series'])} series stored exactly as Prometheus sent them "
      f"in {requests:.0f} requests; inventory {len(gpus)} GPUs on {sorted(hosts)}", file=sys.stderr)
PY
