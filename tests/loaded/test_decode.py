"""Decoders over crafted info bytes, fdinfo and mounts text; random input raises nothing
but LoadedBpfError."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpf_mcp.loaded import (
    Kind,
    LinkTarget,
    LoadedBpfError,
    abi,
    decode_btf_info,
    decode_link_info,
    decode_map_info,
    decode_prog_info,
    parse_fdinfo,
)
from bpf_mcp.loaded.decode import cstring, decode_func_info, decode_u32s, mount_points

from .encode import link_info, map_info, prog_info


def test_program_from_bytes_written_by_hand() -> None:
    # Offsets written out here, not taken from abi: type, id, tag, lengths, load time,
    # uid, name, the gpl bit, btf id, stats and verified insns of bpf_prog_info.
    data = bytearray(232)
    struct.pack_into("=II8sII", data, 0, 17, 111, bytes.fromhex("57f49838f3b3308a"), 207, 328)
    struct.pack_into("=QII", data, 40, 312_691_225_822, 1000, 2)
    data[64:80] = b"on_switch".ljust(16, b"\0")
    struct.pack_into("=I", data, 84, 1)
    struct.pack_into("=I", data, 128, 40)
    struct.pack_into("=I", data, 144, 2)
    struct.pack_into("=QQQIII", data, 192, 5000, 7, 1, 33, 1, 63695)
    prog = decode_prog_info(bytes(data))
    assert (prog.id, prog.type, prog.type_code, prog.name) == (
        111,
        "raw_tracepoint",
        17,
        "on_switch",
    )
    assert prog.tag == "57f49838f3b3308a"
    assert (prog.jited_len, prog.xlated_len, prog.verified_insns) == (207, 328, 33)
    assert (prog.load_time_ns, prog.created_by_uid, prog.nr_map_ids) == (312_691_225_822, 1000, 2)
    assert prog.gpl_compatible
    assert (prog.btf_id, prog.nr_func_info) == (40, 2)
    assert (prog.run_time_ns, prog.run_cnt, prog.recursion_misses) == (5000, 7, 1)
    assert (prog.attach_btf_obj_id, prog.attach_btf_id) == (1, 63695)


def test_map_from_bytes_written_by_hand() -> None:
    data = bytearray(104)
    struct.pack_into("=IIIIII16s", data, 0, 1, 31, 4, 8, 64, 1, b"counts")
    struct.pack_into("=IIII", data, 64, 40, 8, 18, 0)
    m = decode_map_info(bytes(data))
    assert (m.id, m.type, m.name) == (31, "hash", "counts")
    assert (m.key_size, m.value_size, m.max_entries, m.flags) == (4, 8, 64, 1)
    assert (m.btf_id, m.btf_key_type_id, m.btf_value_type_id) == (40, 8, 18)


def test_btf_from_bytes_and_name_buffer() -> None:
    data = struct.pack("=QIIQII", 0, 5_482_429, 1, 0, 7, 1)
    obj = decode_btf_info(data, b"vmlinux\0garbage")
    assert (obj.id, obj.name, obj.size, obj.kernel) == (1, "vmlinux", 5_482_429, True)


def test_an_older_kernels_shorter_struct_reads_missing_fields_as_zero() -> None:
    full = prog_info(id=9, type=1, verified_insns=33, attach_btf_id=5, name=b"old")
    prog = decode_prog_info(full[:192])  # a kernel before run_time_ns
    assert (prog.id, prog.name, prog.verified_insns, prog.attach_btf_id) == (9, "old", 0, 0)
    assert decode_map_info(map_info(id=3, type=2)[:24]).name == ""


def test_bytes_past_the_struct_are_ignored() -> None:
    assert decode_map_info(map_info(id=3, type=2) + b"\xff" * 40).id == 3


@pytest.mark.parametrize("decode", [decode_prog_info, decode_map_info, decode_link_info])
def test_bytes_without_type_and_id_raise(decode: object) -> None:
    with pytest.raises(LoadedBpfError, match="fewer than the 8"):
        decode(b"\x01\x00\x00")  # type: ignore[operator]
    with pytest.raises(LoadedBpfError, match="id is 0"):
        decode(bytes(64))  # type: ignore[operator]


def test_unknown_type_codes_are_named_as_such() -> None:
    assert decode_prog_info(prog_info(id=1, type=99)).type == "unknown(99)"
    assert decode_map_info(map_info(id=1, type=1000)).type == "unknown(1000)"


def test_names_that_are_not_utf8_or_not_terminated() -> None:
    assert decode_prog_info(prog_info(id=1, name=b"\xffab")).name == "\ufffdab"
    assert decode_prog_info(prog_info(id=1, name=b"x" * 16)).name == "x" * 16
    assert cstring(b"") == ""


@pytest.mark.parametrize(
    ("code", "fields", "name", "target", "attach"),
    [
        (
            abi.LINK_RAW_TRACEPOINT,
            {},
            b"sched_switch\0",
            LinkTarget("tracepoint", "sched_switch"),
            "",
        ),
        (
            abi.LINK_TRACING,
            {"tracing.attach_type": 24, "tracing.target_obj_id": 1, "tracing.target_btf_id": 77},
            b"",
            LinkTarget("function", btf_obj_id=1, btf_type_id=77),
            "trace_fentry",
        ),
        (
            abi.LINK_CGROUP,
            {"cgroup.cgroup_id": 272, "cgroup.attach_type": 1},
            b"",
            LinkTarget("cgroup", cgroup_id=272),
            "cgroup_inet_egress",
        ),
        (
            abi.LINK_ITER,
            {"iter.map.map_id": 5},
            b"bpf_map_elem",
            LinkTarget("iterator", "bpf_map_elem", map_id=5),
            "",
        ),
        (abi.LINK_XDP, {"xdp.ifindex": 2}, b"", LinkTarget("netdev", ifindex=2), ""),
        (
            abi.LINK_TCX,
            {"tcx.ifindex": 3, "tcx.attach_type": 46},
            b"",
            LinkTarget("netdev", ifindex=3),
            "tcx_ingress",
        ),
        (
            abi.LINK_PERF_EVENT,
            {"perf_event.type": 3, "perf_event.kprobe.offset": 4},
            b"vfs_read",
            LinkTarget("kprobe", "vfs_read", offset=4),
            "",
        ),
        (
            abi.LINK_PERF_EVENT,
            {"perf_event.type": 5},
            b"sys_enter_openat",
            LinkTarget("perf_tracepoint", "sys_enter_openat"),
            "",
        ),
        (
            abi.LINK_KPROBE_MULTI,
            {"kprobe_multi.count": 3, "kprobe_multi.flags": 1},
            b"",
            LinkTarget("kretprobe_multi", count=3, detail="missed 0"),
            "",
        ),
        (
            abi.LINK_STRUCT_OPS,
            {"struct_ops.map_id": 8},
            b"",
            LinkTarget("struct_ops", map_id=8),
            "",
        ),
        (
            abi.LINK_NETFILTER,
            {"netfilter.pf": 2, "netfilter.hooknum": 1, "netfilter.priority": -128},
            b"",
            LinkTarget("netfilter", "ipv4 input", detail="priority -128 flags 0x0"),
            "",
        ),
        (
            abi.LINK_UPROBE_MULTI,
            {"uprobe_multi.count": 2, "uprobe_multi.pid": 42},
            b"/usr/bin/true",
            LinkTarget("uprobe_multi", "/usr/bin/true", pid=42, count=2),
            "",
        ),
        (
            abi.LINK_SOCKMAP,
            {"sockmap.map_id": 6, "sockmap.attach_type": 38},
            b"",
            LinkTarget("sockmap", map_id=6),
            "sk_skb_verdict",
        ),
        (99, {}, b"", LinkTarget("unknown", detail="link type 99"), ""),
    ],
)
def test_link_targets_by_type(
    code: int, fields: dict[str, int], name: bytes, target: LinkTarget, attach: str
) -> None:
    link = decode_link_info(link_info(code, id=7, prog_id=3, fields=fields), name)
    assert (link.id, link.prog_id, link.type_code) == (7, 3, code)
    assert link.target == target
    assert link.attach_type == attach


def test_task_and_cgroup_iterators() -> None:
    task = decode_link_info(
        link_info(abi.LINK_ITER, id=1, fields={}, raw={32: struct.pack("=II", 0, 77)}), b"task"
    )
    assert task.target == LinkTarget("iterator", "task", pid=77)
    cg = decode_link_info(
        link_info(abi.LINK_ITER, id=1, fields={"iter.cgroup.cgroup_id": 9, "iter.cgroup.order": 2}),
        b"cgroup",
    )
    assert cg.target == LinkTarget("iterator", "cgroup", cgroup_id=9, detail="order 2")


def test_perf_event_generic_event() -> None:
    link = decode_link_info(
        link_info(
            abi.LINK_PERF_EVENT,
            id=1,
            fields={"perf_event.type": 6},
            raw={24: struct.pack("=QI", 0x10, 1)},
        )
    )
    assert link.target == LinkTarget("perf_event", detail="type 1 config 16")


def test_u32_arrays_and_func_info() -> None:
    assert decode_u32s(struct.pack("=3I", 30, 31, 32), 2) == (30, 31)
    assert decode_u32s(struct.pack("=I", 30), 5) == (30,)
    assert decode_u32s(b"", 3) == ()
    data = struct.pack("=4I", 0, 12, 40, 14)
    assert decode_func_info(data, 2, 8) == ((0, 12), (40, 14))
    assert decode_func_info(data + bytes(8), 2, 12) == ((0, 12), (14, 0))
    with pytest.raises(LoadedBpfError, match="smaller"):
        decode_func_info(data, 2, 4)


PROG_FDINFO = """pos:\t0
flags:\t02000002
mnt_id:\t17
ino:\t20
prog_type:\t17
prog_jited:\t1
prog_tag:\t57f49838f3b3308a
memlock:\t4096
prog_id:\t111
run_time_ns:\t0
"""
LINK_FDINFO = "link_type:\traw_tracepoint\nlink_id:\t89\nprog_tag:\tab\nprog_id:\t132\n"
MAP_FDINFO = "map_type:\t2\nmemlock:\t344\nmap_id:\t30\nfrozen:\t1\n"


def test_fdinfo_names_the_object() -> None:
    prog = parse_fdinfo(PROG_FDINFO)
    assert prog is not None and (prog.kind, prog.id, prog.memlock) == (Kind.PROGRAMS, 111, 4096)
    link = parse_fdinfo(LINK_FDINFO)  # names its program too: the link is what it holds
    assert link is not None and (link.kind, link.id) == (Kind.LINKS, 89)
    m = parse_fdinfo(MAP_FDINFO)
    assert m is not None and (m.kind, m.id, m.memlock, m.frozen) == (Kind.MAPS, 30, 344, True)
    btf = parse_fdinfo("pos:\t0\nbtf_id:\t40\n")
    assert btf is not None and (btf.kind, btf.id, btf.memlock) == (Kind.BTF, 40, None)


@pytest.mark.parametrize(
    "text", ["", "pos:\t0\nflags:\t02\n", "prog_id:\tlots\n", "map_id:\t0\n", "map_id:\t-3\n"]
)
def test_fdinfo_of_no_object(text: str) -> None:
    assert parse_fdinfo(text) is None


def test_mount_points() -> None:
    text = (
        "bpf /sys/fs/bpf bpf rw,relatime 0 0\n"
        "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
        "bpf /mnt/with\\040space bpf rw 0 0\n"
        "bpf /sys/fs/bpf bpf rw 0 0\n"
        "short line\n"
    )
    assert mount_points(text, "bpf") == ("/sys/fs/bpf", "/mnt/with space")
    assert mount_points(text, "cgroup2") == ("/sys/fs/cgroup/unified",)
    assert mount_points("x /a\\12 bpf 0 0\n", "bpf") == ("/a\\12",)


DECODERS = [decode_prog_info, decode_map_info, decode_link_info, decode_btf_info]


@given(st.sampled_from(DECODERS), st.binary(max_size=300))
def test_random_bytes_raise_only_loaded_bpf_error(decode: object, data: bytes) -> None:
    with contextlib.suppress(LoadedBpfError):
        decode(data)  # type: ignore[operator]


@given(
    st.integers(0, 20),
    st.dictionaries(
        st.sampled_from(sorted({f for lay in abi.LINK_UNIONS.values() for f in lay.fields})),
        st.integers(0, 2**31 - 1),
        max_size=6,
    ),
    st.binary(max_size=64),
    st.integers(1, 2**32 - 1),
)
def test_any_link_type_with_any_fields_decodes(
    code: int, fields: dict[str, int], name: bytes, ident: int
) -> None:
    layout = abi.LINK_UNIONS.get(code)
    usable = {k: v for k, v in fields.items() if layout is not None and k in layout.fields}
    link = decode_link_info(link_info(code, id=ident, fields=usable), name)
    assert link.id == ident
    assert link.target.kind


@given(st.text(max_size=400))
def test_random_text_never_raises(text: str) -> None:
    parse_fdinfo(text)
    mount_points(text, "bpf")


@given(st.binary(max_size=200), st.integers(-5, 50), st.integers(8, 24))
def test_arrays_of_random_bytes(data: bytes, count: int, rec_size: int) -> None:
    assert len(decode_u32s(data, count)) <= max(count, 0)
    assert len(decode_func_info(data, count, rec_size)) <= max(count, 0)


@given(st.dictionaries(st.sampled_from(sorted(abi.PROG_INFO.fields)), st.integers(0, 2**32 - 1)))
def test_layout_pack_then_unpack(values: dict[str, int]) -> None:
    unpacked = abi.PROG_INFO.unpack(bytes(abi.PROG_INFO.pack(values)))
    assert {k: unpacked[k] for k in values} == values
