"""The pod model the image test runs (image_pods.py) follows the render: replica counts,
command lines, environment with the Secret's values, probes, volumes, users, and the DNS
names the roles dial. Offline, no root: this is what makes the opt-in image test run the
chart's commands rather than its own."""

from __future__ import annotations

import base64
from urllib.parse import urlparse

import pytest

from conftest import NAMESPACE, documents, find, render
from image_pods import cluster
from image_sandbox import hosts_file

IMAGE_CONFIG = {"Entrypoint": ["/app/telemetry"], "Cmd": ["run"], "Env": ["PATH=/app:/usr/bin:/bin", "DATA_DIR=/data"],
                "WorkingDir": "/data", "User": "10001:10001"}


@pytest.fixture(scope="module")
def rendered():
    objects = documents(render({}, namespace=NAMESPACE))
    return objects, cluster(objects, NAMESPACE, "telemetry", IMAGE_CONFIG)


def test_every_replica_of_every_telemetry_workload_is_a_pod(rendered):
    objects, c = rendered
    workloads = [o for o in find(objects, "Deployment") + find(objects, "StatefulSet")
                 if o["spec"]["template"]["spec"]["containers"][0]["image"].startswith("telemetry:")]
    assert len(c.pods) == sum(o["spec"]["replicas"] for o in workloads)
    assert {p.role for p in c.pods} == {"api", "broker", "proxy", "collector", "streamer"}
    brokers = [o for o in workloads if o["kind"] == "StatefulSet" and o["metadata"]["name"].endswith("-broker")][0]
    assert [p.name for p in c.role("broker")] == [f"{brokers['metadata']['name']}-{i}" for i in range(brokers["spec"]["replicas"])]


def test_command_env_and_security_come_from_the_render(rendered):
    objects, c = rendered
    secret = next(o for o in find(objects, "Secret") if o["metadata"]["name"].endswith("-auth"))
    token = base64.b64decode(secret["data"]["SERVICE_TOKEN"]).decode()
    for pod in c.pods:
        owner = next(o for o in objects if o.get("kind") in ("Deployment", "StatefulSet") and o["metadata"]["name"] == pod.owner)
        container = owner["spec"]["template"]["spec"]["containers"][0]
        assert pod.argv == IMAGE_CONFIG["Entrypoint"] + container["args"]
        assert pod.env["POD_NAME"] == pod.name and pod.env["POD_NAMESPACE"] == NAMESPACE
        assert pod.env["DATA_DIR"] == "/data"  # from the image, as the kubelet merges it
        for e in container["env"]:
            if "value" in e:
                assert pod.env[e["name"]] == e["value"]
        if any(e["name"] == "SERVICE_TOKEN" for e in container["env"]):
            assert pod.env["SERVICE_TOKEN"] == token and token
        assert pod.read_only_root and pod.no_new_privs and pod.drop_all_caps
        assert (pod.uid, pod.gid, pod.fs_group) == (10001, 10001, 10001)
        assert {m.path for m in pod.mounts} == {m["mountPath"] for m in container.get("volumeMounts", [])}
        assert pod.ready_probe.port in pod.ports.values()
    api = c.role("api")[0]
    assert api.env["API_KEY"] == base64.b64decode(secret["data"]["API_KEY"]).decode()
    assert {m.source for m in api.mounts} == {"pvc", "emptyDir"}


def test_every_address_a_role_dials_is_in_its_hosts_file(rendered):
    _, c = rendered
    ips = {p.name: f"10.0.0.{i + 10}" for i, p in enumerate(c.pods)}
    vips = {s.name: f"10.96.0.{i + 10}" for i, s in enumerate(c.services) if not s.headless}
    for pod in c.pods:
        names = {n for line in hosts_file(c, ips, vips, pod).splitlines() for n in line.split()[1:]}
        dialled = [urlparse(a).hostname for a in pod.argv if a.startswith("http://")]
        if pod.role == "proxy":  # ProxyCommand: http://<svc>-<i>.<svc>.<ns>.svc.<domain>:<port>
            svc, ns = pod.env["BROKER_SERVICE"], pod.env["BROKER_NAMESPACE"]
            dialled += [f"{svc}-{i}.{svc}.{ns}.svc.cluster.local" for i in range(int(pod.env["BROKER_COUNT"]))]
        assert dialled or pod.role in ("api", "broker")
        for host in dialled:
            assert host in names, f"{pod.name} dials {host}, which its /etc/hosts does not name"
