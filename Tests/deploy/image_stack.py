"""The chart's telemetry roles running from the unpacked image (image_sandbox.py), pod by pod,
with their volumes, Services and DNS names; plus the HTTP helpers the image test needs."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from image_pods import Cluster, Pod
from image_sandbox import ChrootLauncher, Container, PodNetwork, ServiceProxy, hosts_file


def http_get(url: str, headers: dict | None = None, timeout: float = 3) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, urllib.error.URLError):
        return 0, b""


class Stack:
    """Pods of a `Cluster`, each in its own network namespace, started and stopped by name."""

    def __init__(self, cluster: Cluster, launcher, workdir: Path):
        self.cluster, self.launcher, self.workdir = cluster, launcher, workdir
        self.net = PodNetwork(str(os.getpid() % 10000))
        self.proxy: ServiceProxy | None = None
        self.ips: dict[str, str] = {}
        self.netns: dict[str, str] = {}
        self.vips: dict[str, str] = {}
        self.running: dict[str, Container] = {}
        self.ready_seconds: dict[str, list[float]] = {}
        self.volumes: dict[str, dict[str, Path]] = {}

    # ---------------------------------------------------------------- set up and tear down
    def setup(self) -> None:
        self.net.setup()
        for i, pod in enumerate(self.cluster.pods):
            self.netns[pod.name], self.ips[pod.name] = self.net.add_pod(i)
        self.proxy = ServiceProxy()
        for i, svc in enumerate(s for s in self.cluster.services if not s.headless):
            if not any(svc.selects(p) for p in self.cluster.pods):
                continue  # Prometheus, Grafana: not this image
            vip = self.vips[svc.name] = self.net.add_vip(i)
            for sp in svc.ports:
                self.proxy.add(vip, sp.port, self._endpoints(svc, sp))
        for pod in self.cluster.pods:
            etc = self.workdir / "etc" / pod.name
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "hosts").write_text(hosts_file(self.cluster, self.ips, self.vips, pod))
            (etc / "hostname").write_text(pod.name + "\n")
            ns = self.cluster.namespace
            (etc / "resolv.conf").write_text(
                f"search {ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n")
            vols = {}
            for m in pod.mounts:
                d = self.workdir / "volumes" / pod.name / m.volume
                d.mkdir(parents=True, exist_ok=True)
                # What the kubelet does for fsGroup: group-owned, setgid, group-writable.
                os.chown(d, pod.uid, pod.fs_group if pod.fs_group is not None else pod.gid)
                d.chmod(0o2775)
                vols[m.volume] = d
            self.volumes[pod.name] = vols

    def _endpoints(self, svc, sp):
        def endpoints():
            return [(self.ips[name], svc.target_port(sp, c.pod)) for name, c in sorted(self.running.items())
                    if svc.selects(c.pod) and c.alive()]
        return endpoints

    def teardown(self) -> None:
        for c in list(self.running.values()):
            c.stop(timeout=10)
        self.running.clear()
        if self.proxy:
            self.proxy.close()
        self.net.teardown()
        self.launcher.close()

    # ---------------------------------------------------------------- pods
    def pod(self, name: str) -> Pod:
        return next(p for p in self.cluster.pods if p.name == name)

    def start(self, names: list[str], timeout: float = 120) -> dict[str, float]:
        """Starts the pods together; returns seconds from start to the first successful
        readiness probe of each (what `kubectl get pods` would show as Ready)."""
        for name in names:
            pod = self.pod(name)
            etc = self.workdir / "etc" / name
            files = {"/etc/hosts": etc / "hosts", "/etc/hostname": etc / "hostname", "/etc/resolv.conf": etc / "resolv.conf"}
            self.running[name] = self.launcher.start(pod, self.netns[name], self.volumes[name], files)
        out = {}
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                c = self.running[name]
                if not c.alive():
                    raise AssertionError(f"{name} exited with {c.popen.returncode}:\n{self.log_tail(name)}")
                probe = c.pod.ready_probe
                status, _ = http_get(f"http://{self.ips[name]}:{probe.port}{probe.path}", timeout=1)
                if 200 <= status < 400:
                    out[name] = time.monotonic() - c.started
                    self.ready_seconds.setdefault(name, []).append(out[name])
                    pending.remove(name)
            time.sleep(0.05)
        if pending:
            raise AssertionError(f"not ready after {timeout} s: {pending}\n" + "\n".join(self.log_tail(n) for n in pending))
        return out

    def stop(self, name: str, timeout: float = 30) -> int | None:
        c = self.running.pop(name)
        return c.stop(timeout)

    def kill9(self, name: str) -> None:
        import signal
        c = self.running.pop(name)
        c.signal(signal.SIGKILL)
        c.popen.wait(20)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {name}\n" + "\n".join(text.splitlines()[-lines:])

    # ---------------------------------------------------------------- HTTP
    def url(self, name: str, port: int, path: str) -> str:
        return f"http://{self.ips[name]}:{port}{path}"

    def get_json(self, name: str, port: int, path: str, headers: dict | None = None):
        status, body = http_get(self.url(name, port, path), headers, timeout=30)
        assert status == 200, f"GET {name}:{port}{path} -> {status} {body[:300]!r}"
        return json.loads(body)


def api_samples(stack: Stack, api: Pod, key: str) -> list[tuple[str, str, int]]:
    """Every stored sample as (metric, GPU UUID, timestamp ns), read through the API."""
    port = api.ports["http"]
    headers = {"X-API-Key": key}
    metrics = stack.get_json(api.name, port, "/api/v1/metrics?limit=10000", headers)["metrics"]
    out = []
    for m in metrics:
        q = urllib.parse.urlencode({"metric": m["name"]})
        for s in stack.get_json(api.name, port, f"/api/v1/query?{q}", headers)["series"]:
            uuid = s["labels"].get("UUID") or s["labels"].get("uuid") or ""
            out.extend((m["name"], uuid, t) for t in s["timestamps"])
    return out


def split_passes(samples: list[tuple[str, str, int]], span_ns: int) -> list[list[tuple[str, str, int]]]:
    """Groups samples into the streamer's passes: a pass covers `span_ns` of timestamps and the
    next one starts later than that (TimestampRewriter: end of the previous pass + spacing)."""
    passes: list[list] = []
    start = None
    for s in sorted(samples, key=lambda s: s[2]):
        if start is None or s[2] - start > span_ns:
            passes.append([])
            start = s[2]
        passes[-1].append(s)
    return passes


def copy_logs(stack: Stack, dest: Path) -> None:
    src = stack.workdir / "logs"
    if src.exists():
        shutil.copytree(src, dest, dirs_exist_ok=True)
