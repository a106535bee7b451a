#!/usr/bin/env bash
# Capture Debian's 6.12 cloud kernel from its package as a small fixture sysroot.
#
#   bash scripts/capture_debian_kernel.sh [PACKAGE] [OUT]
#
# PACKAGE defaults to the newest linux-image-6.12.*-cloud-amd64-unsigned that apt knows;
# OUT to fixtures/linux-6.12. The package holds the image (a bzImage) and the modules
# (.ko.xz). From them this takes: the vmlinux BTF (the ELF vmlinux is the compressed
# payload of the bzImage, found by its compression magic as the kernel's
# scripts/extract-vmlinux does; its .BTF section is the BTF), the split BTF of a few
# modules (their .BTF sections), the config, and the release and version strings. Each
# BTF is checked with bpftool (and vmlinux with pahole), then everything is stored
# xz-compressed (single-threaded, so the same package gives the same bytes) beside a
# CAPTURE.json of provenance and checksums. Tests decompress the tree into a temporary
# sysroot (tests/conftest.py: unpack_fixture).
set -euo pipefail

OUT=${2:-fixtures/linux-6.12}
MODULES=(net/ipv4/tcp_bbr net/sched/sch_fq net/netfilter/nf_conntrack drivers/net/veth)

for tool in apt-get apt-cache dpkg-deb objcopy readelf bpftool pahole xz zstd gzip sha256sum; do
    command -v "$tool" >/dev/null || { echo "capture: $tool is required" >&2; exit 1; }
done

PACKAGE=${1:-$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-cloud-amd64-unsigned$' \
    | cut -d' ' -f1 | sort -V | tail -n1)}
[ -n "$PACKAGE" ] || { echo "capture: apt knows no linux-image-6.12.*-cloud-amd64-unsigned (apt-get update?)" >&2; exit 1; }
RELEASE=${PACKAGE#linux-image-}
RELEASE=${RELEASE%-unsigned}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "capture: downloading $PACKAGE" >&2
(cd "$work" && apt-get download -q "$PACKAGE" >&2)
deb=$(echo "$work"/*.deb)
dpkg-deb -x "$deb" "$work/root"
vmlinuz=$work/root/boot/vmlinuz-$RELEASE
[ -f "$vmlinuz" ] || { echo "capture: $PACKAGE has no boot/vmlinuz-$RELEASE" >&2; exit 1; }

# The bzImage's payload: try each offset where a compression format's magic occurs, and
# keep the first that decompresses to an ELF file.
extract_vmlinux() {
    local image=$1 out=$2 magic tool offset
    while read -r magic tool; do
        for offset in $(LC_ALL=C grep -aboP "$magic" "$image" | cut -d: -f1); do
            tail -c +$((offset + 1)) "$image" | $tool >"$out" 2>/dev/null || true
            if readelf -h "$out" >/dev/null 2>&1; then
                echo "capture: vmlinux is the $tool payload at byte $offset of the image" >&2
                return 0
            fi
        done
    done <<'EOF'
\x28\xb5\x2f\xfd zstd -dcq
\xfd\x37\x7a\x58\x5a\x00 xz -dcq
\x1f\x8b\x08 gzip -dcq
\x5d\x00\x00\x00 xz -dcq --format=lzma
\x42\x5a\x68 bzip2 -dcq
EOF
    echo "capture: no compressed ELF payload found in $image" >&2
    return 1
}
extract_vmlinux "$vmlinuz" "$work/vmlinux"

btf=$work/btf
mkdir -p "$btf"
objcopy --dump-section .BTF="$btf/vmlinux" "$work/vmlinux" "$work/scratch"
bpftool btf dump file "$btf/vmlinux" >/dev/null
pahole -F btf -C task_struct "$btf/vmlinux" >"$work/task_struct.txt" 2>/dev/null
grep -q '^struct task_struct {' "$work/task_struct.txt"
moddir=$work/root/lib/modules/$RELEASE/kernel
for module in "${MODULES[@]}"; do
    name=${module##*/}
    xz -dc "$moddir/$module.ko.xz" >"$work/$name.ko"
    objcopy --dump-section .BTF="$btf/$name" "$work/$name.ko" "$work/scratch"
    bpftool -B "$btf/vmlinux" btf dump file "$btf/$name" >/dev/null
done
version=$(LC_ALL=C grep -m1 -aoP 'Linux version 6\.12\.[^\n\x00]* #[0-9]+ [^\n\x00]*' "$work/vmlinux" | head -n1)

partial=$OUT.partial
rm -rf "$partial"
mkdir -p "$partial/sys/kernel/btf" "$partial/boot" "$partial/proc/sys/kernel"
pack() { xz -9e -T1 -c "$1" >"$2.xz"; }
for file in "$btf"/*; do
    pack "$file" "$partial/sys/kernel/btf/${file##*/}"
done
pack "$work/root/boot/config-$RELEASE" "$partial/boot/config-$RELEASE"
printf '%s\n' "$RELEASE" >"$partial/proc/sys/kernel/osrelease"
printf '%s\n' "$version" >"$partial/proc/version"

{
    printf '{\n "package": "%s",\n' "$PACKAGE"
    printf ' "package_version": "%s",\n' "$(dpkg-deb -f "$deb" Version)"
    printf ' "package_sha256": "%s",\n' "$(sha256sum <"$deb" | cut -d' ' -f1)"
    printf ' "kernel_release": "%s",\n "machine": "x86_64",\n' "$RELEASE"
    printf ' "modules": ["%s"],\n' "$(printf '%s", "' "${MODULES[@]##*/}" | sed 's/", "$//')"
    printf ' "stored": "every .xz file decompresses to the path without .xz; sha256 and bytes are of the decompressed file",\n'
    printf ' "not_shipped": "System.map (the package holds a stub pointing at the -dbg package) and tracefs (formats exist only in a running kernel)",\n'
    printf ' "files": {\n'
    first=1
    while read -r path; do
        relative=${path#"$partial"/}
        case $relative in
            *.xz) content=$(xz -dc "$path" | sha256sum | cut -d' ' -f1); bytes=$(xz -dc "$path" | wc -c); relative=${relative%.xz} ;;
            *) content=$(sha256sum <"$path" | cut -d' ' -f1); bytes=$(wc -c <"$path") ;;
        esac
        [ $first = 1 ] || printf ',\n'
        first=0
        printf '  "%s": {"bytes": %d, "sha256": "%s"}' "$relative" "$bytes" "$content"
    done < <(find "$partial" -type f | LC_ALL=C sort)
    printf '\n }\n}\n'
} >"$work/CAPTURE.json"
mv "$work/CAPTURE.json" "$partial/CAPTURE.json"

rm -rf "$OUT"
mv "$partial" "$OUT"
echo "capture: $OUT: $(du -sh "$OUT" | cut -f1) for $RELEASE ($(ls "$OUT/sys/kernel/btf" | wc -l) BTF files)" >&2
