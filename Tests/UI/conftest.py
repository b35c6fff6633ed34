"""Fixtures: a `telemetry run --no-streamer` stack over a data directory imported from the DCGM
sample (replayed PASSES times, 10 s apart, so every GPU has PASSES points per metric), and a
headless Chromium."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from cdp import Browser  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLE = os.path.join(ROOT, "samples", "dcgm_metrics_20250718_134233.csv")
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "ui")
PASSES = 30
SPACING_S = 10


def make_history(path):
    """The sample PASSES times, pass k shifted by k*10 s; each value is the sample's value
    plus (PASSES-1-k), so the newest pass holds exactly the sample's values and the oldest the largest."""
    with open(SAMPLE, newline="") as f:
        header, *rows = f.read().splitlines()
    stamp = re.compile(r'^"([^"]+)"')
    out = [header]
    for k in range(PASSES):
        for row in rows:
            fields = split_csv(row)
            t = datetime.strptime(fields[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            t += timedelta(seconds=k * SPACING_S)
            fields[0] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            fields[10] = repr(float(fields[10]) + (PASSES - 1 - k)).removesuffix(".0")
            out.append(",".join('"' + v.replace('"', '""') + '"' for v in fields))
            assert stamp.match(out[-1])
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return len(rows)


def split_csv(line):
    import csv
    return next(csv.reader([line]))


class Stack:
    def __init__(self, binary, directory):
        self.binary = binary
        self.directory = directory
        self.output = []
        self.process = None
        self.port = None
        self.key = None

    def start(self, *extra):
        self.output = []
        self.process = subprocess.Popen(
            [self.binary, "run", "--listen", "127.0.0.1:0", "--data-dir", self.directory, "--no-streamer", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "LOG_LEVEL": "warning", "API_KEY": ""})
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = "".join(self.output)
            m = re.search(r"API listening on [\d.]+:(\d+)", text)
            if m:
                self.port = int(m.group(1))
                k = re.search(r"API key\s+([0-9a-f]{64})", text)
                self.key = k.group(1) if k else None
                break
            if self.process.poll() is not None:
                raise AssertionError("telemetry run exited early:\n" + text[-3000:])
            time.sleep(0.05)
        else:
            raise AssertionError("telemetry run did not announce its port:\n" + "".join(self.output)[-3000:])
        self.wait_ready()

    def _drain(self):
        for line in self.process.stdout:
            self.output.append(line)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(self.base + "/ready", timeout=5).status == 200:
                    return
            except Exception:
                pass
            time.sleep(0.1)
        raise AssertionError("/ready never answered 200")

    def get(self, path):
        req = urllib.request.Request(self.base + path, headers={"X-API-Key": self.key})
        return json.loads(urllib.request.urlopen(req, timeout=30).read())

    def post_csv(self, body):
        req = urllib.request.Request(self.base + "/api/v1/write", data=body.encode(), method="POST",
                                     headers={"X-API-Key": self.key, "Content-Type": "text/csv"})
        return urllib.request.urlopen(req, timeout=30).status

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return -9
        return self.process.returncode if self.process else None


@pytest.fixture(scope="session")
def stack():
    binary = os.path.join(ROOT, os.environ.get("TELEMETRY_BIN", ".build/debug/telemetry"))
    assert os.access(binary, os.X_OK), f"{binary} is missing; run swift build --product telemetry"
    work = tempfile.mkdtemp(prefix="ui-stack-")
    history = os.path.join(work, "history.csv")
    rows = make_history(history)
    data = os.path.join(work, "data")
    imported = subprocess.run([binary, "import", "--quiet", "--data-dir", os.path.join(data, "tsdb"), history],
                              capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    s = Stack(binary, data)
    s.start()
    s.rows_per_pass = rows
    s.history = history
    yield s
    code = s.stop()
    assert code == 0, f"telemetry run exited {code} on SIGTERM:\n" + "".join(s.output)[-3000:]
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    os.makedirs(ARTIFACTS, exist_ok=True)
    b = Browser()
    yield b
    b.close()


def artifact(name):
    return os.path.join(ARTIFACTS, name)
