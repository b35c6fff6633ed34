"""Runs pods of an unpacked OCI image the way a kubelet would, without a container engine:
a network namespace per pod on one bridge (the pod network), a user-space proxy per ClusterIP
Service port (what kube-proxy's userspace mode did), `/etc/hosts` with the cluster DNS names,
and each container in its own mount and PID namespaces with the image root bind-mounted
(read-only when the chart says so) and only the pod's volumes writable, as the pod's user.

Two launchers: `chroot` (the default; works wherever root may create namespaces) and `podman`
(`TELEMETRY_IMAGE_RUNTIME=podman`, for machines where `podman run` works; it joins the same
network namespaces and mounts the same volumes). Needs root, iproute2 and util-linux; one
run per machine at a time (the bridge and the subnets below are fixed). Mounts live in each
container's private mount namespace, so they vanish with it, even after a crash of the test.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from image_pods import Cluster, Pod

HERE = Path(__file__).resolve().parent
BRIDGE = "tlmimg0"
SUBNET = "10.244.77"   # pods: .10 and up; the bridge (node, gateway): .1
SERVICE_NET = "10.96.77"  # ClusterIPs: .10 and up, on the bridge


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True)


# ------------------------------------------------------------------------------ the image

def unpack(archive: Path, dest: Path) -> tuple[Path, dict, dict]:
    """Extracts an OCI archive and unpacks its image with umoci; returns (root file system,
    image config, {"layers": [...], "layer_bytes": compressed, "rootfs_bytes": unpacked})."""
    layout = dest / "layout"
    shutil.rmtree(dest, ignore_errors=True)
    layout.mkdir(parents=True)
    sh("tar", "-xf", str(archive), "-C", str(layout))
    index = json.loads((layout / "index.json").read_text())
    blob = lambda digest: layout / "blobs" / Path(*digest.split(":"))  # noqa: E731
    manifest = json.loads(blob(index["manifests"][0]["digest"]).read_text())
    config = json.loads(blob(manifest["config"]["digest"]).read_text())
    # umoci addresses an image by a plain tag; the archive names it NAME:TAG for the loaders.
    renamed = json.loads(json.dumps(index))
    renamed["manifests"][0].setdefault("annotations", {})["org.opencontainers.image.ref.name"] = "run"
    (layout / "index.json").write_text(json.dumps(renamed))
    sh("umoci", "unpack", "--image", f"{layout}:run", str(dest / "bundle"))
    rootfs = dest / "bundle" / "rootfs"
    size = int(sh("du", "-sb", str(rootfs)).stdout.split()[0])
    info = {"layers": manifest["layers"], "layer_bytes": sum(l["size"] for l in manifest["layers"]),
            "rootfs_bytes": size, "index": index, "config_blob": config}
    return rootfs, config.get("config") or {}, info


# ------------------------------------------------------------------------------ the network

class PodNetwork:
    """One bridge, one network namespace per pod (veth `eth0`), ClusterIPs on the bridge."""

    def __init__(self, run_id: str):
        self.prefix = f"tlm{run_id}"[:8]
        self.namespaces: list[str] = []
        self.vips: list[str] = []

    def setup(self) -> None:
        self.teardown()
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", f"{SUBNET}.1/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")

    def add_pod(self, index: int) -> tuple[str, str]:
        ns, host_if, ip = f"{self.prefix}-{index}", f"{self.prefix}h{index}", f"{SUBNET}.{10 + index}"
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "link", "set", host_if, "master", BRIDGE, "up")
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", f"{ip}/24", "dev", "eth0"],
                    ["ip", "link", "set", "eth0", "up"], ["ip", "route", "add", "default", "via", f"{SUBNET}.1"]):
            sh("ip", "netns", "exec", ns, *cmd)
        return ns, ip

    def add_vip(self, index: int) -> str:
        ip = f"{SERVICE_NET}.{10 + index}"
        sh("ip", "addr", "add", f"{ip}/32", "dev", BRIDGE)
        self.vips.append(ip)
        return ip

    def teardown(self) -> None:
        for ns in sh("ip", "netns", "list", check=False).stdout.split("\n"):
            name = ns.split(" ")[0]
            if name.startswith(f"{self.prefix}-"):
                sh("ip", "netns", "del", name, check=False)
        sh("ip", "link", "del", BRIDGE, check=False)
        self.namespaces.clear()
        self.vips.clear()


class ServiceProxy:
    """kube-proxy in user space: VIP:port → the next running endpoint, round robin."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.servers = []
        self.counters: dict[tuple[str, int], int] = {}
        self.thread.start()

    def add(self, vip: str, port: int, endpoints) -> None:
        async def handle(reader, writer):
            key = (vip, port)
            eps = endpoints()
            if not eps:
                writer.close()
                return
            n = self.counters.get(key, 0)
            self.counters[key] = n + 1
            host, target = eps[n % len(eps)]
            try:
                up_reader, up_writer = await asyncio.open_connection(host, target)
            except OSError:
                writer.close()
                return

            async def pipe(r, w):
                try:
                    while data := await r.read(65536):
                        w.write(data)
                        await w.drain()
                except (OSError, asyncio.CancelledError):
                    pass
                finally:
                    try:
                        w.close()
                    except OSError:
                        pass

            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        async def start():
            self.servers.append(await asyncio.start_server(handle, vip, port))

        asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    def close(self) -> None:
        async def stop():
            for s in self.servers:
                s.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# ------------------------------------------------------------------------------ containers

class Container:
    """One running container: `pid` is the container's main process (PID 1 of its namespace)."""

    def __init__(self, pod: Pod, popen: subprocess.Popen, log: Path, started: float, kill_cmd=None):
        self.pod, self.popen, self.log, self.started = pod, popen, log, started
        self.kill_cmd = kill_cmd
        self._pid: int | None = None

    @property
    def pid(self) -> int | None:
        """The container's main process as seen from the host (found on first use)."""
        if self._pid is None:
            self._pid = self._podman_pid() if self.kill_cmd else self._main_pid()
        return self._pid

    def _podman_pid(self) -> int | None:
        end = time.time() + 30
        while time.time() < end and self.alive():
            out = subprocess.run(["podman", "inspect", "--format", "{{.State.Pid}}", f"tlm-{self.pod.name}"],
                                 capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip().isdigit() and int(out.stdout) > 0:
                return int(out.stdout)
            time.sleep(0.1)
        return None

    def _main_pid(self) -> int | None:
        # ip netns exec -> unshare (waits) -> its child: sh, which execs python, which execs the binary
        end = time.time() + 10
        while time.time() < end:
            try:
                kids = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children").read_text().split()
            except OSError:
                kids = []
            if kids:
                pid = int(kids[0])
                try:
                    if os.readlink(f"/proc/{pid}/exe").endswith(Path(self.pod.argv[0]).name):
                        return pid
                except OSError:
                    pass
            if self.popen.poll() is not None:
                return None
            time.sleep(0.02)
        return None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if not self.alive():
            return
        if self.kill_cmd:
            subprocess.run(self.kill_cmd(sig), capture_output=True)
        elif self.pid is not None:
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 20) -> int | None:
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.popen.kill()
                self.popen.wait(10)
        return self.popen.returncode


class ChrootLauncher:
    name = "chroot"

    def __init__(self, rootfs: Path, workdir: Path):
        self.rootfs, self.workdir = rootfs, workdir

    def close(self) -> None:
        pass

    def start(self, pod: Pod, netns: str, volumes: dict[str, Path], etc: dict[str, Path]) -> Container:
        mnt = self.workdir / "mnt" / pod.name
        mnt.mkdir(parents=True, exist_ok=True)
        # Mount points the runtime creates when the image lacks them (as runc/crun do).
        for m in pod.mounts:
            (self.rootfs / m.path.lstrip("/")).mkdir(parents=True, exist_ok=True)
        for target in etc:
            (self.rootfs / target.lstrip("/")).touch(exist_ok=True)
        lines = ["set -eu", f"R={shlex.quote(str(mnt))}",
                 f"mount --bind {shlex.quote(str(self.rootfs))} \"$R\""]
        if pod.read_only_root:
            lines.append('mount -o remount,bind,ro "$R"')
        lines += ['mount -t proc -o nosuid,nodev,noexec proc "$R/proc"',
                  'mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"',
                  'mount -t tmpfs -o nosuid,mode=0755,size=65536k tmpfs "$R/dev"',
                  'for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done',
                  'mkdir -p "$R/dev/shm" "$R/dev/pts"; mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$R/dev/shm"',
                  'ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"',
                  'ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"']
        for m in pod.mounts:
            src = shlex.quote(str(volumes[m.volume]))
            lines.append(f'mount --bind {src} "$R{m.path}"')
            if m.read_only:
                lines.append(f'mount -o remount,bind,ro "$R{m.path}"')
        for target, src in etc.items():
            lines.append(f'mount --bind {shlex.quote(str(src))} "$R{target}"; mount -o remount,bind,ro "$R{target}"')
        groups = ",".join(str(g) for g in ([pod.fs_group] if pod.fs_group is not None else [pod.gid]))
        env_file = self.workdir / "env" / f"{pod.name}.json"
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.write_text(json.dumps(pod.env))
        env_file.chmod(0o600)
        exec_args = [sys.executable, str(HERE / "image_exec.py"), str(mnt), pod.workdir, str(pod.uid), str(pod.gid),
                     groups, "1" if pod.no_new_privs else "0", "1" if pod.drop_all_caps else "0", str(env_file),
                     "--", *pod.argv]
        lines.append("exec " + " ".join(shlex.quote(a) for a in exec_args))
        log = self.workdir / "logs" / f"{pod.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        out = open(log, "ab")
        cmd = ["ip", "netns", "exec", netns, "unshare", "--mount", "--uts", "--ipc", "--pid", "--fork",
               "--kill-child", "--propagation", "private", "sh", "-c",
               f"hostname {shlex.quote(pod.name)}\n" + "\n".join(lines)]
        # The wrapper (ip, unshare, sh, mount) runs host tools; the container gets exactly the
        # pod's environment from the env file.
        host_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
        started = time.monotonic()
        popen = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=host_env)
        out.close()
        return Container(pod, popen, log, started)


class PodmanLauncher:
    """`podman run` in the pod's network namespace with the same mounts and user. On a host
    with hybrid cgroups (v1 plus an empty-controller v2 mount) crun refuses to start
    (`cgroups in hybrid mode not supported`), and it cannot raise rlimits without
    CAP_SYS_RESOURCE; there podman runs in a private mount namespace without the v2 mount,
    with `--cgroups=disabled` and the current soft limits as ulimits."""
    name = "podman"

    def __init__(self, image_ref: str, workdir: Path):
        self.image_ref, self.workdir = image_ref, workdir
        self.hybrid = os.path.ismount("/sys/fs/cgroup/unified")

    def close(self) -> None:
        subprocess.run(["podman", "rmi", "--force", self.image_ref], capture_output=True)

    def start(self, pod: Pod, netns: str, volumes: dict[str, Path], etc: dict[str, Path]) -> Container:
        import resource

        name = f"tlm-{pod.name}"
        subprocess.run(["podman", "rm", "-f", name], capture_output=True)
        cmd = ["podman", "run", "--rm", "--name", name, "--network", f"ns:/run/netns/{netns}", "--no-hosts",
               "--hostname", pod.name, "--user", f"{pod.uid}:{pod.gid}", "--workdir", pod.workdir,
               "--entrypoint", json.dumps(pod.argv[:1]),
               # The kubelet ignores the image's VOLUME; podman would mount an anonymous volume there.
               "--image-volume", "ignore"]
        # At most the current limits (crun cannot raise them without CAP_SYS_RESOURCE); here
        # even nproc at the current value was refused, 16384 was not.
        for res, flag, cap in ((resource.RLIMIT_NOFILE, "nofile", 1 << 20), (resource.RLIMIT_NPROC, "nproc", 16384)):
            soft = min(resource.getrlimit(res)[0], cap)
            cmd += ["--ulimit", f"{flag}={soft}:{soft}"]
        if self.hybrid:
            cmd += ["--cgroups=disabled"]
        if pod.fs_group is not None:
            cmd += ["--group-add", str(pod.fs_group)]
        if pod.read_only_root:
            cmd += ["--read-only", "--read-only-tmpfs=false"]
        if pod.drop_all_caps:
            cmd += ["--cap-drop", "all"]
        if pod.no_new_privs:
            cmd += ["--security-opt", "no-new-privileges"]
        for m in pod.mounts:
            cmd += ["-v", f"{volumes[m.volume]}:{m.path}" + (":ro" if m.read_only else "")]
        for target, src in etc.items():
            cmd += ["-v", f"{src}:{target}:ro"]
        env_file = self.workdir / "env" / f"{pod.name}.env"
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.write_text("".join(f"{k}={v}\n" for k, v in pod.env.items()))
        env_file.chmod(0o600)
        cmd += ["--env-file", str(env_file), self.image_ref, *pod.argv[1:]]
        if self.hybrid:
            cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'umount /sys/fs/cgroup/unified && exec "$@"', "podman", *cmd]
        log = self.workdir / "logs" / f"{pod.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        out = open(log, "ab")
        started = time.monotonic()
        popen = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        return Container(pod, popen, log, started, kill_cmd=lambda sig: ["podman", "kill", "--signal", str(int(sig)), name])


def launcher(kind: str, rootfs: Path, archive: Path, image_ref: str, workdir: Path):
    if kind == "podman":
        subprocess.run(["podman", "load", "-i", str(archive)], check=True, capture_output=True)
        return PodmanLauncher(image_ref, workdir)
    return ChrootLauncher(rootfs, workdir)


def hosts_file(cluster: Cluster, pod_ips: dict[str, str], vips: dict[str, str], own: Pod) -> str:
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    for p in cluster.pods:
        if p.name in pod_ips:
            lines.append(f"{pod_ips[p.name]}\t" + " ".join(cluster.pod_dns_names(p)))
    for svc in cluster.services:
        if svc.name in vips:
            lines.append(f"{vips[svc.name]}\t" + " ".join(cluster.dns_names(svc)))
        elif svc.headless:
            for p in cluster.pods:
                if svc.selects(p) and p.name in pod_ips:
                    lines.append(f"{pod_ips[p.name]}\t" + " ".join(cluster.dns_names(svc)))
    if own.name in pod_ips and not own.subdomain:
        lines.append(f"{pod_ips[own.name]}\t{own.name}")
    return "\n".join(lines) + "\n"
