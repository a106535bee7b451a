#!/bin/sh
# Rebuild the BTF test blobs in fixtures/btf/ from the C sources in fixtures/btf/src/.
#
#   kinds.btf    gcc -g, pahole -J: int, ptr, array, struct (with bitfields), union, enum
#                (signed and unsigned), enum64, fwd, typedef chain, const/volatile/restrict,
#                func, func_proto (varargs), float
#   tags.btf     clang -g, pahole -J: decl tags and type tags (gcc 12 emits neither)
#   base.btf     gcc -g, pahole -J: a small stand-in for vmlinux
#   module.btf   gcc -g, pahole -J --btf_base base.btf: split BTF on top of base.btf
#   module_vmlinux.btf  the same module split against $BTF_BASE (the running kernel's
#                vmlinux by default); module_vmlinux.base.sha256 names that exact base, so
#                tests use it only with a byte-identical vmlinux
#
# Needs gcc, clang, pahole (dwarves), objcopy (binutils) and sha256sum. Run from anywhere.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/fixtures/btf/src"
out="$root/fixtures/btf"
vmlinux=${BTF_BASE:-/sys/kernel/btf/vmlinux}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# to_btf NAME OBJECT [pahole arguments...]: encode OBJECT's DWARF as BTF into NAME.btf
to_btf() {
	name=$1
	obj=$2
	shift 2
	pahole -J "$@" "$obj"
	objcopy --dump-section .BTF="$out/$name.btf" "$obj"
}

gcc -g -O0 -c "$src/kinds.c" -o "$work/kinds.o"
to_btf kinds "$work/kinds.o" --btf_gen_floats

clang -g -O0 -c "$src/tags.c" -o "$work/tags.o"
to_btf tags "$work/tags.o"

gcc -g -O0 -c "$src/base.c" -o "$work/base.o"
to_btf base "$work/base.o"

gcc -g -O0 -c "$src/module.c" -o "$work/module.o"
cp "$work/module.o" "$work/module_vmlinux.o"
to_btf module "$work/module.o" --btf_base "$out/base.btf"

to_btf module_vmlinux "$work/module_vmlinux.o" --btf_base "$vmlinux"
sha256sum <"$vmlinux" | cut -d' ' -f1 >"$out/module_vmlinux.base.sha256"

ls -l "$out"/*.btf
