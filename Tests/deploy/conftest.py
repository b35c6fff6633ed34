"""Shared fixtures for the deployment tests: offline chart rendering and metric catalogues.

Everything runs offline: helm-python-sdk renders and lints the chart with Helm's own engine
(no cluster, so `lookup` is empty) and kubernetes-validate carries the API schemas.
"""

from __future__ import annotations

import csv
import functools
import glob
import os
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CHART = DEPLOY / "helm" / "telemetry-stack"
DASHBOARDS = CHART / "dashboards"
PROFILES = {"default": None, "dev": "values-dev.yaml", "prod": "values-prod.yaml"}
RELEASE = "rel"
NAMESPACE = "gpu-telemetry"

# Roles whose metric names the dashboards may use, by name prefix.
METRIC_PREFIXES = ("tsdb", "http", "api", "broker", "proxy", "streamer", "collector")
# Series every Prometheus has without any exporter.
PROMETHEUS_BUILTINS = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}


def helm():
    import helm_python  # imported lazily so collection errors name the missing package

    return helm_python


def profile_values(profile: str) -> dict:
    name = PROFILES[profile]
    if name is None:
        return {}
    return yaml.safe_load((CHART / name).read_text()) or {}


def deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def render(values: dict | None = None, *, namespace: str = NAMESPACE, release: str = RELEASE,
           is_upgrade: bool = False) -> dict[str, str]:
    """Renders the chart offline; returns {template path: manifest text}."""
    h = helm()
    with h.Chart.load(str(CHART)) as chart:
        return chart.render(values or {}, name=release, namespace=namespace,
                            is_install=not is_upgrade, is_upgrade=is_upgrade)


def documents(manifests: dict[str, str]) -> list[dict]:
    """Every Kubernetes object of a render (NOTES.txt excluded), in template order."""
    docs = []
    for path in sorted(manifests):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(manifests[path]):
            if doc:
                doc.setdefault("__template__", path)
                docs.append(doc)
    return docs


def strip_meta(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "__template__"}


@functools.lru_cache(maxsize=None)
def _render_profile(profile: str, namespace: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(render(profile_values(profile), namespace=namespace).items()))


@pytest.fixture(params=list(PROFILES), ids=list(PROFILES))
def profile(request) -> str:
    return request.param


@pytest.fixture
def rendered(profile) -> dict[str, str]:
    return dict(_render_profile(profile, NAMESPACE))


@pytest.fixture
def objects(rendered) -> list[dict]:
    return documents(rendered)


def find(objs: list[dict], kind: str, name_suffix: str | None = None) -> list[dict]:
    out = [o for o in objs if o.get("kind") == kind]
    if name_suffix is not None:
        out = [o for o in out if o["metadata"]["name"].endswith(name_suffix)]
    return out


def one(objs: list[dict], kind: str, name_suffix: str) -> dict:
    found = find(objs, kind, name_suffix)
    assert len(found) == 1, f"expected one {kind} named *{name_suffix}, got {[o['metadata']['name'] for o in found]}"
    return found[0]


# ---------------------------------------------------------------- metric catalogues

_LITERAL = re.compile(r'"((?:%s)_[a-z0-9_]+)"' % "|".join(METRIC_PREFIXES))
# swift-prometheus descriptors:
# MetricNameDescriptor(namespace: "a", subsystem: "b", metricName: "x", unitName: "total", ...)
_DESCRIPTOR_START = re.compile(r"MetricNameDescriptor\s*\(")


def _descriptor_args(text: str, start: int) -> str:
    depth, i = 1, start
    while i < len(text) and depth:
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
        i += 1
    return text[start:i]


def _arg(args: str, label: str) -> str:
    m = re.search(r'\b%s:\s*"([a-z0-9_]*)"' % label, args)
    return m.group(1) if m else ""


def swift_metric_names() -> set[str]:
    """Prometheus metric names registered in Sources/**/*.swift (string literals and descriptors)."""
    names: set[str] = set()
    for path in glob.glob(str(REPO / "Sources" / "**" / "*.swift"), recursive=True):
        text = Path(path).read_text(errors="replace")
        literals = set(_LITERAL.findall(text))
        for m in _DESCRIPTOR_START.finditer(text):
            args = _descriptor_args(text, m.end())
            parts = [_arg(args, k) for k in ("namespace", "subsystem", "metricName", "unitName")]
            if parts[2]:
                names.add("_".join(p for p in parts if p))
                if len([p for p in parts if p]) > 1:
                    literals.discard(parts[2])  # only a fragment of the emitted name
        names.update(literals)
    return {n for n in names if n.split("_", 1)[0] in METRIC_PREFIXES}


def documented_metric_names() -> set[str]:
    """Names listed in deploy/METRICS.md (a copy of the project's metric contract)."""
    text = (DEPLOY / "METRICS.md").read_text()
    found = set(re.findall(r"\b((?:%s)_[a-z0-9_]+)" % "|".join(METRIC_PREFIXES), text))
    return {n for n in found if not n.endswith("_")}


def known_prometheus_metrics() -> tuple[set[str], set[str]]:
    """(names the code registers, names the metric contract deploy/METRICS.md lists).

    Dashboards may use either; a name only in the contract (a role not finished yet) is
    reported as a warning, and fails with DEPLOY_STRICT_METRICS=1.
    """
    return swift_metric_names() | PROMETHEUS_BUILTINS, documented_metric_names()


def sample_csv() -> Path | None:
    candidates = [
        *sorted(glob.glob(str(REPO / "samples" / "dcgm_metrics*.csv"))),
        *sorted(glob.glob(str(REPO.parent / "shared" / "data" / "dcgm_metrics_*.csv"))),
    ]
    for c in candidates:
        if ".build" not in c and os.path.isfile(c):
            return Path(c)
    return None


def dcgm_metric_names() -> set[str]:
    path = sample_csv()
    if path is not None:
        with path.open(newline="") as f:
            return {row["metric_name"] for row in csv.DictReader(f) if row.get("metric_name")}
    return set(re.findall(r"\bDCGM_FI_[A-Z0-9_]+\b", (DEPLOY / "METRICS.md").read_text()))


def dcgm_label_names() -> set[str]:
    """Label names a DCGM series carries (DESIGN.md data model), for variable queries."""
    return {"gpu", "UUID", "device", "modelName", "Hostname", "container", "pod", "namespace",
            "instance", "job", "DCGM_FI_DRIVER_VERSION"}


# ------------------------------------------------ the API's Grafana JSON datasource contract

GRAFANA_FALLBACK = {
    "payload": {"hostname", "uuid", "namespace", "agg", "group_by", "format"},
    "variable": {"hosts", "hostname", "hostnames", "gpus", "uuid", "uuids", "namespaces", "namespace",
                 "metrics", "metric", "label_names"},
    "agg": {"avg", "min", "max", "sum", "count", "first", "last", "p50", "p90", "p95", "p99"},
}


def grafana_contract() -> dict[str, set[str]]:
    """Payload fields, variable queries and aggregations the API accepts, read from
    Sources/APIServer/Routes/Grafana*.swift and Sources/TSDB/Query/Query.swift when they
    exist (so the dashboards track the code), else the values above."""
    out = {k: set(v) for k, v in GRAFANA_FALLBACK.items()}
    routes = REPO / "Sources" / "APIServer" / "Routes" / "GrafanaRoutes.swift"
    if routes.exists():
        text = routes.read_text()
        m = re.search(r"payloadNames[^=]*=\s*\[(.*?)\n\s*\]", text, re.S)
        if m:
            names = set(re.findall(r'\(\s*"([a-z_]+)"\s*,', m.group(1)))
            if names:
                out["payload"] = names
        m = re.search(r"func variableValues.*?switch target \{(.*?)default:", text, re.S)
        if m:
            cases = set(re.findall(r'"([a-z_]+)"', m.group(1)))
            if cases:
                out["variable"] = cases
    query = REPO / "Sources" / "TSDB" / "Query" / "Query.swift"
    if query.exists():
        m = re.search(r"enum Aggregation[^{]*\{\s*case ([a-z0-9_, ]+)", query.read_text())
        if m:
            out["agg"] = {a.strip() for a in m.group(1).split(",") if a.strip()}
    return out
