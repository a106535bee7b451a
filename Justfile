# bpf-mcp tasks. `just --list` shows them. Each creates .venv on first use.

venv := ".venv"
py := venv / "bin/python"

# Create the virtual environment with bpf-mcp and its development tools.
setup:
    test -x {{py}} || python3 -m venv {{venv}}
    {{py}} -m pip install -q -e '.[dev]'

# Run the server over stdio on this machine's kernel (extra arguments go to bpf-mcp).
run *ARGS: setup
    {{venv}}/bin/bpf-mcp {{ARGS}}

# Run the test suite (fixtures always; live-kernel and oracle tests where possible).
test *ARGS: setup
    {{venv}}/bin/pytest {{ARGS}}

# Lint, format check and strict type check.
lint: setup
    {{venv}}/bin/ruff check src tests bench scripts examples
    {{venv}}/bin/ruff format --check src tests bench scripts examples
    {{venv}}/bin/mypy

# Recapture fixtures/linux-6.18 from the running kernel (run as root).
fixtures: setup
    {{py}} scripts/capture_fixtures.py --out fixtures/linux-6.18
    bash scripts/make_btf_fixtures.sh

# Recapture fixtures/linux-6.12 from Debian's 6.12 cloud kernel package (apt-get download; needs bpftool, pahole, zstd).
fixtures-debian PACKAGE="":
    bash scripts/capture_debian_kernel.sh {{PACKAGE}}

# Rebuild tests/preflight/objects/*.o with clang -target bpf (needs clang, libbpf-dev, bpftool).
preflight-corpus:
    bash scripts/build_preflight_corpus.sh

# The official MCP conformance suite against the HTTP transport (needs npm).
conformance: setup
    bash scripts/conformance.sh

# Benchmarks; results go to BENCHMARKS.md.
bench: setup
    {{py}} bench/run.py --write BENCHMARKS.md

# Answer sizes of every tool (default and worst arguments) on this kernel, beside pahole and bpftrace.
bench-sizes *ARGS: setup
    {{py}} bench/answer_sizes.py {{ARGS}}

# HTTP load benchmark (loopback only).
bench-http: setup
    {{py}} bench/http_load.py

# Build the container image localhost/bpf-mcp:latest with podman (root; docs/container.md).
container-build:
    bash scripts/container_build.sh

# Build that image, check it over stdio and HTTP, print the privilege matrix, then run deploy/kubernetes/'s pods under podman (root).
container-test: setup
    bash scripts/container_test.sh

# Seeded fuzzing of the BTF/tracefs/kallsyms parsers and every tool's arguments (EXAMPLES each).
fuzz EXAMPLES="5000": setup
    timeout 3600 {{py}} scripts/fuzz_parsers.py --examples {{EXAMPLES}}

# mcp-fuzzer (installed here) on stdio and HTTP, seeded and bounded: crashes, hangs, -32603, leaks.
fuzz-mcp RUNS="20": setup
    {{py}} -m pip install -q mcp-fuzzer
    {{py}} scripts/fuzz_mcp.py --runs {{RUNS}} --time-limit 900

# One-shot `bpf-mcp call` time beside pahole, bpftrace and grep (fresh processes).
bench-oneshot: setup
    {{py}} bench/oneshot.py

# Loaded-BPF scan beside bpftool (root: loads 200 programs and 400 maps, then removes them).
bench-loaded: setup
    {{py}} bench/loaded_bench.py

# Many kernels: first-use load time and RSS with 1, 10 and 50 registered.
bench-kernels: setup
    {{py}} bench/kernels_bench.py

# Snapshot time and size on this kernel, and comparing the two fixture kernels; appends to BENCHMARKS.md.
bench-snapshot: setup
    {{py}} bench/snapshot_bench.py --append BENCHMARKS.md
