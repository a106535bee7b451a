"""Test-only: put a few BPF programs, maps and links of our own into the live kernel.

The package under test only reads; this module writes (bpftool loads and pins, raw
bpf() calls create and pin links), so there is something to list. Everything lives under
one bpffs directory and one cgroup, both removed by `remove`.
"""

from __future__ import annotations

import ctypes
import os
import platform
import shutil
import struct
import subprocess
from pathlib import Path

import attrs

from bpf_mcp.loaded import abi

PROGRAM_C = r"""
typedef unsigned int u32;
typedef unsigned long long u64;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value,
                                   u64 flags) = (void *)2;

struct {
    __uint(type, 1); /* BPF_MAP_TYPE_HASH */
    __uint(max_entries, 64);
    __type(key, u32);
    __type(value, u64);
} counts SEC(".maps");

struct {
    __uint(type, 2); /* BPF_MAP_TYPE_ARRAY */
    __uint(max_entries, 4);
    __type(key, u32);
    __type(value, u32);
} cfg SEC(".maps");

static __attribute__((noinline)) int bump(u32 k)
{
    u64 one = 1, *v = bpf_map_lookup_elem(&counts, &k);
    if (v)
        __sync_fetch_and_add(v, 1);
    else
        bpf_map_update_elem(&counts, &k, &one, 0);
    return 0;
}

SEC("raw_tp/sched_switch") int mcp_switch(void *ctx)
{
    u32 k = 0, *c = bpf_map_lookup_elem(&cfg, &k);
    return bump(c ? *c : 1);
}
SEC("xdp") int mcp_xdp(void *ctx) { bump(4); return 2; /* XDP_PASS */ }
SEC("cgroup_skb/egress") int mcp_egress(void *skb) { bump(5); return 1; }
SEC("socket") int mcp_sock(void *skb) { return bump(3); }
SEC("iter/task") int mcp_iter(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
"""

# Test-only write commands (never used by the package).
_OBJ_PIN = 6
_RAW_TRACEPOINT_OPEN = 17
_LINK_CREATE = 28
_ATTACH = {"cgroup_inet_egress": 1, "trace_iter": 28, "xdp": 37}


def _bpf(cmd: int, attr: bytes) -> int:
    number = abi.syscall_number(platform.machine())
    assert number is not None
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(attr, len(attr))
    ret = int(libc.syscall(ctypes.c_long(number), ctypes.c_int(cmd), buf, ctypes.c_uint(len(attr))))
    if ret < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"bpf command {cmd}: {os.strerror(code)}")
    return ret


def _get(path: Path) -> int:
    name = ctypes.create_string_buffer(os.fsencode(path))
    return _bpf(abi.OBJ_GET, struct.pack("=QII", ctypes.addressof(name), 0, 0))


def _pin(fd: int, path: Path) -> None:
    name = ctypes.create_string_buffer(os.fsencode(path))
    _bpf(_OBJ_PIN, struct.pack("=QII", ctypes.addressof(name), fd, 0))


def _link_create(prog: Path, target: int, attach: str) -> int:
    prog_fd = _get(prog)
    try:
        return _bpf(
            _LINK_CREATE, struct.pack("=IIII", prog_fd, target, _ATTACH[attach], 0) + bytes(48)
        )
    finally:
        os.close(prog_fd)


def _raw_tp_open(prog: Path, tracepoint: str) -> int:
    prog_fd = _get(prog)
    name = ctypes.create_string_buffer(tracepoint.encode())
    try:
        return _bpf(_RAW_TRACEPOINT_OPEN, struct.pack("=QI4x", ctypes.addressof(name), prog_fd))
    finally:
        os.close(prog_fd)


def compile_object(clang: str, work: Path) -> Path:
    """Our test program compiled to a BPF object with BTF (clang -target bpf -O2 -g)."""
    source = work / "mcp_test.bpf.c"
    source.write_text(PROGRAM_C)
    obj = work / "mcp_test.bpf.o"
    subprocess.run(
        [clang, "-target", "bpf", "-O2", "-g", "-c", str(source), "-o", str(obj)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return obj


def ensure_bpffs(root: Path = Path("/sys/fs/bpf")) -> bool:
    """Mount a bpffs on `root` unless one is there; True when this call mounted it."""
    with open("/proc/self/mounts") as f:
        if any(line.split()[1:3] == [str(root), "bpf"] for line in f):
            return False
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "bpf", "bpf", str(root)], check=True, capture_output=True)
    return True


def unmount(root: Path = Path("/sys/fs/bpf")) -> None:
    """Unmount the bpffs `ensure_bpffs` mounted."""
    subprocess.run(["umount", str(root)], check=False, capture_output=True)


@attrs.frozen
class Loaded:
    """What `load` put in the kernel: the pin directory and what it holds."""

    pin_dir: Path
    progs: dict[str, Path]
    maps: dict[str, Path]
    links: dict[str, Path]
    cgroup: Path | None
    netdev: str | None


def _quiet_netdev() -> str:
    """A network device to attach XDP to: a down one if any (ifb*, dummy*), else lo."""
    for dev in sorted(os.listdir("/sys/class/net")):
        state = Path(f"/sys/class/net/{dev}/operstate")
        if dev != "lo" and state.exists() and state.read_text().strip() == "down":
            return dev
    return "lo"


def _cgroup2_mount() -> Path | None:
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and fields[2] == "cgroup2":
                return Path(fields[1])
    return None


def load(bpftool: str, obj: Path, pin_dir: Path) -> Loaded:
    """Load every program of `obj` with `bpftool prog loadall` (maps pinned too), then
    create and pin links: raw tracepoint, iterator, cgroup (in a new cgroup) and XDP."""
    maps_dir = pin_dir / "maps"
    subprocess.run(
        [bpftool, "prog", "loadall", str(obj), str(pin_dir), "pinmaps", str(maps_dir)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    progs = {p.name: p for p in pin_dir.iterdir() if p.is_file()}
    maps = {p.name: p for p in maps_dir.iterdir()}
    links: dict[str, Path] = {}
    links_dir = pin_dir / "links"
    links_dir.mkdir()

    def keep(name: str, fd: int) -> None:
        try:
            _pin(fd, links_dir / name)
            links[name] = links_dir / name
        finally:
            os.close(fd)

    keep("raw_tp", _raw_tp_open(progs["mcp_switch"], "sched_switch"))
    keep("iter", _link_create(progs["mcp_iter"], 0, "trace_iter"))
    cgroup = None
    mount = _cgroup2_mount()
    if mount is not None:
        cgroup = mount / f"bpf-mcp-test-{os.getpid()}"
        cgroup.mkdir(exist_ok=True)
        fd = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY)
        try:
            keep("cgroup", _link_create(progs["mcp_egress"], fd, "cgroup_inet_egress"))
        finally:
            os.close(fd)
    netdev = _quiet_netdev()
    ifindex = int(Path(f"/sys/class/net/{netdev}/ifindex").read_text())
    keep("xdp", _link_create(progs["mcp_xdp"], ifindex, "xdp"))
    return Loaded(pin_dir, progs, maps, links, cgroup, netdev)


def remove(pin_dir: Path, cgroup: Path | None) -> None:
    """Unpin everything under `pin_dir` (the kernel frees what nothing else holds) and
    remove the test cgroup."""
    if pin_dir.exists():
        shutil.rmtree(pin_dir, ignore_errors=True)
    if cgroup is not None and cgroup.exists():
        cgroup.rmdir()
