#!/usr/bin/env bash
# Usage: Benchmarks/memory/measure.sh BIN LPFILE TAG   (MENV="VAR=x" sets the server environment, LIMIT=N stops after N lines)
# Starts `BIN api`, posts the line-protocol file as the peers' harness does (5,000-line bodies,
# 2 keep-alive writers, precision=ms), then at the end of ingest captures /proc status,
# the server's CPU time, smaps_rollup, the largest mappings and glibc's malloc_stats() (through gdb) into the
# server log, stops the server and deletes its data directory.
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$1; LP=$2; TAG=$3; LIMIT=${LIMIT:-0}
D=${OUT:-/tmp}/memrun-$TAG; rm -rf $D; mkdir -p $D
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
env $MENV $BIN api --listen 127.0.0.1:$PORT --data-dir $D/data --insecure-no-auth --rate-limit 0 > $D/server.log 2>&1 &
PID=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:$PORT/ready >/dev/null && break; sleep 0.2; done
python3 $HERE/post_lp.py $LP $PORT $PID 5000 2 $LIMIT | tee $D/feed.txt
grep -E "VmHWM|VmRSS|RssAnon|RssFile" /proc/$PID/status > $D/status.txt
# The server's CPU time for the feed (user + system; /proc/PID/stat fields 14 and 15, in clock ticks).
awk -v hz=$(getconf CLK_TCK) -v n=$(awk '{print $1}' $D/feed.txt | cut -d= -f2) \
  '{printf "cpu_s=%.2f us_per_point=%.3f\n", ($14+$15)/hz, ($14+$15)/hz*1e6/n}' /proc/$PID/stat >> $D/status.txt
cat /proc/$PID/smaps_rollup > $D/rollup.txt
python3 $HERE/smaps_top.py $PID > $D/smaps_top.txt
gdb -p $PID -batch -ex 'call (void)malloc_stats()' -ex 'call (void)malloc_info(0, stdout)' -ex 'call (int)fflush(0)' >/dev/null 2>&1
kill -TERM $PID; wait $PID
cat $D/status.txt; head -20 $D/smaps_top.txt
grep -A3 "^Total\|system bytes\|in use bytes" $D/server.log | tail -8
rm -rf $D/data
