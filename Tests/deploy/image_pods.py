"""What the kubelet would run for a render of the chart: every pod of the telemetry image with
its command line, environment, ports, probes, volumes and security context, read from the
rendered manifests (never retyped), plus the Services and the DNS names the pods use.

Kubernetes rules applied here, as the kubelet applies them:
- `command` replaces the image's Entrypoint, `args` its Cmd (no command: Entrypoint + args);
- the environment is the image's Env, then the container's `env` in order (the container wins),
  `valueFrom.secretKeyRef` read from the rendered Secret, `fieldRef` metadata.name/namespace
  from the pod, and `$(VAR)` in command/args expanded from that environment;
- a named probe port is the container port of that name;
- the working directory is the container's `workingDir`, else the image's WorkingDir;
- StatefulSet pods are `<name>-<ordinal>` with DNS `<pod>.<serviceName>.<ns>.svc.<domain>`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

CLUSTER_DOMAIN = "cluster.local"


@dataclass
class Probe:
    kind: str  # liveness, readiness, startup
    path: str
    port: int


@dataclass
class Mount:
    path: str
    volume: str
    source: str  # emptyDir, pvc
    read_only: bool = False


@dataclass
class Pod:
    name: str
    role: str
    owner: str  # the Deployment or StatefulSet
    ordinal: int
    labels: dict[str, str]
    argv: list[str]
    env: dict[str, str]
    workdir: str
    ports: dict[str, int]
    probes: list[Probe]
    mounts: list[Mount]
    read_only_root: bool
    uid: int
    gid: int
    fs_group: int | None
    no_new_privs: bool
    drop_all_caps: bool
    subdomain: str | None = None  # StatefulSet serviceName

    def probe(self, kind: str) -> Probe | None:
        return next((p for p in self.probes if p.kind == kind), None)

    @property
    def ready_probe(self) -> Probe:
        return self.probe("readiness") or self.probe("startup") or self.probe("liveness")


@dataclass
class ServicePort:
    port: int
    target: str | int


@dataclass
class Service:
    name: str
    headless: bool
    selector: dict[str, str]
    ports: list[ServicePort] = field(default_factory=list)

    def selects(self, pod: Pod) -> bool:
        return all(pod.labels.get(k) == v for k, v in self.selector.items())

    def target_port(self, sp: ServicePort, pod: Pod) -> int:
        return sp.target if isinstance(sp.target, int) else pod.ports[sp.target]


@dataclass
class Cluster:
    namespace: str
    pods: list[Pod]
    services: list[Service]
    secrets: dict[str, dict[str, str]]

    def role(self, role: str) -> list[Pod]:
        return [p for p in self.pods if p.role == role]

    def dns_names(self, svc: Service) -> list[str]:
        base = f"{svc.name}.{self.namespace}"
        return [f"{base}.svc.{CLUSTER_DOMAIN}", f"{base}.svc", base, svc.name]

    def pod_dns_names(self, pod: Pod) -> list[str]:
        if not pod.subdomain:
            return [pod.name]
        base = f"{pod.name}.{pod.subdomain}.{self.namespace}"
        return [f"{base}.svc.{CLUSTER_DOMAIN}", f"{base}.svc", base, pod.name]


def _secrets(objects: list[dict]) -> dict[str, dict[str, str]]:
    out = {}
    for o in objects:
        if o.get("kind") == "Secret":
            data = {k: base64.b64decode(v).decode() for k, v in (o.get("data") or {}).items()}
            data.update(o.get("stringData") or {})
            out[o["metadata"]["name"]] = data
    return out


def _env(container: dict, image_env: list[str], pod_name: str, namespace: str,
         secrets: dict[str, dict[str, str]]) -> dict[str, str]:
    env = dict(e.split("=", 1) for e in image_env)
    for e in container.get("env") or []:
        if "value" in e:
            env[e["name"]] = _expand(str(e["value"]), env)
            continue
        src = e.get("valueFrom") or {}
        if "secretKeyRef" in src:
            ref = src["secretKeyRef"]
            secret = secrets.get(ref["name"])
            if secret is None or ref["key"] not in secret:
                if ref.get("optional"):
                    continue
                raise KeyError(f"env {e['name']}: secret {ref['name']} key {ref['key']} is not in the render")
            env[e["name"]] = secret[ref["key"]]
        elif "fieldRef" in src:
            path = src["fieldRef"]["fieldPath"]
            fields = {"metadata.name": pod_name, "metadata.namespace": namespace}
            if path not in fields:
                raise KeyError(f"env {e['name']}: fieldRef {path} is not simulated")
            env[e["name"]] = fields[path]
        else:
            raise KeyError(f"env {e['name']}: valueFrom {sorted(src)} is not simulated")
    if container.get("envFrom"):
        raise KeyError("envFrom is not simulated")
    return env


def _expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion ($$ escapes; unknown variables stay as written)."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), text)


def _probes(container: dict, ports: dict[str, int]) -> list[Probe]:
    out = []
    for kind in ("liveness", "readiness", "startup"):
        spec = container.get(f"{kind}Probe")
        if not spec:
            continue
        get = spec.get("httpGet")
        if get is None:
            raise KeyError(f"{container['name']}: only httpGet probes are simulated")
        port = get["port"]
        out.append(Probe(kind, get.get("path", "/"), ports[port] if isinstance(port, str) else int(port)))
    return out


def _mounts(container: dict, spec: dict, claims: set[str]) -> list[Mount]:
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    out = []
    for m in container.get("volumeMounts") or []:
        name = m["name"]
        if name in claims or "persistentVolumeClaim" in volumes.get(name, {}):
            source = "pvc"
        elif "emptyDir" in volumes.get(name, {}):
            source = "emptyDir"
        else:
            raise KeyError(f"{container['name']}: volume {name} ({sorted(volumes.get(name, {}))}) is not simulated")
        out.append(Mount(m["mountPath"], name, source, bool(m.get("readOnly"))))
    return out


def cluster(objects: list[dict], namespace: str, image_repository: str, image_config: dict) -> Cluster:
    """The pods that run `image_repository` (their Deployments and StatefulSets at their replica
    counts), every Service, and the Secrets, from the rendered objects. `image_config` is the
    OCI image's `config` (Entrypoint, Cmd, Env, WorkingDir)."""
    secrets = _secrets(objects)
    pods: list[Pod] = []
    for o in objects:
        if o.get("kind") not in ("Deployment", "StatefulSet"):
            continue
        spec = o["spec"]["template"]["spec"]
        containers = [c for c in spec["containers"] if c["image"].rsplit(":", 1)[0] == image_repository]
        if not containers:
            continue
        if len(spec["containers"]) != 1 or spec.get("initContainers"):
            raise KeyError(f"{o['metadata']['name']}: only single-container pods are simulated")
        c = containers[0]
        claims = {t["metadata"]["name"] for t in o["spec"].get("volumeClaimTemplates") or []}
        pod_sc = spec.get("securityContext") or {}
        sc = {**pod_sc, **(c.get("securityContext") or {})}
        ports = {p["name"]: p["containerPort"] for p in c.get("ports") or [] if "name" in p}
        labels = dict(o["spec"]["template"]["metadata"].get("labels") or {})
        stateful = o["kind"] == "StatefulSet"
        for i in range(int(o["spec"].get("replicas", 1))):
            name = f"{o['metadata']['name']}-{i}" if stateful else f"{o['metadata']['name']}-r{i}"
            env = _env(c, image_config.get("Env") or [], name, namespace, secrets)
            command = c.get("command") or list(image_config.get("Entrypoint") or [])
            args = c.get("args") if "args" in c else ([] if c.get("command") else list(image_config.get("Cmd") or []))
            argv = [_expand(a, env) for a in [*command, *args]]
            pods.append(Pod(
                name=name, role=labels.get("app.kubernetes.io/component", o["metadata"]["name"]),
                owner=o["metadata"]["name"], ordinal=i, labels=labels, argv=argv, env=env,
                workdir=c.get("workingDir") or image_config.get("WorkingDir") or "/",
                ports=ports, probes=_probes(c, ports), mounts=_mounts(c, spec, claims),
                read_only_root=bool(sc.get("readOnlyRootFilesystem")),
                uid=int(sc.get("runAsUser", _image_user(image_config)[0])),
                gid=int(sc.get("runAsGroup", _image_user(image_config)[1])),
                fs_group=pod_sc.get("fsGroup"),
                no_new_privs=sc.get("allowPrivilegeEscalation") is False,
                drop_all_caps="ALL" in ((sc.get("capabilities") or {}).get("drop") or []),
                subdomain=o["spec"].get("serviceName") if stateful else None,
            ))
    services = []
    for o in objects:
        if o.get("kind") != "Service":
            continue
        s = o["spec"]
        services.append(Service(o["metadata"]["name"], s.get("clusterIP") == "None", dict(s.get("selector") or {}),
                                [ServicePort(p["port"], p.get("targetPort", p["port"])) for p in s.get("ports") or []]))
    return Cluster(namespace, pods, services, secrets)


def _image_user(config: dict) -> tuple[int, int]:
    user = config.get("User") or "0:0"
    uid, _, gid = user.partition(":")
    return int(uid), int(gid or uid)
