#!/usr/bin/env bash
# Build the bpf-mcp image with podman and check it over stdio and over HTTP, with the
# host's kernel sources mounted read-only. Usage: bash scripts/container_test.sh
# Needs root, podman, runc; builds a local Debian base with debootstrap when no base
# image is available (no registry can be reached from the machines this runs on).
set -euo pipefail
cd "$(dirname "$0")/.."

export CONTAINERS_CONF="$PWD/scripts/containers.conf"
PODMAN=(podman --runtime runc)
BASE=${BPF_MCP_BASE_IMAGE:-localhost/bpf-mcp-base:bookworm}
IMAGE=${BPF_MCP_IMAGE:-localhost/bpf-mcp:test}
CA=/etc/ssl/certs/ca-certificates.crt

if ! "${PODMAN[@]}" image exists "$BASE"; then
    echo "building base image $BASE with debootstrap (1-2 minutes)" >&2
    root=$(mktemp -d /var/tmp/bpf-mcp-base.XXXXXX)
    debootstrap --variant=minbase --include=python3,python3-venv bookworm "$root" >&2
    tar -C "$root" -c . | "${PODMAN[@]}" import - "$BASE" >&2
    rm -rf "$root"
fi

build_args=(--build-arg "BASE=$BASE" --network host)
if [ -f "$CA" ]; then
    build_args+=(-v "$CA:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt)
fi
"${PODMAN[@]}" build "${build_args[@]}" -t "$IMAGE" -f Containerfile . >&2

.venv/bin/python scripts/container_check.py --image "$IMAGE"
