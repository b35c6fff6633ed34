"""The chart starts each role as `telemetry <role> ARGS`: every `--flag` it passes must be one
that role's command declares (Sources/telemetry/<Role>Command.swift, swift-argument-parser,
with the option groups it includes from Sources/telemetry/Support/), and it passes positional
arguments only to commands that take them. Read statically, so it needs no build; a command
that is still a stub is skipped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO, documents, find, profile_values, render

COMMANDS = REPO / "Sources" / "telemetry"
SUPPORT = COMMANDS / "Support"
ROLE_FILES = {"api": "APICommand.swift", "broker": "BrokerCommand.swift", "proxy": "ProxyCommand.swift",
              "streamer": "StreamerCommand.swift", "collector": "CollectorCommand.swift"}

_PROPERTY = re.compile(r"@(Option|Flag|Argument)\s*(\((?:[^()]|\([^()]*\))*\))?\s*(?:public\s+)?var\s+(\w+)", re.S)
_GROUP = re.compile(r"@OptionGroup\s+var\s+\w+\s*:\s*(\w+)")


def option_group(name: str) -> str:
    """The source of `struct <name>: ParsableArguments` in Sources/telemetry/Support/."""
    for path in sorted(SUPPORT.glob("*.swift")):
        text = path.read_text()
        m = re.search(rf"struct\s+{name}\s*:\s*ParsableArguments\s*\{{", text)
        if m:
            # to the next top-level declaration (or the end of the file)
            end = re.search(r"\n(?:struct|enum|extension|func|final class|class)\s", text[m.end():])
            return text[m.start(): m.end() + end.start() if end else len(text)]
    raise AssertionError(f"@OptionGroup type {name} is not declared in {SUPPORT}")


def command_source(path: Path) -> str:
    """The command's file with the option groups it includes (recursively) appended."""
    text, seen = path.read_text(), set()
    pending = _GROUP.findall(text)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        group = option_group(name)
        text += "\n" + group
        pending += _GROUP.findall(group)
    return text


def kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def declared(path: Path) -> tuple[set[str], set[str], bool] | None:
    """(long option names, long flag names (no value), takes positional arguments), or None
    for a stub command."""
    text = command_source(path)
    if "is being built" in text or not _PROPERTY.search(text):
        return None
    options, flags, positional = set(), set(), False
    for kind, attrs, name in _PROPERTY.findall(text):
        if kind == "Argument":
            positional = True
            continue
        attrs = attrs or ""
        custom = re.search(r'customLong\("([^"]+)"', attrs)
        only_short = re.search(r"name:\s*\.(short|customShort)\b", attrs) and not custom
        if only_short:
            continue
        long = custom.group(1) if custom else kebab(name)
        if kind == "Flag":
            flags.add(f"--{long}")
            if "inversion" in attrs:
                flags.add(f"--no-{long}")
        else:
            options.add(f"--{long}")
    return options, flags, positional


def test_kebab_naming_matches_argument_parser():
    assert kebab("dataDir") == "data-dir" and kebab("listen") == "listen"
    assert kebab("maxBodyBytes") == "max-body-bytes"


def role_args(values: dict) -> dict[str, list[str]]:
    objs = documents(render(values))
    out = {}
    for w in find(objs, "Deployment") + find(objs, "StatefulSet"):
        role = w["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        if role in ROLE_FILES:
            out[role] = w["spec"]["template"]["spec"]["containers"][0]["args"]
    return out


CASES = {
    "default": {},
    "dev": profile_values("dev"),
    "prod": profile_values("prod"),
    "scrape": {"streamer": {"scrape": "http://dcgm-exporter:9400/metrics"}},
}


@pytest.mark.parametrize("role", sorted(ROLE_FILES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_chart_passes_only_flags_the_command_declares(role, case):
    spec = declared(COMMANDS / ROLE_FILES[role])
    if spec is None:
        pytest.skip(f"{ROLE_FILES[role]} is not implemented yet")
    options, flags, takes_positional = spec
    args = role_args(CASES[case])[role]
    assert args[0] == role
    i = 1
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            name = arg.split("=", 1)[0]
            assert name in options | flags, \
                f"{role}: {name} is not declared in {ROLE_FILES[role]} ({sorted(options | flags)})"
            if name in options and "=" not in arg:
                assert i + 1 < len(args), f"{role}: {name} needs a value"
                i += 1  # the option's value
        else:
            assert takes_positional, f"{role}: positional argument {arg!r} but the command takes none"
        i += 1
    assert "--listen" in args, f"{role} must be told where to listen (0.0.0.0 in a pod)"


INFORMATIONAL_ENV = {"POD_NAME", "POD_NAMESPACE"}


@pytest.mark.parametrize("role", sorted(ROLE_FILES))
def test_chart_sets_only_environment_variables_the_command_reads(role):
    path = COMMANDS / ROLE_FILES[role]
    if declared(path) is None:
        pytest.skip(f"{ROLE_FILES[role]} is not implemented yet")
    read = set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', command_source(path)))
    objs = documents(render({}))
    w = next(o for o in find(objs, "Deployment") + find(objs, "StatefulSet")
             if o["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == role)
    env = {e["name"] for e in w["spec"]["template"]["spec"]["containers"][0]["env"]}
    unread = env - read - INFORMATIONAL_ENV
    assert not unread, f"{role}: the chart sets {sorted(unread)} but {ROLE_FILES[role]} never reads them"
