"""Pure decoders: the bytes the kernel wrote into `bpf_*_info` structs, and the text of
fdinfo and mounts files, into frozen values. No I/O and no system calls here.

Each decoder accepts any bytes: a prefix shorter than our struct (an older kernel) reads
its missing fields as 0, bytes past it are ignored, and only bytes too short to hold the
type and id (or an id of 0, which the kernel never gives) raise LoadedBpfError.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator

import attrs

from . import abi
from .errors import LoadedBpfError
from .model import BtfObject, Kind, Link, LinkTarget, Map, Program

__all__ = [
    "FdInfo",
    "cstring",
    "decode_btf_info",
    "decode_func_info",
    "decode_link_info",
    "decode_map_info",
    "decode_prog_info",
    "decode_u32s",
    "mount_points",
    "parse_fdinfo",
]

_LITTLE = sys.byteorder == "little"


def cstring(data: bytes) -> str:
    """The text of a NUL-terminated (or NUL-padded, or unterminated) C string; bytes
    that are not UTF-8 become U+FFFD."""
    end = data.find(b"\0")
    return (data if end < 0 else data[:end]).decode("utf-8", errors="replace")


def _header(data: bytes, what: str, id_offset: int = 4) -> None:
    need = id_offset + 4
    if len(data) < need:
        raise LoadedBpfError(
            f"{what}: the kernel returned {len(data)} bytes, fewer than the {need} that hold"
            " its type and id"
        )
    if struct.unpack_from("=I", data, id_offset)[0] == 0:
        raise LoadedBpfError(f"{what}: the id is 0, which the kernel never assigns")


def _slice(data: bytes, where: tuple[int, int]) -> bytes:
    offset, size = where
    return bytes(data[offset : offset + size])


def decode_prog_info(data: bytes) -> Program:
    """A Program from `struct bpf_prog_info` bytes (its map ids and function names are
    added by the scan). Raises LoadedBpfError only for bytes without a type and id."""
    _header(data, "bpf_prog_info")
    f = abi.PROG_INFO.unpack(data)
    gpl_word = f["gpl_word"]
    # gpl_compatible is the first bit field of its word: the low bit on a little-endian
    # machine, the high bit on a big-endian one.
    gpl = bool(gpl_word & 1) if _LITTLE else bool(gpl_word >> 31)
    return Program(
        id=f["id"],
        type=abi.type_name(abi.PROG_TYPES, f["type"]),
        type_code=f["type"],
        name=cstring(_slice(data, abi.PROG_NAME)),
        tag=_slice(data, abi.PROG_TAG).ljust(abi.PROG_TAG[1], b"\0").hex(),
        gpl_compatible=gpl,
        load_time_ns=f["load_time"],
        created_by_uid=f["created_by_uid"],
        xlated_len=f["xlated_prog_len"],
        jited_len=f["jited_prog_len"],
        verified_insns=f["verified_insns"],
        nr_map_ids=f["nr_map_ids"],
        nr_func_info=f["nr_func_info"],
        btf_id=f["btf_id"],
        ifindex=f["ifindex"],
        netns_dev=f["netns_dev"],
        netns_ino=f["netns_ino"],
        run_time_ns=f["run_time_ns"],
        run_cnt=f["run_cnt"],
        recursion_misses=f["recursion_misses"],
        attach_btf_obj_id=f["attach_btf_obj_id"],
        attach_btf_id=f["attach_btf_id"],
    )


def decode_map_info(data: bytes) -> Map:
    """A Map from `struct bpf_map_info` bytes. Raises LoadedBpfError only for bytes
    without a type and id."""
    _header(data, "bpf_map_info")
    f = abi.MAP_INFO.unpack(data)
    return Map(
        id=f["id"],
        type=abi.type_name(abi.MAP_TYPES, f["type"]),
        type_code=f["type"],
        name=cstring(_slice(data, abi.MAP_NAME)),
        key_size=f["key_size"],
        value_size=f["value_size"],
        max_entries=f["max_entries"],
        flags=f["map_flags"],
        btf_id=f["btf_id"],
        btf_key_type_id=f["btf_key_type_id"],
        btf_value_type_id=f["btf_value_type_id"],
        btf_vmlinux_value_type_id=f["btf_vmlinux_value_type_id"],
        map_extra=f["map_extra"],
        ifindex=f["ifindex"],
    )


def decode_btf_info(data: bytes, name: bytes = b"") -> BtfObject:
    """A BtfObject from `struct bpf_btf_info` bytes and the name buffer the kernel filled
    ("" when none was given). Raises LoadedBpfError only for bytes without an id."""
    _header(data, "bpf_btf_info", id_offset=abi.BTF_INFO.offset("id"))
    f = abi.BTF_INFO.unpack(data)
    return BtfObject(
        id=f["id"], name=cstring(name), size=f["btf_size"], kernel=bool(f["kernel_btf"])
    )


def decode_link_info(data: bytes, name: bytes = b"") -> Link:
    """A Link from `struct bpf_link_info` bytes and the name buffer the kernel filled for
    link types that report one (tracepoint, iterator target, probed function or file).

    Cgroup paths and device names are left for the scan: here they are ids. Raises
    LoadedBpfError only for bytes without a type and id.
    """
    _header(data, "bpf_link_info")
    head = abi.LINK_INFO.unpack(data)
    code = head["type"]
    layout = abi.LINK_UNIONS.get(code)
    u = layout.unpack(data) if layout is not None else {}
    attach = next((v for k, v in u.items() if k.endswith(".attach_type")), None)
    return Link(
        id=head["id"],
        type=abi.type_name(abi.LINK_TYPES, code),
        type_code=code,
        prog_id=head["prog_id"],
        attach_type=abi.type_name(abi.ATTACH_TYPES, attach) if attach is not None else "",
        target=_target(code, u, cstring(name), data),
    )


def _target(code: int, u: dict[str, int], name: str, data: bytes) -> LinkTarget:
    match code:
        case abi.LINK_RAW_TRACEPOINT:
            return LinkTarget("tracepoint", name)
        case abi.LINK_TRACING:
            return LinkTarget(
                "function",
                btf_obj_id=u["tracing.target_obj_id"],
                btf_type_id=u["tracing.target_btf_id"],
            )
        case abi.LINK_CGROUP:
            return LinkTarget("cgroup", cgroup_id=u["cgroup.cgroup_id"])
        case abi.LINK_ITER:
            return _iter_target(u, name, data)
        case abi.LINK_NETNS:
            return LinkTarget("netns", netns_ino=u["netns.netns_ino"])
        case abi.LINK_XDP:
            return LinkTarget("netdev", ifindex=u["xdp.ifindex"])
        case abi.LINK_TCX:
            return LinkTarget("netdev", ifindex=u["tcx.ifindex"])
        case abi.LINK_NETKIT:
            return LinkTarget("netdev", ifindex=u["netkit.ifindex"])
        case abi.LINK_PERF_EVENT:
            return _perf_target(u, name, data)
        case abi.LINK_KPROBE_MULTI:
            ret = u["kprobe_multi.flags"] & abi.KPROBE_MULTI_RETURN
            return LinkTarget(
                "kretprobe_multi" if ret else "kprobe_multi",
                count=u["kprobe_multi.count"],
                detail=f"missed {u['kprobe_multi.missed']}",
            )
        case abi.LINK_UPROBE_MULTI:
            ret = u["uprobe_multi.flags"] & abi.UPROBE_MULTI_RETURN
            return LinkTarget(
                "uretprobe_multi" if ret else "uprobe_multi",
                name,
                count=u["uprobe_multi.count"],
                pid=u["uprobe_multi.pid"] or None,
            )
        case abi.LINK_STRUCT_OPS:
            return LinkTarget("struct_ops", map_id=u["struct_ops.map_id"])
        case abi.LINK_SOCKMAP:
            return LinkTarget("sockmap", map_id=u["sockmap.map_id"])
        case abi.LINK_NETFILTER:
            return _netfilter_target(u)
    return LinkTarget("unknown", detail=f"link type {code}")


def _iter_target(u: dict[str, int], name: str, data: bytes) -> LinkTarget:
    # After the name, the union holds a map id for map iterators, a cgroup id and walk
    # order for cgroup iterators, and a tid or pid for task iterators.
    if name == "cgroup":
        return LinkTarget(
            "iterator",
            name,
            cgroup_id=u["iter.cgroup.cgroup_id"] or None,
            detail=f"order {u['iter.cgroup.order']}",
        )
    if name.startswith("task"):
        task = abi.ITER_TASK_LAYOUT.unpack(data)
        return LinkTarget(
            "iterator",
            name,
            pid=task["iter.task.pid"] or None,
            detail=f"tid {task['iter.task.tid']}" if task["iter.task.tid"] else "",
        )
    return LinkTarget("iterator", name, map_id=u["iter.map.map_id"] or None)


def _perf_target(u: dict[str, int], name: str, data: bytes) -> LinkTarget:
    sub = u["perf_event.type"]
    if sub == abi.PERF_EVENT_EVENT:
        ev = abi.PERF_EVENT_EVENT_LAYOUT.unpack(data)
        return LinkTarget(
            "perf_event",
            detail=f"type {ev['perf_event.event.type']} config {ev['perf_event.event.config']}",
        )
    kind = abi.PERF_EVENT_KINDS[sub] if 0 < sub < len(abi.PERF_EVENT_KINDS) else "perf_event"
    if kind == "tracepoint":
        return LinkTarget("perf_tracepoint", name)
    if kind in ("kprobe", "kretprobe", "uprobe", "uretprobe"):
        return LinkTarget(kind, name, offset=u["perf_event.kprobe.offset"])
    return LinkTarget("perf_event", name, detail=f"perf event type {sub}")


def _netfilter_target(u: dict[str, int]) -> LinkTarget:
    pf = u["netfilter.pf"]
    hook = u["netfilter.hooknum"]
    family = abi.NETFILTER_FAMILIES.get(pf, f"pf {pf}")
    hook_name = abi.NETFILTER_HOOKS[hook] if hook < len(abi.NETFILTER_HOOKS) else f"hook {hook}"
    return LinkTarget(
        "netfilter",
        f"{family} {hook_name}",
        detail=f"priority {u['netfilter.priority']} flags {u['netfilter.flags']:#x}",
    )


def decode_u32s(data: bytes, count: int) -> tuple[int, ...]:
    """The first `count` native u32 values of `data` (fewer if `data` is shorter)."""
    count = max(0, min(count, len(data) // 4))
    return tuple(struct.unpack_from(f"={count}I", data)) if count else ()


def decode_func_info(data: bytes, count: int, rec_size: int) -> tuple[tuple[int, int], ...]:
    """(insn_off, type_id) of the first `count` `bpf_func_info` records of `rec_size`
    bytes each. Raises LoadedBpfError for a record size too small to hold one."""
    if rec_size < abi.FUNC_INFO_REC_SIZE:
        raise LoadedBpfError(
            f"bpf_func_info records of {rec_size} bytes are smaller than the"
            f" {abi.FUNC_INFO_REC_SIZE} a record needs"
        )
    count = max(0, min(count, len(data) // rec_size))
    return tuple(struct.unpack_from("=II", data, i * rec_size) for i in range(count))


@attrs.frozen
class FdInfo:
    """What /proc/PID/fdinfo/FD says of a BPF descriptor: which object it holds."""

    kind: Kind
    id: int
    memlock: int | None = None
    frozen: bool | None = None


# A link's fdinfo also names its program (prog_id), so the link id is looked at first.
_ID_KEYS = (
    ("link_id", Kind.LINKS),
    ("prog_id", Kind.PROGRAMS),
    ("map_id", Kind.MAPS),
    ("btf_id", Kind.BTF),
)


def parse_fdinfo(text: str) -> FdInfo | None:
    """The object a descriptor's fdinfo text names, or None when it names no BPF object
    (another kind of file) or its numbers are not numbers."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key] = value.strip()
    found = next(((key, kind) for key, kind in _ID_KEYS if key in fields), None)
    if found is None:
        return None
    key, kind = found
    try:
        ident = int(fields[key])
        memlock = int(fields["memlock"]) if "memlock" in fields else None
        frozen = bool(int(fields["frozen"])) if "frozen" in fields else None
    except ValueError:
        return None
    if ident <= 0:
        return None
    return FdInfo(kind, ident, memlock, frozen)


def _unescape(field: str) -> str:
    # /proc/*/mounts writes space, tab, newline and backslash as 3-digit octal escapes.
    if "\\" not in field:
        return field
    out = []
    i = 0
    while i < len(field):
        octal = field[i + 1 : i + 4]
        if field[i] == "\\" and len(octal) == 3 and all(c in "01234567" for c in octal):
            out.append(chr(int(octal, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_points(text: str, fstype: str) -> tuple[str, ...]:
    """Mount points of file systems of type `fstype` in /proc/*/mounts text, each once,
    in the order mounted."""
    seen: dict[str, None] = {}
    for fields in _mount_lines(text):
        if fields[2] == fstype:
            seen.setdefault(_unescape(fields[1]), None)
    return tuple(seen)


def _mount_lines(text: str) -> Iterator[list[str]]:
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            yield fields
