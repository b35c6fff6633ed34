#!/usr/bin/env bash
# Replays the README's reliability table (and an attacker's additions) against a built
# `telemetry` binary with API_KEY set: `telemetry api` on 127.0.0.1 over a fresh data
# directory, every case sent with curl, and after every case /health must answer within 2 s.
# Ends by restarting the server over the same data (nothing written may poison a restart).
#
#   Tests/APIServerTests/hostile_release.sh BINARY     e.g. .build/release/telemetry
#
# Prints one line per case (ok / FAIL, the status seen, the seconds taken) and exits 1 when
# any case fails. Needs curl and python3 (payload generation); takes about a minute.
set -uo pipefail
bin="${1:?usage: hostile_release.sh BINARY}"
[[ -x "$bin" ]] || { echo "not an executable: $bin" >&2; exit 2; }
work="$(mktemp -d /tmp/hostile.XXXXXX)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
key="hostile-test-key"
token="hostile-svc-token"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
failed=0

# The slow-client timeouts are newer than some binaries this replays against.
timeouts=()
help="$("$bin" api --help 2>&1)"  # read whole: grep -q would end the pipe early (SIGPIPE under pipefail)
[[ "$help" == *--idle-timeout* ]] && timeouts=(--idle-timeout 2s --read-timeout 4s --write-timeout 3s)
start() {
  API_KEY="$key" SERVICE_TOKEN="$token" "$bin" api --listen "127.0.0.1:$port" --data-dir "$work/data" \
    --query-timeout 5s "${timeouts[@]}" --no-access-log --log-level error >>"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null -m 1 "$base/health" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "the server did not start; its log:" >&2; cat "$work/server.log" >&2; exit 1
}

# While a case runs, /health is probed every 0.5 s from the side: a miss (no answer within
# 2 s) fails the case, so a request that holds the engine or a worker shows even when it ends.
probe() { while :; do curl -s -o /dev/null -m 2 "$base/health" || echo miss >>"$work/misses"; sleep 0.5; done; }
misses() { [[ -f "$work/misses" ]] && wc -l <"$work/misses" || echo 0; }

# check NAME ALLOWED CURL-ARGS...: ALLOWED is a |-separated list of statuses.
check() {
  local name="$1" allowed="$2"; shift 2
  local t0=$SECONDS status before
  before="$(misses)"
  status="$(curl -s -o "$work/reply" -w '%{http_code}' -m 60 "$@" 2>/dev/null)"
  local took=$((SECONDS - t0)) verdict=ok
  [[ "|$allowed|" == *"|$status|"* ]] || verdict=FAIL
  if [[ "$(misses)" != "$before" ]]; then verdict=FAIL; status="$status (/health missed meanwhile)"; fi
  if ! kill -0 "$pid" 2>/dev/null; then verdict=FAIL; status="$status (server died)"; fi
  if ! curl -s -o /dev/null -m 2 "$base/health"; then verdict=FAIL; status="$status (/health unanswered)"; fi
  echo "$verdict $name: $status in ${took}s (want $allowed)"
  if [[ $verdict == FAIL ]]; then
    failed=$((failed + 1)); head -c 300 "$work/reply" | sed 's/^/    /'; echo
    kill -0 "$pid" 2>/dev/null || { tail -20 "$work/server.log"; start; }
  fi
}

K=(-H "X-API-Key: $key")
gen() { python3 - "$work" <<'PY'
import gzip, os, sys, zlib
w = sys.argv[1]
def put(name, data):
    with open(os.path.join(w, name), "wb") as f: f.write(data if isinstance(data, bytes) else data.encode())
put("million_labels.lp", "m," + ",".join(f"t{i}=v" for i in range(1_000_000)) + " value=1\n")
put("big_value.lp", "m,t=" + "x" * (100 << 20) + " value=1\n")
put("big_value.lp.gz", gzip.compress(b"m,t=" + b"x" * (100 << 20) + b" value=1\n", 9))
put("bomb.gz", gzip.compress(b"\0" * (256 << 20), 9))
put("bomb.deflate", zlib.compress(b"\0" * (256 << 20), 9))
put("nested.json", "[" * 200_000 + "]" * 200_000)
put("nested_obj.json", '{"a":' * 200_000 + "1" + "}" * 200_000)
put("nested_grafana.json", '{"targets":' + "[" * 200_000 + "]" * 200_000 + "}")
put("many_match.form", "&".join(f"match[]=m{i}" for i in range(100_000)))
put("many_match_regex.form", "&".join("match[]=" + "{UUID=~%22(.%7C.)*!%22}" for i in range(2_000)))
put("nul_label.lp", "nul_m,ta\\ g=1,t\x00=2 value=1\n")
put("unicode_label.json", '{"metric":"uni_m","value":1,"labels":{"\\u0000x":"1","\u00e9\u202e\U0001F600":"v"}}')
put("overflow.json", '{"metric":"of_m","value":1e400,"time":100000000000000000000000000000}')
put("far_future.lp", "fut value=1 9000000000000000000\n")
put("overflow_ts.lp", "of_lp value=1 99999999999999999999\n")
put("negative_ts.lp", "neg_lp value=1 -9223372036854775808\n")
put("desc.lp", "".join(f"desc,s=a value={i} {1752871354000000000 - i * 1000000000}\n" for i in range(200_000)))
PY
}

# replied PATTERN NAME: the last reply holds PATTERN (a fixed string).
replied() {
  if grep -qF -- "$1" "$work/reply"; then echo "ok $2"; else echo "FAIL $2: reply lacks $1"; head -c 300 "$work/reply"; echo; failed=$((failed + 1)); fi
}

gen || { echo "payload generation failed" >&2; exit 1; }
start
probe &
prober=$!
trap 'kill $prober 2>/dev/null; cleanup' EXIT

echo "== access"
check "//api/v1/gpus without a key" "401|404" --path-as-is "$base//api/v1/gpus"
check "/api//v1/gpus/ without a key" "401|404" --path-as-is "$base/api//v1/gpus/"
check "/api/v1/./gpus without a key" "401|404" --path-as-is "$base/api/v1/./gpus"
check "/API/V1/GPUS without a key" "401|404" --path-as-is "$base/API/V1/GPUS"
check "/api%2Fv1%2Fgpus without a key" "401|404" --path-as-is "$base/api%2Fv1%2Fgpus"
check "POST //internal/v1/write without the token" "401|404" --path-as-is -X POST --data-binary 'x' "$base//internal/v1/write"
check "POST /internal/v1/write with an API key only" "401" "${K[@]}" -X POST --data-binary 'x' "$base/internal/v1/write"

echo "== the engine is never held"
check "ReDoS match[]=UUID=~\"(.|.)*!\"" "200|400|422" "${K[@]}" -G "$base/api/v1/query" --data-urlencode 'match[]=UUID=~"(.|.)*!"'
check "invalid regex" "400" "${K[@]}" -G "$base/api/v1/query" --data-urlencode 'match[]=UUID=~"(("'
check "200,000 descending samples of one series" "204" "${K[@]}" -H 'Content-Type: text/plain' --data-binary @"$work/desc.lp" "$base/api/v2/write"
check "100,000 match[] (POST form, series)" "200|400|422" "${K[@]}" --data-binary @"$work/many_match.form" "$base/prometheus/api/v1/series"
check "2,000 ReDoS match[] (POST form, series)" "200|400|422|503" "${K[@]}" --data-binary @"$work/many_match_regex.form" "$base/prometheus/api/v1/series"

echo "== times and numbers"
check "fut value=1 9000000000000000000" "400" "${K[@]}" -H 'Content-Type: text/plain' --data-binary @"$work/far_future.lp" "$base/api/v2/write"
check "later present-day sample of fut" "204" "${K[@]}" -H 'Content-Type: text/plain' --data-binary "fut value=2" "$base/api/v2/write"
check "line protocol timestamp past Int64" "400" "${K[@]}" -H 'Content-Type: text/plain' --data-binary @"$work/overflow_ts.lp" "$base/api/v2/write"
check "line protocol timestamp Int64.min" "204|400" "${K[@]}" -H 'Content-Type: text/plain' --data-binary @"$work/negative_ts.lp" "$base/api/v2/write"
check "JSON time 1e29 and value 1e400" "400" "${K[@]}" -H 'Content-Type: application/json' --data-binary @"$work/overflow.json" "$base/telemetry"
check "Influx v1 precision=weeks" "400" "${K[@]}" --data-binary 'm value=1' "$base/write?precision=weeks"
for p in start_time=2262-04-11T23:47:16.9Z start_time=99999999999999999999 end_time=-99999999999999999999 \
         start_time=0001-01-01T00:00:00Z end_time=9999-12-31T23:59:59Z start_time=now-9999999999w limit=1000000000000000000000000000000 \
         limit=-1 limit=99999999999999999999; do
  check "gpu telemetry $p" "200|400|404" "${K[@]}" "$base/api/v1/gpus/GPU-x/telemetry?$p"
done
for p in start=99999999999999999999 end=-99999999999999999999 start=2262-04-11T23:47:16.9Z step=0 step=-1s \
         step=99999999999999999999 step=9999999999w limit=1000000000000000000000000000000 limit=0; do
  check "query $p" "200|400" "${K[@]}" "$base/api/v1/query?metric=fut&$p"
done
for p in "step=0" "step=-1" "step=-1s" "step=1e30" "step=99999999999999999999" "start=1e30" "end=-1e30" \
         "start=99999999999999999999" "start=2262-04-11T23:47:16.9Z" "start=NaN" "step=Inf"; do
  check "query_range $p" "400" "${K[@]}" "$base/prometheus/api/v1/query_range?query=fut&start=1&end=100&$p"
done
for p in "time=1e30" "time=-99999999999999999999" "time=NaN" "timeout=99999999999999999999s" "limit=1000000000000000000000000000000"; do
  check "prometheus query $p" "200|400" "${K[@]}" "$base/prometheus/api/v1/query?query=fut&$p"
done
check "prometheus series start/end overflow" "200|400" "${K[@]}" "$base/prometheus/api/v1/series?match[]=fut&start=-1e30&end=1e30"
check "list limit=10^30" "200|400" "${K[@]}" "$base/api/v1/gpus?limit=1000000000000000000000000000000"
check "Retry-After-sized duration in Influx query epoch" "200|400" "${K[@]}" "$base/query?q=SELECT+*+FROM+fut&epoch=99999999999999999999"

echo "== sizes"
check "a million labels (8 MB line)" "400|413" "${K[@]}" -H 'Content-Type: text/plain' --data-binary @"$work/million_labels.lp" "$base/api/v2/write"
check "a 100 MB label value" "413" "${K[@]}" -H 'Content-Type: text/plain' --data-binary @"$work/big_value.lp" "$base/api/v2/write"
check "a 100 MB label value, gzip" "400|413" "${K[@]}" -H 'Content-Type: text/plain' -H 'Content-Encoding: gzip' --data-binary @"$work/big_value.lp.gz" "$base/api/v2/write"
check "JSON nested 200,000 deep (/telemetry)" "400" "${K[@]}" -H 'Content-Type: application/json' --data-binary @"$work/nested.json" "$base/telemetry"
check "JSON objects nested 200,000 deep (/telemetry)" "400" "${K[@]}" -H 'Content-Type: application/json' --data-binary @"$work/nested_obj.json" "$base/telemetry"
check "JSON nested 200,000 deep (/api/v1/write)" "400" "${K[@]}" -H 'Content-Type: application/json' --data-binary @"$work/nested.json" "$base/api/v1/write"
check "JSON nested 200,000 deep (/grafana/query)" "400" "${K[@]}" -H 'Content-Type: application/json' --data-binary @"$work/nested_grafana.json" "$base/grafana/query"
check "JSON nested 200,000 deep (/grafana/search)" "200|400" "${K[@]}" -H 'Content-Type: application/json' --data-binary @"$work/nested_obj.json" "$base/grafana/search"
for route in telemetry api/v1/write write api/v2/write; do
  for enc in gzip deflate; do
    f="$work/bomb.gz"; [[ $enc == deflate ]] && f="$work/bomb.deflate"
    check "$enc bomb (256 MB of zeros) on /$route" "400|413" "${K[@]}" -H "Content-Encoding: $enc" -H 'Content-Type: text/plain' --data-binary @"$f" "$base/$route"
  done
done
check "gzip bomb on /internal/v1/write" "400|413" -H "Authorization: Bearer $token" -H 'Content-Encoding: gzip' -H 'Content-Type: text/csv' --data-binary @"$work/bomb.gz" "$base/internal/v1/write"
for route in prometheus/api/v1/write api/v1/push; do
  check "gzip bomb on /$route (remote_write)" "400|413|415" "${K[@]}" -H 'Content-Encoding: gzip' -H 'Content-Type: application/x-protobuf' --data-binary @"$work/bomb.gz" "$base/$route"
done

echo "== label names"
check "NUL and space in line protocol tag keys" "204|400" "${K[@]}" -H 'Content-Type: text/plain' --data-binary @"$work/nul_label.lp" "$base/api/v2/write"
check "NUL, RTL override, emoji in JSON label names" "204|400" "${K[@]}" -H 'Content-Type: application/json' --data-binary @"$work/unicode_label.json" "$base/telemetry"
check "metrics list after odd labels" "200" "${K[@]}" "$base/api/v1/metrics"
check "prometheus labels after odd labels" "200" "${K[@]}" "$base/prometheus/api/v1/labels"
check "grafana tag-keys after odd labels" "200" "${K[@]}" -H 'Content-Type: application/json' --data-binary '{}' "$base/grafana/tag-keys"

echo "== slow clients"
# 15 slowloris (headers a byte every 0.5 s), 15 bodies stalled after 10 of 1,000 bytes, 15
# bodies trickled a byte every 0.5 s, 5 clients that pipeline 40 requests for a 1 MB asset
# and never read; meanwhile /health and a query from another client must be answered, and
# within 20 s the server must have closed every slow connection (the binary's timeouts are
# 2 s idle, 4 s read, 3 s write; a binary without them keeps them all open).
if python3 - "$port" "$key" <<'PY'
import http.client, socket, sys, time
port, key = int(sys.argv[1]), sys.argv[2]
def conn(first, rcvbuf=None):
    s = socket.socket()
    if rcvbuf: s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port)); s.sendall(first); s.setblocking(False); return s
write = b"POST /api/v1/write HTTP/1.1\r\nHost: x\r\nX-API-Key: " + key.encode() + b"\r\nContent-Type: application/json\r\n"
groups = {
    "slowloris": [conn(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ") for _ in range(15)],
    "stalled body": [conn(write + b"Content-Length: 1000\r\n\r\n[{\"metric\":") for _ in range(15)],
    "trickled body": [conn(write + b"Content-Length: 100000\r\n\r\n") for _ in range(15)],
    "never reads": [conn(b"GET /docs/swagger-ui-bundle.js HTTP/1.1\r\nHost: x\r\n\r\n" * 40, 4096) for _ in range(5)],
}
t0 = time.monotonic(); closed = {}; served = []
def closed_now(s):
    try:
        while True:
            d = s.recv(65536)
            if not d: return True
    except BlockingIOError: return False
    except OSError: return True
while time.monotonic() - t0 < 20 and len(closed) < sum(map(len, groups.values())):
    for name, socks in groups.items():
        for s in socks:
            if s in closed: continue
            try:
                if name in ("slowloris", "trickled body"): s.send(b"a")
            except OSError: closed[s] = time.monotonic() - t0; continue
            # A client that never reads is only read from after 8 s (the server has given up by then).
            if (name != "never reads" or time.monotonic() - t0 > 8) and closed_now(s): closed[s] = time.monotonic() - t0
    if len(served) < 6 and time.monotonic() - t0 > 0.5:
        for path in ("/health", "/api/v1/gpus"):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                c.request("GET", path, headers={"X-API-Key": key}); served.append((path, c.getresponse().status))
            except OSError as e: served.append((path, str(e)))
            c.close()
    time.sleep(0.5)
ok = all(status == 200 for _, status in served) and len(served) == 6
print(f"  other clients while 50 slow ones were open: {served}")
for name, socks in groups.items():
    times = sorted(closed[s] for s in socks if s in closed)
    print(f"  {name}: {len(times)} of {len(socks)} closed by the server" + (f", after {times[0]:.1f}-{times[-1]:.1f} s" if times else ""))
    ok = ok and len(times) == len(socks)
sys.exit(0 if ok else 1)
PY
then echo "ok 50 slow connections closed by their timeouts, others served"
else echo "FAIL slow connections: not all closed by the server, or other clients unanswered"; failed=$((failed + 1)); fi

echo "== restart over the same data"
kill "$pid"; wait "$pid" 2>/dev/null; pid=""
start
check "health after restart" "200" "$base/health"
check "fut still accepts present-day samples after restart" "204" "${K[@]}" -H 'Content-Type: text/plain' --data-binary "fut value=3" "$base/api/v2/write"
check "the 200,000 descending samples survived" "200" "${K[@]}" -G "$base/prometheus/api/v1/query" --data-urlencode 'query=count_over_time(desc[30d])' --data-urlencode time=1752871355
replied '"200000"' "all 200,000 descending samples are there"
check "the series with odd label names reads back" "200" "${K[@]}" "$base/prometheus/api/v1/series?match[]=nul_m"
replied 'nul_m' "the NUL-label series is listed after the restart"

if ((failed)); then echo "$failed hostile cases FAILED"; exit 1; fi
echo "all hostile cases passed"
