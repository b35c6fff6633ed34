#!/usr/bin/env python3
"""Posts a line-protocol file to a running telemetry API in batches of N lines from W
writers (keep-alive), then prints points, seconds and the server's VmHWM/VmRSS."""
import http.client, sys, threading, time, queue, os
path, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
writers = int(sys.argv[5]) if len(sys.argv) > 5 else 2
limit = int(sys.argv[6]) if len(sys.argv) > 6 else 0
q = queue.Queue(maxsize=8)
errors = []
sent = [0]
lock = threading.Lock()
def reader():
    n = 0
    with open(path, 'rb') as f:
        buf = []
        for line in f:
            buf.append(line); n += 1
            if len(buf) == batch:
                q.put(b''.join(buf)); buf = []
            if limit and n >= limit: break
        if buf: q.put(b''.join(buf))
    for _ in range(writers): q.put(None)
def writer():
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=600)
    while True:
        body = q.get()
        if body is None: return
        if errors: continue   # keep draining so the reader never blocks on a full queue
        while True:
            c.request('POST', '/api/v1/write?precision=ms', body, {'Content-Type': 'text/plain'})
            r = c.getresponse(); data = r.read()
            if r.status != 429: break
            # Over the server's rate limit: wait as told and send the same body again.
            time.sleep(float(r.getheader('Retry-After') or 1))
        if r.status != 204: errors.append((r.status, data[:300])); continue
        with lock: sent[0] += body.count(b'\n')
hwm = [0]
def status():
    d = {}
    for l in open('/proc/%d/status' % pid):
        k, v = l.split(':', 1); d[k] = v.strip()
    return d
t0 = time.time()
ts = [threading.Thread(target=reader)] + [threading.Thread(target=writer) for _ in range(writers)]
for t in ts: t.start()
for t in ts: t.join()
dt = time.time() - t0
s = status()
print("lines=%d seconds=%.1f errors=%s VmHWM=%s VmRSS=%s" % (sent[0], dt, errors[:2], s['VmHWM'], s['VmRSS']))
