#!/usr/bin/env bash
# Installs the system packages the build needs (Debian 12) when they are missing:
# liblz4-dev (the LZ4 shim), libsnappy-dev (the snappy shim, remote_write), libsqlite3-dev (GRDB),
# zlib1g-dev (gzip/deflate bodies), libre2-dev (the RE2 shim), pkg-config; with
# TELEMETRY_IMAGE_TESTS=1 also debootstrap, umoci, skopeo and iproute2.
set -euo pipefail
need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
{ command -v pkg-config >/dev/null 2>&1 && pkg-config --exists liblz4; } || need+=(liblz4-dev)
{ command -v pkg-config >/dev/null 2>&1 && pkg-config --exists snappy; } || need+=(libsnappy-dev)
{ command -v pkg-config >/dev/null 2>&1 && pkg-config --exists sqlite3; } || need+=(libsqlite3-dev)
{ command -v pkg-config >/dev/null 2>&1 && pkg-config --exists zlib; } || need+=(zlib1g-dev)
[ -f /usr/include/re2/re2.h ] || need+=(libre2-dev)
# The opt-in image test (TELEMETRY_IMAGE_TESTS=1): build-offline.sh and the pod sandbox.
if [[ "${TELEMETRY_IMAGE_TESTS:-0}" == 1 ]]; then
  for tool in debootstrap umoci skopeo; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
fi
if ((${#need[@]})); then
  echo "installing: ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
command -v swift >/dev/null 2>&1 || { echo "swift is not on PATH; install Swift 6.1 or newer (https://www.swift.org/install/linux/)" >&2; exit 1; }
