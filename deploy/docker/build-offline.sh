#!/usr/bin/env bash
# build-offline.sh: builds the image deploy/docker/Dockerfile describes, with no Docker
# engine and no registry: a `debootstrap --variant=minbase` Debian root file system (trimmed
# like debian:*-slim) plus the runtime packages, the release `telemetry` binary built on this
# host with the Swift runtime linked statically, and the bundled DCGM sample, packed by umoci
# into an OCI archive that `docker load`, `podman load` and `kind load image-archive` accept.
#
#   deploy/docker/build-offline.sh                       build the binary and the image
#   deploy/docker/build-offline.sh --binary PATH         use a binary already built
#   deploy/docker/build-offline.sh --print-config        the image description as JSON
#
# Needs root (debootstrap, chroot, file ownership), debootstrap, umoci, skopeo (for
# --docker-archive only), python3, and a Debian mirror (the one /etc/apt names, or --mirror).
# Run with --help for every option.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
CHART_YAML="$REPO_ROOT/deploy/helm/telemetry-stack/Chart.yaml"

# ------------------------------------------------------------------ the image (= Dockerfile)
# Tests/deploy/test_image_description.py compares these with the Dockerfile's runtime stage.
BASE_IMAGE="debian:bookworm-slim"
SUITE="bookworm"
PACKAGES=(liblz4-1 libsnappy1v5 libsqlite3-0 libre2-9 zlib1g libstdc++6 ca-certificates tzdata)
USER_NAME="telemetry"
USER_UID=10001
USER_GID=10001
USER_HOME="/data"
USER_SHELL="/usr/sbin/nologin"
APP_DIR="/app"
SHARE_DIR="/usr/share/telemetry"
SAMPLE_PATH="$SHARE_DIR/dcgm_sample.csv"
BASE_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # debian images' PATH
IMAGE_ENV=("PATH=$APP_DIR:$BASE_PATH" "DATA_DIR=/data")
WORKDIR="/data"
VOLUMES=(/data)
IMAGE_USER="$USER_UID:$USER_GID"
EXPOSE=(8080 9090 9092 9101 9102)
ENTRYPOINT=("$APP_DIR/telemetry")
CMD=(run --listen 0.0.0.0:8080 --data-dir /data)
LABEL_TITLE="telemetry"
LABEL_DESCRIPTION="Time-series database for GPU (NVIDIA DCGM) telemetry: one binary, every role"

chart_version() { sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$CHART_YAML" | head -n 1; }
VERSION="$(chart_version)"
VERSION="${VERSION:-dev}"

# ------------------------------------------------------------------ options
TAG="telemetry:$VERSION"
BINARY=""
OUTPUT="$REPO_ROOT/test-artifacts/image/telemetry-$VERSION.oci.tar"
DOCKER_ARCHIVE=""
WORK="${TMPDIR:-/tmp}/telemetry-image-build"
MIRROR=""
PRINT_CONFIG=0
KEEP_ROOTFS=""

usage() {
    cat <<EOF
Usage: $(basename "$0") [OPTIONS]

Builds the telemetry runtime image without Docker into an OCI archive.

Options:
  --binary PATH          The release telemetry binary (default: build it with
                         swift build -c release --product telemetry --static-swift-stdlib
                         --scratch-path .build-release)
  --output PATH          The OCI archive to write (default: $OUTPUT)
  --tag NAME:TAG         Image name (default: $TAG, what the chart runs by default)
  --docker-archive PATH  Also write a docker-archive (skopeo), for Docker before 25
  --mirror URL           Debian mirror (default: the one /etc/apt names, else deb.debian.org)
  --work DIR             Scratch and cache directory (default: $WORK); the debootstrap
                         result is cached there and reused while the package list is the same
  --keep-rootfs DIR      Also leave the image's final root file system in DIR
  --print-config         Print the image description (base, packages, user, paths, config)
                         as JSON and exit
  -h, --help             Show this help

Load it:  docker load -i ARCHIVE | podman load -i ARCHIVE | kind load image-archive ARCHIVE
EOF
}

die() { printf 'build-offline: %s\n' "$*" >&2; exit 2; }
log() { printf '[build-offline] %s\n' "$*" >&2; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --binary) BINARY="${2:?--binary needs a path}"; shift 2 ;;
        --output) OUTPUT="${2:?--output needs a path}"; shift 2 ;;
        --tag) TAG="${2:?--tag needs NAME:TAG}"; shift 2 ;;
        --docker-archive) DOCKER_ARCHIVE="${2:?--docker-archive needs a path}"; shift 2 ;;
        --mirror) MIRROR="${2:?--mirror needs a URL}"; shift 2 ;;
        --work) WORK="${2:?--work needs a directory}"; shift 2 ;;
        --keep-rootfs) KEEP_ROOTFS="${2:?--keep-rootfs needs a directory}"; shift 2 ;;
        --print-config) PRINT_CONFIG=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[[ "$TAG" == *:* ]] || die "--tag must be NAME:TAG, got '$TAG'"

json_array() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }

print_config() {
    python3 - "$BASE_IMAGE" "$SUITE" "$USER_NAME" "$USER_UID" "$USER_GID" "$USER_HOME" "$USER_SHELL" \
        "$APP_DIR" "$SHARE_DIR" "$SAMPLE_PATH" "$WORKDIR" "$IMAGE_USER" "$TAG" "$VERSION" \
        "$(json_array "${PACKAGES[@]}")" "$(json_array "${IMAGE_ENV[@]}")" "$(json_array "${VOLUMES[@]}")" \
        "$(json_array "${EXPOSE[@]}")" "$(json_array "${ENTRYPOINT[@]}")" "$(json_array "${CMD[@]}")" \
        "$(json_array "org.opencontainers.image.title=$LABEL_TITLE" \
            "org.opencontainers.image.description=$LABEL_DESCRIPTION" \
            "org.opencontainers.image.version=$VERSION" \
            "org.opencontainers.image.base.name=$BASE_IMAGE")" <<'PY'
import json, sys
(base, suite, user, uid, gid, home, shell, app, share, sample, workdir, image_user, tag, version,
 packages, env, volumes, expose, entrypoint, cmd, labels) = sys.argv[1:]
print(json.dumps({
    "base": base, "suite": suite, "packages": json.loads(packages),
    "user": {"name": user, "uid": int(uid), "gid": int(gid), "home": home, "shell": shell},
    "paths": {"app": app, "share": share, "sample": sample},
    "tag": tag, "version": version,
    "config": {"User": image_user, "Env": json.loads(env), "WorkingDir": workdir,
               "Volumes": json.loads(volumes), "ExposedPorts": [f"{p}/tcp" for p in json.loads(expose)],
               "Entrypoint": json.loads(entrypoint), "Cmd": json.loads(cmd),
               "Labels": dict(l.split("=", 1) for l in json.loads(labels))},
}, indent=2))
PY
}

if [[ "$PRINT_CONFIG" -eq 1 ]]; then
    print_config
    exit 0
fi

# ------------------------------------------------------------------ prerequisites
[[ "$(id -u)" -eq 0 ]] || die "run as root (debootstrap, chroot and the image's file ownership need it)"
missing=()
for tool in debootstrap umoci python3 tar strip; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ -n "$DOCKER_ARCHIVE" ]] && ! command -v skopeo >/dev/null 2>&1; then missing+=(skopeo); fi
if [[ ${#missing[@]} -gt 0 ]]; then
    die "missing: ${missing[*]} (Debian: apt-get install debootstrap umoci skopeo python3 binutils)"
fi

default_mirror() {
    local uri
    uri="$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | grep -v -e security -e '\[.*\]' | sed -E 's/^URIs: *//; s/^deb +//' | awk '{print $1}' \
        | grep -E '/debian/?$' | head -n 1 || true)"
    echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR="${MIRROR:-$(default_mirror)}"

# ------------------------------------------------------------------ the binary
if [[ -z "$BINARY" ]]; then
    log "building the release binary (swift build -c release --static-swift-stdlib; minutes)"
    (cd "$REPO_ROOT" && swift build -c release --product telemetry --static-swift-stdlib --scratch-path .build-release)
    BINARY="$(cd "$REPO_ROOT" && swift build -c release --static-swift-stdlib --scratch-path .build-release --show-bin-path)/telemetry"
fi
[[ -x "$BINARY" ]] || die "no executable binary at $BINARY (build it, or pass --binary)"
BIN_DIR="$(cd "$(dirname "$BINARY")" && pwd)"
SAMPLE="$(find "$REPO_ROOT/samples" -maxdepth 1 -name 'dcgm_metrics*.csv' -print -quit 2>/dev/null || true)"
[[ -n "$SAMPLE" ]] || die "no samples/dcgm_metrics*.csv to bundle"

mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"

# ------------------------------------------------------------------ base root file system
# debootstrap once per (suite, package list, mirror); later builds copy the cached tree.
key="$(printf '%s\n' "$SUITE" "$MIRROR" "${PACKAGES[@]}" | sha256sum | cut -c1-12)"
BASE="$WORK/base-$SUITE-$key"
if [[ ! -f "$BASE/.complete" ]]; then
    log "debootstrap --variant=minbase $SUITE from $MIRROR (+ ${PACKAGES[*]})"
    rm -rf "$BASE"
    debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" "$SUITE" "$BASE" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log: $WORK/debootstrap.log)"; }
    touch "$BASE/.complete"
fi

ROOTFS="$WORK/rootfs"
APPFS="$WORK/app"
rm -rf "$ROOTFS" "$APPFS"
cp -a "$BASE" "$ROOTFS"
rm -f "$ROOTFS/.complete"

# What debian:*-slim leaves out (its /etc/dpkg/dpkg.cfg.d/docker), so the sizes compare.
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$ROOTFS"/usr/share/{man,groff,info,lintian,linda,locale}/* \
    "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
    "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/lib/dpkg/*-old "$ROOTFS"/var/log/* "$ROOTFS/debootstrap"
: >"$ROOTFS/etc/hostname"
printf 'nameserver 127.0.0.1\n' >"$ROOTFS/etc/resolv.conf"   # replaced by the runtime

# The Dockerfile's runtime RUN: the user, /data and the share directory.
chroot "$ROOTFS" groupadd --system --gid "$USER_GID" "$USER_NAME"
chroot "$ROOTFS" useradd --system --uid "$USER_UID" --gid "$USER_NAME" --home-dir "$USER_HOME" --shell "$USER_SHELL" "$USER_NAME"
mkdir -p "$ROOTFS$WORKDIR" "$ROOTFS$SHARE_DIR"
chown "$USER_UID:$USER_GID" "$ROOTFS$WORKDIR"

# The Dockerfile's COPY --from=build lines: /app (binary, resource bundles) and the sample.
mkdir -p "$APPFS$APP_DIR" "$APPFS$SHARE_DIR"
cp "$BINARY" "$APPFS$APP_DIR/telemetry"
strip "$APPFS$APP_DIR/telemetry"
for r in "$BIN_DIR"/*.resources; do if [[ -e "$r" ]]; then cp -R "$r" "$APPFS$APP_DIR/"; fi; done
cp "$SAMPLE" "$APPFS$SAMPLE_PATH"
chmod -R go-w "$APPFS"

# The binary must start inside the image (every shared library it needs is there).
cp -a "$APPFS$APP_DIR" "$ROOTFS$APP_DIR"
chroot --userspec="$IMAGE_USER" "$ROOTFS" "$APP_DIR/telemetry" --help >/dev/null \
    || die "$APP_DIR/telemetry --help failed inside the image root (missing shared library?)"
rm -rf "${ROOTFS:?}$APP_DIR"

# ------------------------------------------------------------------ OCI image (umoci)
LAYOUT="$WORK/layout"
name="${TAG%:*}"
tag="${TAG##*:}"
rm -rf "$LAYOUT"
umoci init --layout "$LAYOUT"
umoci new --image "$LAYOUT:$tag"
created="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
log "layer 1: the $BASE_IMAGE-equivalent root file system"
umoci insert --image "$LAYOUT:$tag" --history.created_by "debootstrap --variant=minbase $SUITE + ${PACKAGES[*]}; user $USER_UID" \
    --history.created "$created" "$ROOTFS" /
log "layer 2: $APP_DIR and $SHARE_DIR"
umoci insert --image "$LAYOUT:$tag" --history.created_by "COPY telemetry binary and the DCGM sample" \
    --history.created "$created" "$APPFS" /

config_args=(--os linux --architecture amd64 --created "$created" --author "telemetry build-offline.sh"
    --config.user "$IMAGE_USER" --config.workingdir "$WORKDIR" --clear=config.entrypoint --clear=config.cmd
    --clear=config.env)
for e in "${IMAGE_ENV[@]}"; do config_args+=(--config.env "$e"); done
for v in "${VOLUMES[@]}"; do config_args+=(--config.volume "$v"); done
for p in "${EXPOSE[@]}"; do config_args+=(--config.exposedports "$p/tcp"); done
for a in "${ENTRYPOINT[@]}"; do config_args+=(--config.entrypoint "$a"); done
for a in "${CMD[@]}"; do config_args+=(--config.cmd "$a"); done
config_args+=(--config.label "org.opencontainers.image.title=$LABEL_TITLE"
    --config.label "org.opencontainers.image.description=$LABEL_DESCRIPTION"
    --config.label "org.opencontainers.image.version=$VERSION"
    --config.label "org.opencontainers.image.base.name=$BASE_IMAGE")
umoci config --image "$LAYOUT:$tag" --no-history "${config_args[@]}"
umoci gc --layout "$LAYOUT"

# An OCI archive is the layout as a tar. Name the image the way each loader reads it:
# podman/skopeo the ref.name annotation, Docker 25+ and containerd (kind) io.containerd.image.name.
case "$name" in
    */*) first="${name%%/*}"
         if [[ "$first" == *.* || "$first" == *:* || "$first" == localhost ]]; then full="$name"; else full="docker.io/$name"; fi ;;
    *) full="docker.io/library/$name" ;;
esac
python3 - "$LAYOUT/index.json" "$TAG" "$full:$tag" <<'PY'
import json, sys
path, ref, full = sys.argv[1:]
index = json.load(open(path))
for m in index["manifests"]:
    m.setdefault("annotations", {})
    m["annotations"]["org.opencontainers.image.ref.name"] = ref
    m["annotations"]["io.containerd.image.name"] = full
json.dump(index, open(path, "w"))
PY
mkdir -p "$(dirname "$OUTPUT")"
tar -C "$LAYOUT" --sort=name --owner=0 --group=0 --numeric-owner --mtime="$created" -cf "$OUTPUT.partial" oci-layout index.json blobs
mv "$OUTPUT.partial" "$OUTPUT"

if [[ -n "$DOCKER_ARCHIVE" ]]; then
    mkdir -p "$(dirname "$DOCKER_ARCHIVE")"
    rm -f "$DOCKER_ARCHIVE"
    skopeo copy --quiet "oci-archive:$OUTPUT:$TAG" "docker-archive:$DOCKER_ARCHIVE:$TAG"
    log "docker-archive: $DOCKER_ARCHIVE"
fi

if [[ -n "$KEEP_ROOTFS" ]]; then
    rm -rf "$KEEP_ROOTFS"
    cp -a "$ROOTFS" "$KEEP_ROOTFS"
    cp -a "$APPFS/." "$KEEP_ROOTFS/"
fi
rm -rf "$ROOTFS" "$APPFS"

unpacked=$(python3 - "$LAYOUT" <<'PY'
import json, os, sys
layout = sys.argv[1]
blob = lambda d: os.path.join(layout, "blobs", *d.split(":"))
index = json.load(open(os.path.join(layout, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
print(sum(l["size"] for l in manifest["layers"]))
PY
)
log "wrote $OUTPUT ($TAG): $(du -h "$OUTPUT" | cut -f1) archive, $((unpacked / 1024 / 1024)) MiB of compressed layers"
echo "$OUTPUT"
