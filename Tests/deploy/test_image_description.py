"""deploy/docker/Dockerfile and deploy/docker/build-offline.sh describe the same runtime image:
base, packages, user, paths, environment, working directory, volume, user, ports, entrypoint,
command and labels. The Dockerfile is read with BuildKit's parser (PyPI `dockerfile`), the
script through its `--print-config`; when an archive has been built (test-artifacts/image or
TELEMETRY_IMAGE_ARCHIVE) its OCI config is compared as well."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import CHART, DEPLOY, REPO

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
SCRIPT = DEPLOY / "docker" / "build-offline.sh"
DEBIAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # debian images' ENV PATH


def script_config() -> dict:
    out = subprocess.run(["bash", str(SCRIPT), "--print-config"], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def _substitute(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), text)


def dockerfile_runtime() -> dict:
    """The final stage of the Dockerfile as the same description --print-config gives."""
    import dockerfile

    cmds = dockerfile.parse_file(str(DOCKERFILE))
    args: dict[str, str] = {}
    stages: list[list] = []
    for c in cmds:
        if c.cmd.upper() == "FROM":
            stages.append([])
        if not stages and c.cmd.upper() == "ARG" and "=" in c.value[0]:
            k, v = c.value[0].split("=", 1)
            args[k] = v
        if stages:
            stages[-1].append(c)
    build, runtime = stages[0], stages[-1]
    base = _substitute(runtime[0].value[0], args)
    run = " ".join(" ".join(c.value) for c in runtime if c.cmd.upper() == "RUN")
    words = shlex.split(run.replace("\\\n", " "))
    install = words[words.index("install"):]
    packages = []
    for w in install[1:]:
        if w in ("&&", ";"):
            break
        if not w.startswith("-"):
            packages.append(w)
    def command(name: str) -> list[str]:
        ws = words[words.index(name):]
        return ws[:ws.index("&&")] if "&&" in ws else ws

    useradd, groupadd = command("useradd"), command("groupadd")
    opt = lambda ws, name: ws[ws.index(name) + 1]  # noqa: E731
    copies = {c.value[-2]: c.value[-1].rstrip("/") for c in runtime if c.cmd.upper() == "COPY"}
    build_text = " ".join(" ".join(c.value) for c in build)
    sample_name = re.search(r"/out/share/([\w.-]+\.csv)", build_text).group(1)
    env: list[str] = []
    for c in runtime:
        if c.cmd.upper() == "ENV":
            pairs = list(zip(c.value[::2], c.value[1::2]))
            env += [f"{k}={_substitute(v, {'PATH': DEBIAN_PATH})}" for k, v in pairs]
    stage_args = dict(args)
    labels = {}
    for c in runtime:
        if c.cmd.upper() == "LABEL":
            for k, v in zip(c.value[::2], c.value[1::2]):
                labels[k] = _substitute(v.strip('"'), stage_args)
    last = lambda name: [c.value for c in runtime if c.cmd.upper() == name][-1]  # noqa: E731
    return {
        "base": base,
        "packages": packages,
        "user": {"name": useradd[-1], "uid": int(opt(useradd, "--uid")), "gid": int(opt(groupadd, "--gid")),
                 "home": opt(useradd, "--home-dir"), "shell": opt(useradd, "--shell")},
        "paths": {"app": copies["/out/app/"], "share": copies["/out/share/"],
                  "sample": copies["/out/share/"] + "/" + sample_name},
        "version": args["VERSION"],
        "config": {"User": last("USER")[0], "Env": env, "WorkingDir": last("WORKDIR")[0],
                   "Volumes": list(last("VOLUME")), "ExposedPorts": [f"{p}/tcp" for p in last("EXPOSE")],
                   "Entrypoint": list(last("ENTRYPOINT")), "Cmd": list(last("CMD")), "Labels": labels},
    }


def test_script_and_dockerfile_describe_the_same_image():
    want, got = dockerfile_runtime(), script_config()
    assert got["base"] == want["base"]
    assert want["base"].split(":")[1].startswith(got["suite"]), (want["base"], got["suite"])
    assert sorted(got["packages"]) == sorted(want["packages"])
    assert got["user"] == want["user"]
    assert got["paths"] == want["paths"]
    assert got["version"] == want["version"]
    assert got["config"] == want["config"]


def test_the_image_is_the_one_the_chart_runs():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    got = script_config()
    assert got["version"] == str(chart["appVersion"])
    assert got["tag"] == f"{values['image']['repository']}:{chart['appVersion']}"
    assert got["config"]["User"].split(":") == [str(values["podSecurityContext"]["runAsUser"]),
                                                str(values["podSecurityContext"]["runAsGroup"])]
    # The streamer replays the sample where the image puts it.
    assert values["streamer"]["csv"] == got["paths"]["sample"]


def built_archive() -> Path | None:
    for p in (os.environ.get("TELEMETRY_IMAGE_ARCHIVE"), REPO / "test-artifacts" / "image" / "telemetry.oci.tar"):
        if p and Path(p).is_file():
            return Path(p)
    return None


def test_a_built_archive_carries_the_dockerfile_config():
    archive = built_archive()
    if archive is None:
        pytest.skip("no archive built (deploy/docker/build-offline.sh, or TELEMETRY_IMAGE_TESTS=1)")
    want = dockerfile_runtime()["config"]
    with tarfile.open(archive) as tar:
        read = lambda name: json.load(tar.extractfile(name))  # noqa: E731
        index = read("index.json")
        blob = lambda d: "blobs/" + d.replace(":", "/")  # noqa: E731
        manifest = read(blob(index["manifests"][0]["digest"]))
        config = read(blob(manifest["config"]["digest"]))
    c = config["config"]
    assert config["os"] == "linux" and config["architecture"] == "amd64"
    assert c["User"] == want["User"] and c["Env"] == want["Env"] and c["WorkingDir"] == want["WorkingDir"]
    assert sorted(c["Volumes"]) == want["Volumes"] and sorted(c["ExposedPorts"]) == sorted(want["ExposedPorts"])
    assert c["Entrypoint"] == want["Entrypoint"] and c["Cmd"] == want["Cmd"] and c["Labels"] == want["Labels"]
    ann = index["manifests"][0]["annotations"]
    assert ann["io.containerd.image.name"].endswith("/" + ann["org.opencontainers.image.ref.name"])


def test_build_offline_help_and_shellcheck():
    out = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    for word in ("--binary", "--output", "--tag", "--docker-archive", "--mirror", "--print-config", "docker load",
                 "podman load", "kind load image-archive"):
        assert word in out.stdout
    bad = subprocess.run(["bash", str(SCRIPT), "--frobnicate"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "unknown argument" in bad.stderr
    assert os.access(SCRIPT, os.X_OK)
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck not installed")
    sc = subprocess.run(["shellcheck", "-x", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert sc.returncode == 0, sc.stdout + sc.stderr
