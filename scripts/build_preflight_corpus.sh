#!/usr/bin/env bash
# Build the preflight corpus: tests/preflight/programs/*.bpf.c -> tests/preflight/objects/*.o,
# with clang -target bpf -g -O2 against a vmlinux.h dumped from the captured kernel's BTF and
# libbpf's headers (apt-get install libbpf-dev clang). DWARF is stripped afterwards to keep
# the committed objects small; .BTF and .BTF.ext are kept. bpf_core_type_matches needs
# clang 15 or later, so a clang-19 (or newer) is preferred when installed.
set -euo pipefail
cd "$(dirname "$0")/.."

btf=${BTF:-fixtures/linux-6.18/sys/kernel/btf/vmlinux}
clang=${CLANG:-$(command -v clang-22 || command -v clang-19 || command -v clang)}
strip=${STRIP:-$(command -v llvm-strip-19 || command -v llvm-strip)}
out=tests/preflight/objects

for tool in bpftool "$clang" "$strip"; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
test -f /usr/include/bpf/bpf_helpers.h || { echo "needs libbpf-dev" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bpftool btf dump file "$btf" format c > "$work/vmlinux.h"
mkdir -p "$out"
for src in tests/preflight/programs/*.bpf.c; do
    obj="$out/$(basename "${src%.c}").o"
    "$clang" -target bpf -D__TARGET_ARCH_x86 -g -O2 -I "$work" -I tests/preflight/programs \
        -c "$src" -o "$obj"
    "$strip" -g "$obj"
done
echo "built $(ls "$out"/*.o | wc -l) objects in $out with $("$clang" --version | head -1)"
