#!/usr/bin/env bash
# Build the bpf-mcp image with podman (`just container-build`) and tag it
# localhost/bpf-mcp:latest, the name docs/container.md and the README's client
# configuration run (BPF_MCP_IMAGE overrides it). Needs root, podman and runc.
#
# The base image is BPF_MCP_BASE_IMAGE, by default localhost/bpf-mcp-base:bookworm: when a
# localhost/ base does not exist, it is made from Debian's packages with debootstrap
# (1-2 minutes, no registry needed). BPF_MCP_BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm
# builds on the public image instead (podman pulls it).
# podman runs with scripts/containers.conf (runc, no default ulimits) and pip in the build
# trusts the host's CA bundle: docs/container.md, "Host settings", says why.
set -euo pipefail
cd "$(dirname "$0")/.."

export CONTAINERS_CONF="$PWD/scripts/containers.conf"
BASE=${BPF_MCP_BASE_IMAGE:-localhost/bpf-mcp-base:bookworm}
IMAGE=${BPF_MCP_IMAGE:-localhost/bpf-mcp:latest}
CA=/etc/ssl/certs/ca-certificates.crt

if [[ $BASE == localhost/* ]] && ! podman image exists "$BASE"; then
    echo "building base image $BASE with debootstrap (1-2 minutes)" >&2
    root=$(mktemp -d /var/tmp/bpf-mcp-base.XXXXXX)
    trap 'rm -rf "$root"' EXIT
    debootstrap --variant=minbase --include=python3,python3-venv bookworm "$root" >&2
    tar -C "$root" -c . | podman import - "$BASE" >&2
fi

build_args=(--build-arg "BASE=$BASE" --network host)
if [ -f "$CA" ]; then
    build_args+=(-v "$CA:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt)
fi
podman build "${build_args[@]}" -t "$IMAGE" -f Containerfile . >&2
echo "built $IMAGE" >&2
