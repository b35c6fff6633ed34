"""Prometheus's own tool checks what the chart gives Prometheus: the rendered prometheus.yml
(`promtool check config`) and every PromQL query of the dashboards (`promtool check rules`
parses each expression as a recording rule), including the GPU dashboard on the API's own
/prometheus datasource. run.sh provides promtool (env PROMTOOL)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from conftest import DASHBOARDS, documents, one, profile_values, render

PROM_DS_UID = "telemetry-prometheus"
PROMQL_DS_UID = "telemetry-promql"  # the API's /prometheus: same PromQL, parsed the same way


def promtool() -> str:
    path = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not path:
        if os.environ.get("CI"):
            pytest.fail("promtool not available (Tests/deploy/run.sh fetches it from Debian's prometheus package)")
        pytest.skip("promtool not available")
    return path


def test_rendered_prometheus_config_passes_promtool(tmp_path, profile):
    tool = promtool()
    cm = one(documents(render(profile_values(profile))), "ConfigMap", "-prometheus")
    config = yaml.safe_load(cm["data"]["prometheus.yml"])
    # Debian builds Prometheus without Kubernetes discovery, so its promtool rejects
    # kubernetes_sd_configs; swap it for a static target and check everything else
    # (globals, relabel rules and their regexes). test_dashboards.py checks the SD part.
    for job in config["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["static_configs"] = [{"targets": ["pod.invalid:9090"]}]
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(yaml.safe_dump(config))
    out = subprocess.run([tool, "check", "config", "--syntax-only", str(cfg)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_dashboard_promql_query_parses(tmp_path):
    tool = promtool()
    rules = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        stack = list(board["panels"])
        while stack:
            panel = stack.pop()
            stack.extend(panel.get("panels", []))
            for i, t in enumerate(panel.get("targets", [])):
                if t.get("datasource", {}).get("uid") not in (PROM_DS_UID, PROMQL_DS_UID):
                    continue
                # Grafana's interval variables become concrete durations for the parser.
                expr = (t["expr"].replace("$__rate_interval", "1m").replace("$__range", "1h")
                        .replace("$__interval", "30s"))
                rules.append({"record": f"dashboard:{path.stem.replace('-', '_')}:{panel['id']}_{i}",
                              "expr": expr})
    assert len(rules) >= 20
    file = tmp_path / "dashboard-queries.rules.yml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    out = subprocess.run([tool, "check", "rules", str(file)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(rules)} rules found" in out.stdout
