"""Dashboards and monitoring wiring: the JSON parses, every Prometheus query names metrics
the code registers (or deploy/METRICS.md lists for roles not written yet), every JSON
datasource target names a DCGM metric, and Grafana/Prometheus are provisioned to match."""

from __future__ import annotations

import json
import os
import re
import warnings

import pytest
import yaml

from conftest import (DASHBOARDS, NAMESPACE, RELEASE, dcgm_label_names, dcgm_metric_names,
                      documents, find, grafana_contract, known_prometheus_metrics, one, render)

JSON_DS_UID = "telemetry-json"
PROM_DS_UID = "telemetry-prometheus"
PROMQL_DS_UID = "telemetry-promql"  # the API's own /prometheus query API
EXPECTED = {"gpu-fleet.json", "single-gpu.json", "pipeline-health.json", "gpu-promql.json"}

PROMQL_WORDS = {
    # aggregations, functions and keywords
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "and", "or", "unless", "offset", "rate", "irate", "increase", "delta", "idelta",
    "deriv", "histogram_quantile", "abs", "clamp_min", "clamp_max", "ceil", "floor", "round",
    "label_replace", "label_join", "vector", "scalar", "time", "absent", "changes", "resets",
    "sort", "sort_desc", "avg_over_time", "max_over_time", "min_over_time", "sum_over_time",
    "count_over_time", "last_over_time", "predict_linear", "inf", "nan",
}


def all_dashboards() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: dict):
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def targets(dashboard: dict):
    for p in panels(dashboard):
        for t in p.get("targets", []):
            yield p, t


def promql_metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (no parser needed for our dashboards' subset)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)           # string literals
    e = re.sub(r"\{[^}]*\}", "", e)                         # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                        # range selectors
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\{?\w+\}?", " ", e)                      # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def base_metric(name: str, known: set[str]) -> str:
    if name in known:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in known:
            return name[: -len(suffix)]
    return name


def test_the_dashboards_exist_and_parse():
    boards = all_dashboards()
    assert set(boards) == EXPECTED
    uids = [b["uid"] for b in boards.values()]
    assert len(set(uids)) == len(EXPECTED)
    for name, b in boards.items():
        assert b["title"] and b["panels"], name
        ids = [p["id"] for p in panels(b)]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"


def test_promql_metric_name_extraction():
    expr = ('histogram_quantile(0.99, sum by (le, route) '
            '(rate(http_request_duration_seconds_bucket{role="api"}[$__rate_interval])))')
    assert promql_metric_names(expr) == {"http_request_duration_seconds_bucket"}
    assert promql_metric_names('sum by (role) (up{job="telemetry"}) + broker_lag') == {"up", "broker_lag"}


def test_every_prometheus_query_names_a_known_metric():
    in_code, in_contract = known_prometheus_metrics()
    known = in_code | in_contract
    boards = all_dashboards()
    unknown, contract_only, used = [], set(), set()
    for name, board in boards.items():
        for panel, t in targets(board):
            if t.get("datasource", panel.get("datasource", {})).get("uid") != PROM_DS_UID:
                continue
            names = promql_metric_names(t["expr"])
            assert names, f"{name} / {panel['title']}: no metric in {t['expr']!r}"
            for n in names:
                b = base_metric(n, known)
                used.add(b)
                if b not in known:
                    unknown.append(f"{name} / {panel['title']}: {n} ({t['expr']})")
                elif b not in in_code:
                    contract_only.add(b)
    assert not unknown, "metrics neither registered in Sources/ nor listed in deploy/METRICS.md:\n" + "\n".join(unknown)
    if contract_only:
        message = ("dashboards use metrics listed in deploy/METRICS.md that no Swift source registers "
                   f"(yet): {sorted(contract_only)}")
        if os.environ.get("DEPLOY_STRICT_METRICS") == "1":
            pytest.fail(message)
        warnings.warn(message)
    # The pipeline dashboard covers what the issue asks for.
    for required in ("broker_lag", "broker_redeliveries_total", "broker_dead_letters_total",
                     "tsdb_wal_fsync_duration_seconds", "tsdb_query_duration_seconds",
                     "collector_samples_written_total"):
        assert required in used, required


def test_grafana_contract_is_read_from_the_api_sources():
    contract = grafana_contract()
    assert {"uuid", "hostname", "agg", "group_by"} <= contract["payload"]
    assert {"gpus", "hosts"} <= contract["variable"]
    assert {"avg", "max", "last"} <= contract["agg"]


def payload_of(target: dict) -> dict:
    """The payload as simpod-json-datasource sends it: the JSON text with each "$var" replaced."""
    text = target.get("payload") or "{}"
    if isinstance(text, dict):
        return text
    return json.loads(re.sub(r"\$\{?(\w+)\}?", r"value-of-\1", text))


def test_every_json_datasource_target_is_a_dcgm_metric():
    dcgm = dcgm_metric_names()
    contract = grafana_contract()
    assert "DCGM_FI_DEV_GPU_UTIL" in dcgm
    seen = set()
    for name, board in all_dashboards().items():
        for panel, t in targets(board):
            if t.get("datasource", {}).get("uid") != JSON_DS_UID:
                continue
            where = f"{name} / {panel['title']}"
            assert t["target"] in dcgm, f"{where}: {t['target']}"
            seen.add(t["target"])
            payload = payload_of(t)
            assert set(payload) <= contract["payload"], f"{where}: payload fields {sorted(set(payload) - contract['payload'])}"
            assert payload.get("agg", "avg") in contract["agg"], where
            for label in payload.get("group_by", []):
                assert label in dcgm_label_names(), f"{where}: group_by {label}"
    assert {"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE"} <= seen


def test_variables_use_queries_the_api_answers():
    contract = grafana_contract()
    for name, board in all_dashboards().items():
        for v in board["templating"]["list"]:
            if v.get("datasource", {}).get("uid") != JSON_DS_UID:
                continue
            q = v["query"]
            assert q["format"] == "string", (name, v["name"])
            assert q["query"] in contract["variable"] or re.fullmatch(r"label_values\(\w+\)", q["query"]), (name, q)


def test_fleet_dashboard_filters_by_host_variable():
    board = all_dashboards()["gpu-fleet.json"]
    host = {v["name"]: v for v in board["templating"]["list"]}["host"]
    # "All" sends $__all, which the API reads as no filter
    assert host["includeAll"] and host["allValue"] == "$__all" and not host["multi"]
    for panel, t in targets(board):
        assert json.loads(t["payload"])["hostname"] == "$host", panel["title"]


def test_dashboards_only_use_provisioned_datasources():
    for name, board in all_dashboards().items():
        for panel in panels(board):
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] in {JSON_DS_UID, PROM_DS_UID, PROMQL_DS_UID}, (name, panel["title"])


def test_grafana_provisioning_matches_the_dashboards():
    objs = documents(render({}))
    ds_cm = one(objs, "ConfigMap", "-grafana-datasources")
    ds = yaml.safe_load(ds_cm["data"]["datasources.yaml"])["datasources"]
    by_uid = {d["uid"]: d for d in ds}
    json_ds = by_uid[JSON_DS_UID]
    assert json_ds["type"] == "simpod-json-datasource"
    api_svc = one(objs, "Service", "-api")["metadata"]["name"]
    assert json_ds["url"] == f"http://{api_svc}.{NAMESPACE}.svc:8080/grafana"
    assert json_ds["jsonData"]["httpHeaderName1"] == "X-API-Key"
    assert json_ds["secureJsonData"]["httpHeaderValue1"] == "${TELEMETRY_API_KEY}"
    prom = by_uid[PROM_DS_UID]
    prom_svc = one(objs, "Service", "-prometheus")["metadata"]["name"]
    assert prom["type"] == "prometheus" and prom["url"] == f"http://{prom_svc}.{NAMESPACE}.svc:9090"
    promql = by_uid[PROMQL_DS_UID]
    assert promql["type"] == "prometheus" and promql["url"] == f"http://{api_svc}.{NAMESPACE}.svc:8080/prometheus"
    # the API key as the Basic-auth password (the API accepts it like X-API-Key)
    assert promql["basicAuth"] is True and promql["basicAuthUser"]
    assert promql["secureJsonData"]["basicAuthPassword"] == "${TELEMETRY_API_KEY}"
    assert promql["jsonData"]["httpMethod"] == "POST"

    dash_cm = one(objs, "ConfigMap", "-grafana-dashboards")
    assert set(dash_cm["data"]) == EXPECTED
    for k, v in dash_cm["data"].items():
        assert json.loads(v) == all_dashboards()[k]

    grafana = one(objs, "Deployment", "-grafana")["spec"]["template"]["spec"]
    env = {e["name"]: e for e in grafana["containers"][0]["env"]}
    assert "simpod-json-datasource" in env["GF_PLUGINS_PREINSTALL_SYNC"]["value"]
    assert env["TELEMETRY_API_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "API_KEY"
    mounts = {m["mountPath"] for m in grafana["containers"][0]["volumeMounts"]}
    provider = yaml.safe_load(one(objs, "ConfigMap", "-grafana-dashboard-provider")["data"]["dashboards.yaml"])
    assert provider["providers"][0]["options"]["path"] in mounts
    assert "/etc/grafana/provisioning/datasources" in mounts


def test_prometheus_scrapes_every_role_of_the_release():
    objs = documents(render({}))
    cm = one(objs, "ConfigMap", "-prometheus")
    cfg = yaml.safe_load(cm["data"]["prometheus.yml"])
    job = next(j for j in cfg["scrape_configs"] if j["job_name"] == "telemetry")
    sd = job["kubernetes_sd_configs"][0]
    assert sd["role"] == "pod" and sd["namespaces"]["names"] == [NAMESPACE]
    assert f"app.kubernetes.io/instance={RELEASE}" in sd["selectors"][0]["label"]
    keep = [r for r in job["relabel_configs"] if r.get("action") == "keep"]
    assert keep and keep[0]["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
    assert any(r.get("target_label") == "role" for r in job["relabel_configs"])
    # every role's pods carry the annotations the job keeps, with the right port
    roles = set()
    for w in find(objs, "Deployment") + find(objs, "StatefulSet"):
        tpl = w["spec"]["template"]
        ann = tpl["metadata"].get("annotations", {})
        if ann.get("prometheus.io/scrape") == "true":
            roles.add(tpl["metadata"]["labels"]["app.kubernetes.io/component"])
            ports = [p["containerPort"] for c in tpl["spec"]["containers"] for p in c.get("ports", [])]
            assert int(ann["prometheus.io/port"]) in ports
            assert tpl["metadata"]["labels"]["app.kubernetes.io/part-of"] == "telemetry-stack"
    assert roles == {"broker", "api", "proxy", "streamer", "collector"}
    # discovery is namespaced: a Role, never a ClusterRole
    assert find(objs, "Role", "-prometheus") and not find(objs, "ClusterRole")
    binding = one(objs, "RoleBinding", "-prometheus")
    sa = one(objs, "Deployment", "-prometheus")["spec"]["template"]["spec"]["serviceAccountName"]
    assert binding["subjects"][0]["name"] == sa


@pytest.mark.parametrize("metric", ["tsdb_wal_fsync_duration_seconds", "tsdb_query_duration_seconds"])
def test_latency_panels_use_histogram_buckets(metric):
    board = all_dashboards()["pipeline-health.json"]
    exprs = [t["expr"] for _, t in targets(board) if "expr" in t and metric in t["expr"]]
    assert exprs and all(f"{metric}_bucket" in e and "histogram_quantile" in e for e in exprs)


def test_promql_dashboard_is_dcgm_exporter_style_on_the_api():
    """gpu-promql.json: every panel and variable on the API's /prometheus datasource, the
    `instance`/`gpu` variables of NVIDIA's DCGM Exporter dashboard, every metric a DCGM field."""
    board = all_dashboards()["gpu-promql.json"]
    # the sample's fields, plus the profiling fields of dcgm-exporter's default counters
    # (the sample CSV comes from a GPU without profiling metrics)
    dcgm = dcgm_metric_names() | {"DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
                                  "DCGM_FI_PROF_DRAM_ACTIVE", "DCGM_FI_PROF_PCIE_TX_BYTES",
                                  "DCGM_FI_PROF_PCIE_RX_BYTES"}
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert set(variables) == {"instance", "gpu"}
    assert variables["instance"]["query"]["query"] == "label_values(DCGM_FI_DEV_GPU_TEMP, instance)"
    assert variables["gpu"]["query"]["query"].startswith("label_values(DCGM_FI_DEV_GPU_TEMP{instance=~\"$instance\"}")
    for v in variables.values():
        assert v["datasource"]["uid"] == PROMQL_DS_UID
        assert v["multi"] and v["includeAll"] and v["allValue"] == ".*"
    titles = set()
    for panel, t in targets(board):
        assert panel["datasource"]["uid"] == PROMQL_DS_UID and t["datasource"]["uid"] == PROMQL_DS_UID
        names = promql_metric_names(t["expr"])
        assert names and names <= dcgm, (panel["title"], names - dcgm)
        assert 'instance=~"$instance"' in t["expr"] and 'gpu=~"$gpu"' in t["expr"], panel["title"]
        titles.add(panel["title"])
    assert {"GPU Temperature", "GPU Power Usage", "GPU SM Clocks", "GPU Utilization",
            "Tensor Core Utilization", "GPU Framebuffer Mem Used", "GPU Power Total"} <= titles
