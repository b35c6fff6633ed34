"""Secrets: generated when not given, taken from values or an existing Secret, and kept
across upgrades through `lookup`; plus snapshot comparisons of the rendered chart with the
generated secret values masked (offline `lookup` is empty, so they differ on every render)."""

from __future__ import annotations

import base64
import copy
import difflib
import os
import re
from pathlib import Path

import pytest
import yaml

from conftest import (CHART, PROFILES, documents, find, one, profile_values, render,
                      strip_meta)

SNAPSHOTS = Path(__file__).parent / "snapshots"
MASK = "<generated>"


def secret_data(objs, suffix):
    s = one(objs, "Secret", suffix)
    return {k: base64.b64decode(v).decode() for k, v in s["data"].items()}


def test_keys_are_generated_when_not_given():
    first = secret_data(documents(render({})), "-auth")
    second = secret_data(documents(render({})), "-auth")
    assert set(first) == {"API_KEY", "SERVICE_TOKEN"}
    assert len(first["API_KEY"]) >= 32 and len(first["SERVICE_TOKEN"]) >= 32
    assert first["API_KEY"] != first["SERVICE_TOKEN"]
    # Offline there is nothing to look up, so each render generates new random values.
    assert first["API_KEY"] != second["API_KEY"]


def test_given_keys_are_used_verbatim():
    data = secret_data(documents(render({"auth": {"apiKey": "k-123", "serviceToken": "t-456"}})), "-auth")
    assert data == {"API_KEY": "k-123", "SERVICE_TOKEN": "t-456"}


def test_generated_keys_are_kept_across_upgrades_via_lookup():
    """The template reads the live Secret (lookup) before generating. Offline `lookup`
    returns nothing, so check the template wiring that an upgrade in a cluster takes."""
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    block = helpers[helpers.index('define "telemetry.persistentSecretValue"'):]
    block = block[:block.index("{{- end }}\n{{- end }}")]
    assert 'lookup "v1" "Secret" .ctx.Release.Namespace .secret' in block
    assert "b64dec" in block and "randAlphaNum" in block
    assert block.index("lookup") < block.index("randAlphaNum")
    secret_tpl = (CHART / "templates" / "secret.yaml").read_text()
    assert secret_tpl.count("telemetry.persistentSecretValue") == 2
    # An upgrade render (is_upgrade) still renders offline.
    upgraded = secret_data(documents(render({}, is_upgrade=True)), "-auth")
    assert upgraded["API_KEY"]


def test_value_found_by_lookup_wins_over_generation(tmp_path):
    """Simulate the cluster: a copy of the chart whose `lookup` answers with a Secret from
    values, exactly shaped like the API server's answer (base64 data)."""
    import shutil

    chart = tmp_path / "telemetry-stack"
    shutil.copytree(CHART, chart)
    (chart / "values.schema.json").unlink()  # the fake cluster rides in as an extra value
    helpers = chart / "templates" / "_helpers.tpl"
    text = helpers.read_text()
    live = 'lookup "v1" "Secret" .ctx.Release.Namespace .secret'
    assert live in text
    helpers.write_text(text.replace(live, "(index .ctx.Values.fakeCluster .secret)"))
    existing = {"data": {"API_KEY": base64.b64encode(b"kept-key").decode(),
                         "SERVICE_TOKEN": base64.b64encode(b"kept-token").decode()}}
    values = {"fakeCluster": {"rel-telemetry-stack-auth": existing,
                              "rel-telemetry-stack-grafana": {"data": {}}}}
    from conftest import helm

    with helm().Chart.load(str(chart)) as c:
        objs = documents(c.render(values, name="rel", namespace="ns", is_upgrade=True))
    assert secret_data(objs, "-auth") == {"API_KEY": "kept-key", "SERVICE_TOKEN": "kept-token"}
    # a Secret without the key (here Grafana's) still gets a generated value
    assert len(secret_data(objs, "-grafana")["admin-password"]) >= 16


def test_existing_secret_is_referenced_and_not_created():
    objs = documents(render({"auth": {"existingSecret": "my-keys"}}))
    assert not find(objs, "Secret", "-auth")
    refs = set()
    for w in find(objs, "Deployment") + find(objs, "StatefulSet"):
        for c in w["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref and e["name"] in ("API_KEY", "SERVICE_TOKEN", "TELEMETRY_API_KEY"):
                    refs.add((e["name"], ref["name"], ref["key"]))
    assert ("API_KEY", "my-keys", "API_KEY") in refs
    assert ("SERVICE_TOKEN", "my-keys", "SERVICE_TOKEN") in refs
    assert ("TELEMETRY_API_KEY", "my-keys", "API_KEY") in refs  # Grafana's JSON datasource


def test_every_role_that_talks_to_another_gets_the_service_token(objects):
    roles = set()
    for w in find(objects, "Deployment") + find(objects, "StatefulSet"):
        name = w["metadata"]["name"]
        role = w["metadata"]["labels"]["app.kubernetes.io/component"]
        if role not in ("broker", "api", "proxy", "streamer", "collector"):
            continue
        roles.add(role)
        env = {e["name"]: e for e in w["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["SERVICE_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == "SERVICE_TOKEN", name
        if role == "api":
            assert env["API_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "API_KEY"
    assert roles == {"broker", "api", "proxy", "streamer", "collector"}


def test_grafana_admin_password_generated_or_given():
    generated = secret_data(documents(render({})), "-grafana")
    assert generated["admin-user"] == "admin" and len(generated["admin-password"]) >= 16
    given = secret_data(documents(render({"grafana": {"adminPassword": "pw"}})), "-grafana")
    assert given["admin-password"] == "pw"


# ------------------------------------------------------------------------- snapshots

class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (config files in ConfigMaps) as readable | blocks."""


def _str(dumper, value):
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def masked(objs: list[dict]) -> str:
    """The render as YAML with secret values replaced by a fixed marker."""
    out = []
    for obj in objs:
        obj = copy.deepcopy(strip_meta(obj))
        if obj["kind"] == "Secret":
            obj["data"] = {k: MASK for k in obj.get("data", {})}
        elif obj["kind"] == "ConfigMap" and obj["metadata"]["name"].endswith("-grafana-dashboards"):
            # compared with dashboards/*.json by test_dashboards.py; keep snapshots readable
            obj["data"] = {k: f"<dashboards/{k}>" for k in obj["data"]}
        out.append(obj)
    return yaml.dump_all(out, Dumper=_BlockDumper, sort_keys=True, width=120)


@pytest.mark.parametrize("name", list(PROFILES))
def test_render_matches_snapshot(name):
    text = masked(documents(render(profile_values(name))))
    assert MASK in text
    path = SNAPSHOTS / f"{name}.yaml"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text)
        if os.environ.get("UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"snapshot {path.name} was missing and has been written; commit it")
        return
    expected = path.read_text()
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            f"snapshots/{path.name}", "rendered", n=2))
        pytest.fail("render differs from the snapshot (if intended: UPDATE_SNAPSHOTS=1 "
                    f"Tests/deploy/run.sh):\n{diff[:6000]}")


def test_masked_render_is_stable_across_renders():
    a = masked(documents(render({})))
    b = masked(documents(render({})))
    assert a == b
    assert not re.search(r"API_KEY: (?!<generated>)", a)
