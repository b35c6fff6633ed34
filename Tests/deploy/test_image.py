"""The container image built by deploy/docker/build-offline.sh, run the way the rendered chart
runs it (opt-in: TELEMETRY_IMAGE_TESTS=1, root, a few minutes).

Every pod of the telemetry image in `helm template` output with the default values (rendered
offline by conftest.render) starts from the unpacked image: the container's command, args and
environment read from the render (Secret values included), its own network namespace on a
bridge with the cluster DNS names in /etc/hosts and ClusterIP Services proxied, the image root
read-only where the chart says readOnlyRootFilesystem, only the chart's volumes writable, as
the chart's uid/gid with no capabilities and no_new_privs (image_sandbox.py). Then: every
probe and /metrics answers on the chart's ports; the DCGM sample bundled in the image arrives
exactly (2,470 samples, 247 GPUs per pass of the streamer); a broker killed with SIGKILL and
restarted on its volume loses nothing. Image size and start-to-ready seconds of each pod go to
test-artifacts/image/report.json.

    TELEMETRY_IMAGE_TESTS=1 Tests/deploy/run.sh -k image -rP
    TELEMETRY_IMAGE_ARCHIVE=path.oci.tar ...   use an archive already built (else it is built)
    TELEMETRY_IMAGE_RUNTIME=podman ...         run the containers with podman instead of chroot
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from conftest import NAMESPACE, REPO, documents, render

pytestmark = pytest.mark.skipif(os.environ.get("TELEMETRY_IMAGE_TESTS") != "1",
                                reason="opt-in: TELEMETRY_IMAGE_TESTS=1 (needs root and a few minutes)")

ARTIFACTS = REPO / "test-artifacts" / "image"
WORK = Path(os.environ.get("TELEMETRY_IMAGE_WORK", "/tmp/telemetry-image-test"))
SAMPLE = next(iter(sorted((REPO / "samples").glob("dcgm_metrics*.csv"))), None)
REPORT: dict = {}


def sample_facts() -> tuple[int, int, int]:
    """(rows, distinct GPUs, span of the timestamps in ns) of the sample the image bundles."""
    with SAMPLE.open(newline="") as f:
        rows = list(csv.DictReader(f))
    stamps = [datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")).timestamp() for r in rows]
    return len(rows), len({r["uuid"] for r in rows}), int((max(stamps) - min(stamps)) * 1e9)


def archive_path() -> Path:
    given = os.environ.get("TELEMETRY_IMAGE_ARCHIVE")
    if given:
        return Path(given)
    out = ARTIFACTS / "telemetry.oci.tar"
    subprocess.run(["bash", str(REPO / "deploy" / "docker" / "build-offline.sh"), "--output", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def image():
    if os.geteuid() != 0:
        pytest.fail("TELEMETRY_IMAGE_TESTS=1 needs root (network namespaces, mounts, chroot)")
    from image_sandbox import unpack

    archive = archive_path()
    rootfs, config, info = unpack(archive, WORK / "image")
    ref = info["index"]["manifests"][0]["annotations"]
    REPORT["image"] = {"archive": str(archive), "archive_bytes": archive.stat().st_size,
                       "compressed_layer_bytes": info["layer_bytes"], "unpacked_bytes": info["rootfs_bytes"],
                       "layers": len(info["layers"]), "name": ref.get("io.containerd.image.name")}
    return archive, rootfs, config, info


@pytest.fixture(scope="module")
def stack(image):
    from image_pods import cluster
    from image_sandbox import launcher
    from image_stack import Stack, copy_logs

    archive, rootfs, config, info = image
    objects = documents(render({}, namespace=NAMESPACE))
    tagged = info["index"]["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
    repo = tagged.rsplit(":", 1)[0]
    c = cluster(objects, NAMESPACE, repo, config)
    images = {ctr["image"] for o in objects if o.get("kind") in ("Deployment", "StatefulSet")
              for ctr in o["spec"]["template"]["spec"]["containers"] if ctr["image"].startswith(repo + ":")}
    assert images == {tagged}, f"the chart runs {images}, the archive holds {tagged}"
    kind = os.environ.get("TELEMETRY_IMAGE_RUNTIME", "chroot")
    work = WORK / "run"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    full = info["index"]["manifests"][0]["annotations"]["io.containerd.image.name"]
    s = Stack(c, launcher(kind, rootfs, archive, full, work), work)
    try:
        s.setup()
        REPORT["runtime"] = kind
        for role in ("api", "broker", "proxy", "collector", "streamer"):
            names = [p.name for p in c.role(role)]
            assert names, f"the chart has no {role} pod"
            s.start(names)
        yield s
    finally:
        s.teardown()
        copy_logs(s, ARTIFACTS / "logs")
        REPORT["ready_seconds"] = {k: [round(x, 3) for x in v] for k, v in s.ready_seconds.items()}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "report.json").write_text(json.dumps(REPORT, indent=2) + "\n")
        print(json.dumps(REPORT, indent=2))


def api_pod_and_key(stack):
    api = stack.cluster.role("api")[0]
    return api, api.env["API_KEY"]


def test_every_role_of_the_chart_runs_from_the_image(stack):
    roles = {p.role for p in stack.cluster.pods}
    assert roles == {"api", "broker", "proxy", "collector", "streamer"}
    assert all(c.alive() for c in stack.running.values())
    assert len(stack.running) == len(stack.cluster.pods)
    # Default values: 3 brokers, 2 proxies, 2 collectors, 1 streamer, 1 API.
    assert len(stack.cluster.role("broker")) >= 2 and len(stack.cluster.role("collector")) >= 2


def test_containers_are_confined_as_the_chart_says(stack):
    for name, c in stack.running.items():
        if c.pid is None:
            pytest.skip(f"{stack.launcher.name}: container processes are not visible as host pids")
        pod = c.pod
        status = dict(line.split(":", 1) for line in Path(f"/proc/{c.pid}/status").read_text().splitlines() if ":" in line)
        assert status["Uid"].split()[:2] == [str(pod.uid)] * 2, name
        assert status["Gid"].split()[:2] == [str(pod.gid)] * 2, name
        assert int(status["CapEff"], 16) == 0 and int(status["CapBnd"], 16) == 0, name
        assert status["NoNewPrivs"].strip() == "1", name
        mounts = {}
        for line in Path(f"/proc/{c.pid}/mountinfo").read_text().splitlines():
            fields = line.split()
            mounts[fields[4]] = set(fields[5].split(","))
        assert "ro" in mounts["/"], f"{name}: root is not read-only: {mounts['/']}"
        writable = {m for m, opts in mounts.items() if "rw" in opts and not m.startswith(("/proc", "/dev", "/sys"))}
        assert writable == {m.path for m in pod.mounts if not m.read_only}, f"{name}: writable {writable}"
        assert os.readlink(f"/proc/{c.pid}/cwd").endswith(pod.workdir), name
        assert os.readlink(f"/proc/{c.pid}/exe").endswith(pod.argv[0]), name


def test_probes_and_metrics_answer_on_the_chart_ports(stack):
    from image_stack import http_get

    for name, c in stack.running.items():
        for probe in c.pod.probes:
            status, body = http_get(stack.url(name, probe.port, probe.path))
            assert status == 200, f"{name} {probe.kind} probe {probe.path}:{probe.port} -> {status} {body[:200]!r}"
        port = c.pod.ready_probe.port
        status, body = http_get(stack.url(name, port, "/metrics"))
        assert status == 200 and b"# TYPE" in body, f"{name} /metrics on {port} -> {status}"
        for path in ("/health", "/ready"):
            if any(p.path == path for p in c.pod.probes):
                assert http_get(stack.url(name, port, path))[0] == 200
    # The API's UI and OpenAPI document come from the resource bundles beside /app/telemetry.
    api = stack.cluster.role("api")[0]
    for path, needle in (("/", b"<html"), ("/openapi.json", b'"openapi"')):
        status, body = http_get(stack.url(api.name, api.ports["http"], path))
        assert status == 200 and needle in body.lower(), f"api {path} -> {status} {body[:120]!r}"


def wait_for(what: str, fn, timeout: float = 120, interval: float = 0.5):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def streamer_status(stack):
    streamer = stack.cluster.role("streamer")[0]
    return stack.get_json(streamer.name, streamer.ready_probe.port, "/status")


def broker_partitions(stack, broker, auth) -> dict:
    """{(topic, partition): its /topics entry (startOffset, endOffset, groups with committed/lag)}."""
    topics = stack.get_json(broker.name, broker.ports["http"], "/topics", auth)["topics"]
    return {(t["name"], p["partition"]): p for t in topics for p in t["partitions"]}


def check_passes(samples, rows: int, gpus: int, span: int, complete: int | None = None):
    from image_stack import split_passes

    passes = split_passes(samples, span)
    if complete is not None:
        assert len(passes) == complete, f"{len(passes)} passes stored, the streamer published {complete}"
    for i, p in enumerate(passes if complete is not None else passes[:1]):
        assert len(p) == rows, f"pass {i}: {len(p)} samples, the sample has {rows}"
        assert len(set(p)) == rows, f"pass {i}: duplicates"
        assert len({s[1] for s in p}) == gpus, f"pass {i}: {len({s[1] for s in p})} GPUs"
    return passes


def test_the_bundled_sample_arrives_exactly(stack):
    from image_stack import api_samples, http_get

    rows, gpus, span = sample_facts()
    assert (rows, gpus) == (2470, 247)
    api, key = api_pod_and_key(stack)
    # The first pass is complete once the second has started publishing (passes never overlap).
    wait_for("two streamer passes", lambda: streamer_status(stack)["passes"] >= 2, timeout=120)

    def first_pass_stored():
        s = api_samples(stack, api, key)
        t0 = min((x[2] for x in s), default=0)
        return s if sum(1 for x in s if x[2] - t0 <= span) >= rows else None

    samples = wait_for("the first pass in the API", first_pass_stored)
    check_passes(samples, rows, gpus, span)
    status, body = http_get(
        stack.url(api.name, api.ports["http"], "/api/v1/gpus?limit=10000"), {"X-API-Key": key})
    assert status == 200 and json.loads(body)["total"] == gpus
    REPORT["first_pass"] = {"samples": rows, "gpus": gpus, "stored_so_far": len(samples)}


def test_a_broker_killed_with_sigkill_loses_nothing(stack):
    from image_stack import api_samples

    rows, gpus, span = sample_facts()
    api, key = api_pod_and_key(stack)
    collectors = [p.name for p in stack.cluster.role("collector")]
    brokers = stack.cluster.role("broker")
    streamer = stack.cluster.role("streamer")[0].name
    # Stop the collectors so the brokers hold records nobody has consumed yet.
    for name in collectors:
        assert stack.stop(name) == 0, stack.log_tail(name)
    passes_before = streamer_status(stack)["passes"]
    wait_for("two more passes into the brokers", lambda: streamer_status(stack)["passes"] >= passes_before + 2, timeout=60)

    def idle():
        # Between passes the streamer waits for the clock (shifted timestamps never run ahead):
        # stop it there, so what it published is exact. A pass that started anyway would only
        # make the stored count larger than `published` below, failing the test, never passing it.
        first = streamer_status(stack)
        time.sleep(0.3)
        second = streamer_status(stack)
        return second if first == second and second["rowsPublished"] == rows * second["passes"] else None

    st = wait_for("the streamer between passes", idle, interval=0.05)
    assert stack.stop(streamer) == 0, stack.log_tail(streamer)
    published, passes = st["rowsPublished"], st["passes"]
    assert st["rowsDropped"] == 0
    victim = brokers[0]
    auth = {"Authorization": f"Bearer {victim.env['SERVICE_TOKEN']}"} if victim.env.get("SERVICE_TOKEN") else None
    before = broker_partitions(stack, victim, auth)
    unconsumed = sum(g["lag"] for p in before.values() for g in p["groups"])
    assert unconsumed > 0, f"{victim.name} holds nothing unconsumed to lose: {before}"
    stack.kill9(victim.name)
    REPORT["broker_restart_ready_seconds"] = round(stack.start([victim.name])[victim.name], 3)
    after = broker_partitions(stack, victim, auth)
    offsets = lambda parts: {k: (p["startOffset"], p["endOffset"], sorted((g["name"], g["committed"], g["lag"])  # noqa: E731
                                                                       for g in p["groups"])) for k, p in parts.items()}
    assert offsets(after) == offsets(before), "the broker's logs or acks changed across kill -9"
    stack.start(collectors)
    samples = wait_for(f"{published} samples in the API",
                       lambda: (s := api_samples(stack, api, key)) and len(s) >= published and s, timeout=180, interval=1)
    assert len(samples) == published, f"{len(samples)} stored, {published} published"
    check_passes(samples, rows, gpus, span, complete=passes)
    for b in brokers:  # every record acked by the collectors, none left behind
        lag = wait_for(f"{b.name} drained", lambda b=b: all(g["lag"] == 0 for p in broker_partitions(stack, b, auth).values()
                                                         for g in p["groups"]) or None, timeout=60)
        assert lag
    REPORT["kill9"] = {"broker": victim.name, "unconsumed_records_at_kill": unconsumed, "published_rows": published,
                       "passes": passes, "stored_samples": len(samples)}
