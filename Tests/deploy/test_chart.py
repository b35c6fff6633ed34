"""The Helm chart renders offline with every values file, lints clean, and every rendered
manifest validates against the Kubernetes API schemas of 1.25 through the newest bundled."""

from __future__ import annotations

import base64
import functools

import pytest
import yaml

from conftest import (CHART, NAMESPACE, RELEASE, deep_merge, documents, find, helm, one,
                      profile_values, render, strip_meta)

ROLES = ("broker", "api", "proxy", "streamer", "collector")
DEFAULT_PORTS = {"api": 8080, "broker": 9092, "proxy": 9090, "streamer": 9101, "collector": 9102}


@functools.lru_cache(maxsize=None)
def _kube_versions() -> tuple[str, ...]:
    from kubernetes_validate import utils

    # Cache schema files: validate() re-reads the large definitions file on every call.
    if not hasattr(utils.schema_contents, "cache_info"):
        utils.schema_contents = functools.lru_cache(maxsize=None)(utils.schema_contents)
    minors = sorted({utils.major_minor(v) for v in utils.all_versions()},
                    key=lambda v: tuple(int(x) for x in v.split(".")))
    return tuple(v for v in minors if tuple(int(x) for x in v.split(".")) >= (1, 25))


def test_kubernetes_validate_covers_125_to_current():
    versions = _kube_versions()
    assert versions[0] == "1.25"
    assert tuple(int(x) for x in versions[-1].split(".")) >= (1, 35), versions


def test_chart_renders(rendered, profile):
    objs = documents(rendered)
    kinds = {o["kind"] for o in objs}
    assert {"StatefulSet", "Deployment", "Service", "Secret", "ConfigMap"} <= kinds
    assert any(p.endswith("NOTES.txt") and RELEASE in rendered[p] for p in rendered)


def test_every_manifest_validates_against_kubernetes_schemas(objects, profile):
    import kubernetes_validate

    failures = []
    for obj in objects:
        for version in _kube_versions():
            try:
                kubernetes_validate.validate(strip_meta(obj), f"{version}.0", strict=True)
            except Exception as err:  # noqa: BLE001 - collect them all, report together
                failures.append(f"{obj['kind']}/{obj['metadata']['name']} @ {version}: {str(err)[:400]}")
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("kube_version", ["v1.25.0", "v1.37.0"])
def test_chart_lints_clean(profile, kube_version):
    report = helm().lint(str(CHART), profile_values(profile), strict=True, namespace=NAMESPACE,
                         kube_version=kube_version)
    assert report["errors"] == [], report
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert problems == [], problems


def test_brokers_and_api_are_statefulsets_with_volume_claims(objects):
    for role, service_suffix in (("broker", "-broker"), ("api", "-api-headless")):
        sts = one(objects, "StatefulSet", f"-{role}")
        claims = sts["spec"]["volumeClaimTemplates"]
        assert [c["metadata"]["name"] for c in claims] == ["data"]
        assert claims[0]["spec"]["resources"]["requests"]["storage"]
        mounts = sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        assert {"name": "data", "mountPath": "/data"} in mounts
        svc = one(objects, "Service", service_suffix)
        assert svc["spec"]["clusterIP"] == "None", "StatefulSet needs a headless Service"
        assert sts["spec"]["serviceName"] == svc["metadata"]["name"]


def _env(workload: dict) -> dict:
    return {e["name"]: e.get("value") for e in workload["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_every_broker_gets_the_same_number_of_partitions(objects, profile):
    """The proxy's bounded-load assignment gives each broker floor(P/B) or ceil(P/B)
    partitions; the defaults make that exact by choosing P as a multiple of B, and the proxy
    is told the same P and B the brokers run with."""
    sts = one(objects, "StatefulSet", "-broker")
    brokers = sts["spec"]["replicas"]
    partitions = int(_env(sts)["PARTITIONS_PER_TOPIC"])
    assert partitions % brokers == 0, f"{profile}: {partitions} partitions over {brokers} brokers"
    proxy = _env(one(objects, "Deployment", "-proxy"))
    assert int(proxy["PARTITIONS_PER_TOPIC"]) == partitions
    assert int(proxy["BROKER_COUNT"]) == brokers
    collectors = one(objects, "Deployment", "-collector")["spec"]["replicas"]
    assert partitions % collectors == 0, f"{profile}: {partitions} partitions over {collectors} collectors"


def test_deployments_take_replica_counts_from_values(profile):
    values = deep_merge(profile_values(profile), {
        "proxy": {"replicas": 5}, "streamer": {"replicas": 4}, "collector": {"replicas": 7},
        "broker": {"replicas": 6}})
    objs = documents(render(values))
    assert one(objs, "Deployment", "-proxy")["spec"]["replicas"] == 5
    streamers = sorted(find(objs, "Deployment", None), key=lambda o: o["metadata"]["name"])
    streamers = [o for o in streamers if o["metadata"]["labels"]["app.kubernetes.io/component"] == "streamer"]
    assert [o["metadata"]["name"].rsplit("-", 1)[-1] for o in streamers] == ["0", "1", "2", "3"]
    for i, o in enumerate(streamers):
        assert o["spec"]["replicas"] == 1
        args = o["spec"]["template"]["spec"]["containers"][0]["args"]
        assert args[args.index("--shard") + 1] == f"{i}/4"  # split the work, never duplicate it
        assert o["spec"]["selector"]["matchLabels"]["telemetry/shard"] == str(i)
    single = documents(render({"streamer": {"replicas": 1}}))
    assert "--shard" not in one(single, "Deployment", "-streamer-0")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert one(objs, "Deployment", "-collector")["spec"]["replicas"] == 7
    assert one(objs, "StatefulSet", "-broker")["spec"]["replicas"] == 6
    proxy_env = {e["name"]: e.get("value") for e in
                 one(objs, "Deployment", "-proxy")["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert proxy_env["BROKER_COUNT"] == "6"


def test_every_role_has_probes_resources_and_runs_as_non_root(objects):
    workloads = find(objects, "Deployment") + find(objects, "StatefulSet")
    assert len(workloads) >= 5
    for w in workloads:
        pod = w["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, w["metadata"]["name"]
        assert pod["securityContext"]["runAsUser"] != 0
        for c in pod["containers"]:
            where = f"{w['metadata']['name']}/{c['name']}"
            assert c.get("livenessProbe"), where
            assert c.get("readinessProbe"), where
            assert c["resources"].get("requests") and c["resources"].get("limits"), where
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, where


def test_roles_use_default_ports_and_listen_env(objects):
    for role, port in DEFAULT_PORTS.items():
        kind = "StatefulSet" if role in ("broker", "api") else "Deployment"
        w = one(objects, kind, "-streamer-0" if role == "streamer" else f"-{role}")
        c = w["spec"]["template"]["spec"]["containers"][0]
        assert c["args"][0] == role
        assert [p["containerPort"] for p in c["ports"]] == [port]
        assert c["args"][c["args"].index("--listen") + 1] == f"0.0.0.0:{port}"
        probe_port = c["livenessProbe"]["httpGet"]["port"]
        assert probe_port == c["ports"][0]["name"]
        ann = w["spec"]["template"]["metadata"]["annotations"]
        assert ann["prometheus.io/scrape"] == "true" and ann["prometheus.io/port"] == str(port)


def test_api_and_broker_probes_use_health_and_ready(objects):
    for role in ("api", "broker"):
        c = one(objects, "StatefulSet", f"-{role}")["spec"]["template"]["spec"]["containers"][0]
        assert c["livenessProbe"]["httpGet"]["path"] == "/health"
        assert c["readinessProbe"]["httpGet"]["path"] == "/ready"


def test_roles_are_wired_to_each_other_by_service_dns(objects):
    ns = NAMESPACE
    broker = one(objects, "StatefulSet", "-broker")
    proxy = one(objects, "Deployment", "-proxy")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in proxy["env"]}
    assert env["BROKER_SERVICE"] == broker["spec"]["serviceName"] == broker["metadata"]["name"]
    assert env["BROKER_NAMESPACE"] == ns and env["BROKER_PORT"] == "9092"
    proxy_svc = one(objects, "Service", "-proxy")["metadata"]["name"]
    api_svc = one(objects, "Service", "-api")["metadata"]["name"]
    collector = one(objects, "Deployment", "-collector")["spec"]["template"]["spec"]["containers"][0]
    args = collector["args"]
    assert args[args.index("--broker") + 1] == f"http://{proxy_svc}.{ns}.svc:9090"
    assert args[args.index("--api") + 1] == f"http://{api_svc}.{ns}.svc:8080"
    streamer = one(objects, "Deployment", "-streamer-0")["spec"]["template"]["spec"]["containers"][0]
    assert streamer["args"][streamer["args"].index("--broker") + 1] == f"http://{proxy_svc}.{ns}.svc:9090"


def test_works_in_any_namespace():
    for ns in ("default", "team-a", "observability"):
        objs = documents(render({}, namespace=ns))
        for o in objs:
            if o["kind"] in ("Namespace",):
                pytest.fail("the chart must not create namespaces")
            assert o["metadata"].get("namespace") == ns, f"{o['kind']}/{o['metadata']['name']}"
        text = yaml.safe_dump_all([strip_meta(o) for o in objs])
        for other in {"default", "team-a", "observability"} - {ns}:
            assert f".{other}.svc" not in text and f"namespace: {other}\n" not in text
    # and no template hard-codes one
    for tpl in (CHART / "templates").glob("*.yaml"):
        for line in tpl.read_text().splitlines():
            if line.strip().startswith("namespace:"):
                assert ".Release.Namespace" in line, f"{tpl.name}: {line.strip()}"


def test_image_and_security_defaults():
    sts = one(documents(render({})), "StatefulSet", "-api")
    c = sts["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "telemetry:0.1.0"  # chart appVersion when no tag is given
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
    objs = documents(render({"image": {"repository": "reg.example/telemetry", "tag": "1.2.3"}}))
    for w in find(objs, "Deployment") + find(objs, "StatefulSet"):
        if w["metadata"]["labels"]["app.kubernetes.io/component"] in ROLES:
            assert w["spec"]["template"]["spec"]["containers"][0]["image"] == "reg.example/telemetry:1.2.3"


def test_prod_adds_disruption_budgets_and_persistence(profile, objects):
    pdbs = find(objects, "PodDisruptionBudget")
    if profile == "prod":
        assert {p["metadata"]["name"].rsplit("-", 1)[-1] for p in pdbs} == {"broker", "proxy"}
        assert find(objects, "PersistentVolumeClaim", "-prometheus")
        assert find(objects, "PersistentVolumeClaim", "-grafana")
    else:
        assert pdbs == []


def test_optional_components_can_be_disabled():
    objs = documents(render({"prometheus": {"enabled": False}, "grafana": {"enabled": False},
                             "streamer": {"enabled": False}}))
    components = {o["metadata"]["labels"].get("app.kubernetes.io/component") for o in objs}
    assert not components & {"prometheus", "grafana", "streamer"}, components
    assert one(objs, "StatefulSet", "-broker")


def test_secret_values_are_base64(objects):
    for s in find(objects, "Secret"):
        for key, value in s["data"].items():
            assert base64.b64decode(value, validate=True), key


@pytest.mark.parametrize("bad", [
    {"brokers": {"replicas": 3}},                   # typo of a top-level key
    {"broker": {"replicas": "three"}},
    {"api": {"replicas": 2}},                       # the API owns its TSDB volume
    {"image": {"pullPolicy": "Sometimes"}},
    {"broker": {"persistence": {"size": "ten gigs"}}},
])
def test_values_schema_rejects_mistakes(bad):
    with pytest.raises(Exception) as err:
        render(bad)
    assert "schema" in str(err.value).lower() or "values" in str(err.value).lower(), str(err.value)


def test_values_files_pass_the_schema(profile):
    with helm().Chart.load(str(CHART)) as chart:
        chart.validate_schema(profile_values(profile))


def test_optional_ingress_routes_api_and_grafana():
    import kubernetes_validate

    assert not find(documents(render({})), "Ingress")
    objs = documents(render({"ingress": {"enabled": True, "className": "nginx",
                                         "api": {"host": "tel.example.com"},
                                         "grafana": {"host": "grafana.example.com"},
                                         "tls": [{"secretName": "tls", "hosts": ["tel.example.com"]}]}}))
    ing = find(objs, "Ingress")[0]
    for version in _kube_versions():
        kubernetes_validate.validate(strip_meta(ing), f"{version}.0", strict=True)
    backends = {r["host"]: r["http"]["paths"][0]["backend"]["service"]["name"] for r in ing["spec"]["rules"]}
    assert backends["tel.example.com"].endswith("-api")
    assert backends["grafana.example.com"].endswith("-grafana")
    with pytest.raises(Exception, match="ingress.api.host"):
        render({"ingress": {"enabled": True}})
