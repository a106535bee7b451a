#!/usr/bin/env bash
# Build the bpf-mcp image (scripts/container_build.sh) and check it over stdio and over
# HTTP, with the host's kernel sources mounted read-only, then print the privilege matrix;
# then run the containers of deploy/kubernetes/ as their manifests say (scripts/fleet_check.py).
# Usage: bash scripts/container_test.sh (`just container-test`). Needs root, podman, runc.
set -euo pipefail
cd "$(dirname "$0")/.."

export CONTAINERS_CONF="$PWD/scripts/containers.conf"
export BPF_MCP_IMAGE=${BPF_MCP_IMAGE:-localhost/bpf-mcp:latest}
bash scripts/container_build.sh
.venv/bin/python scripts/container_check.py --image "$BPF_MCP_IMAGE"
.venv/bin/python scripts/fleet_check.py --image "$BPF_MCP_IMAGE"
