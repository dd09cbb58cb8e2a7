#!/usr/bin/env bash
# podman as it works on machines without a Docker engine or a registry (CI here): vfs storage, the runc
# runtime, and no default ulimits (crun cannot set them in this sandbox). Installs Debian's podman and runc on
# first use (as root, like CI). Images must be built FROM scratch: no base image can be pulled.
#   test/e2e/podman.sh build -f Containerfile -t mlguard:e2e CONTEXT
#   test/e2e/podman.sh run --rm --network host mlguard:e2e version
set -euo pipefail
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  echo "podman.sh: installing podman and runc from Debian" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc fuse-overlayfs uidmap >&2
fi
conf="${TMPDIR:-/tmp}/mlguard-podman-containers.conf"
[ -f "$conf" ] || printf '[containers]\ndefault_ulimits = []\n' > "$conf"
export CONTAINERS_CONF="$conf"
exec podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs --events-backend file "$@"
