"""The bpf() system call's stable UAPI, hard-coded: command numbers, the byte layouts of
`union bpf_attr` pieces and of the `bpf_*_info` structs, and the kernel's names for
program, map, link and attach types.

Each layout maps a field name (as in include/uapi/linux/bpf.h) to its byte offset and a
`struct` code. The kernel only ever appends to these structs, so an older kernel returns a
shorter prefix (its `info_len`) and a newer one has fields past our size that we never ask
for. tests/loaded/test_abi.py checks every offset against the running kernel's own BTF.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

__all__ = [
    "ATTACH_TYPES",
    "BTF_INFO",
    "GET_FD_BY_ID",
    "GET_NEXT_ID",
    "LINK_INFO",
    "LINK_TYPES",
    "MAP_INFO",
    "MAP_TYPES",
    "PROG_INFO",
    "PROG_TYPES",
    "Layout",
    "type_name",
]

SYSCALL_NUMBERS: Mapping[str, int] = {"x86_64": 321, "aarch64": 280, "arm64": 280}
"""`__NR_bpf` by `platform.machine()`; other architectures are not supported."""


def syscall_number(machine: str) -> int | None:
    """The bpf() syscall number on `machine` (as `platform.machine()` names it), None
    where unknown."""
    return SYSCALL_NUMBERS.get(machine)


# enum bpf_cmd: only the read-only commands this package issues.
OBJ_GET = 7
PROG_GET_NEXT_ID = 11
MAP_GET_NEXT_ID = 12
PROG_GET_FD_BY_ID = 13
MAP_GET_FD_BY_ID = 14
OBJ_GET_INFO_BY_FD = 15
BTF_GET_FD_BY_ID = 19
BTF_GET_NEXT_ID = 23
LINK_GET_FD_BY_ID = 30
LINK_GET_NEXT_ID = 31

COMMANDS: Mapping[str, int] = {
    "BPF_OBJ_GET": OBJ_GET,
    "BPF_PROG_GET_NEXT_ID": PROG_GET_NEXT_ID,
    "BPF_MAP_GET_NEXT_ID": MAP_GET_NEXT_ID,
    "BPF_PROG_GET_FD_BY_ID": PROG_GET_FD_BY_ID,
    "BPF_MAP_GET_FD_BY_ID": MAP_GET_FD_BY_ID,
    "BPF_OBJ_GET_INFO_BY_FD": OBJ_GET_INFO_BY_FD,
    "BPF_BTF_GET_FD_BY_ID": BTF_GET_FD_BY_ID,
    "BPF_BTF_GET_NEXT_ID": BTF_GET_NEXT_ID,
    "BPF_LINK_GET_FD_BY_ID": LINK_GET_FD_BY_ID,
    "BPF_LINK_GET_NEXT_ID": LINK_GET_NEXT_ID,
}

# Keyed by the object kinds' values in model.Kind.
GET_NEXT_ID: Mapping[str, int] = {
    "programs": PROG_GET_NEXT_ID,
    "maps": MAP_GET_NEXT_ID,
    "links": LINK_GET_NEXT_ID,
    "btf": BTF_GET_NEXT_ID,
}
GET_FD_BY_ID: Mapping[str, int] = {
    "programs": PROG_GET_FD_BY_ID,
    "maps": MAP_GET_FD_BY_ID,
    "links": LINK_GET_FD_BY_ID,
    "btf": BTF_GET_FD_BY_ID,
}

BPF_F_RDONLY = 1 << 3
"""`file_flags` for BPF_OBJ_GET: a read-only descriptor (maps honour it; links refuse it
with EINVAL and need 0, which still allows only what this package does: reading info)."""


class Layout:
    """Named fields of one C struct at fixed byte offsets, unpacked in one call.

    `fields` maps a name to (offset, struct code) with codes of fixed size (I, i, Q, 8s...);
    `size` is the struct's size. Fields may be listed in any order and need not cover
    the struct: the gaps are skipped. `struct` packs and unpacks the fields in offset
    order from the struct's first byte.
    """

    __slots__ = ("_names", "fields", "name", "size", "struct")

    def __init__(self, name: str, size: int, fields: Mapping[str, tuple[int, str]]) -> None:
        self.name = name
        self.size = size
        self.fields = dict(fields)
        ordered = sorted(self.fields.items(), key=lambda item: item[1][0])
        codes = []
        at = 0
        for field, (offset, code) in ordered:
            if offset < at:
                raise ValueError(f"{name}.{field} at {offset} overlaps the field before it")
            codes.append(f"{offset - at}x" if offset > at else "")
            codes.append(code)
            at = offset + struct.calcsize("=" + code)
        if at > size:
            raise ValueError(f"{name}: fields run to byte {at}, past its size {size}")
        self._names = tuple(field for field, _ in ordered)
        self.struct = struct.Struct("=" + "".join(codes))

    def offset(self, field: str) -> int:
        return self.fields[field][0]

    def unpack(self, data: bytes) -> dict[str, int]:
        """Every field of `data` read as an int; `data` shorter than the fields is padded
        with zeros (an older kernel's shorter struct reads its missing fields as 0)."""
        need = self.struct.size
        if len(data) < need:
            data = bytes(data) + bytes(need - len(data))
        return dict(zip(self._names, self.struct.unpack_from(data), strict=True))

    def pack(self, values: Mapping[str, int] | None = None) -> bytearray:
        """A zeroed struct of `size` bytes with the fields in `values` set."""
        buf = bytearray(self.size)
        for field, value in (values or {}).items():
            offset, code = self.fields[field]
            struct.pack_into("=" + code, buf, offset, value)
        return buf


# union bpf_attr, the parts the read-only commands use.
ATTR_GET_ID = Layout(
    "bpf_attr(GET_NEXT_ID, GET_FD_BY_ID)",
    16,
    {"start_id": (0, "I"), "next_id": (4, "I"), "open_flags": (8, "I")},
)
ATTR_INFO = Layout(
    "bpf_attr(OBJ_GET_INFO_BY_FD)",
    16,
    {"bpf_fd": (0, "I"), "info_len": (4, "I"), "info": (8, "Q")},
)
ATTR_OBJ_GET = Layout(
    "bpf_attr(OBJ_GET)",
    16,
    {"pathname": (0, "Q"), "bpf_fd": (8, "I"), "file_flags": (12, "I")},
)

# Integer fields only: names and tags are sliced from the bytes by the decoders.
PROG_INFO = Layout(
    "bpf_prog_info",
    232,
    {
        "type": (0, "I"),
        "id": (4, "I"),
        "jited_prog_len": (16, "I"),
        "xlated_prog_len": (20, "I"),
        "load_time": (40, "Q"),
        "created_by_uid": (48, "I"),
        "nr_map_ids": (52, "I"),
        "map_ids": (56, "Q"),
        "ifindex": (80, "I"),
        "gpl_word": (84, "I"),
        "netns_dev": (88, "Q"),
        "netns_ino": (96, "Q"),
        "btf_id": (128, "I"),
        "func_info_rec_size": (132, "I"),
        "func_info": (136, "Q"),
        "nr_func_info": (144, "I"),
        "nr_line_info": (148, "I"),
        "run_time_ns": (192, "Q"),
        "run_cnt": (200, "Q"),
        "recursion_misses": (208, "Q"),
        "verified_insns": (216, "I"),
        "attach_btf_obj_id": (220, "I"),
        "attach_btf_id": (224, "I"),
    },
)
PROG_TAG = (8, 8)  # offset, size of tag[8]
PROG_NAME = (64, 16)  # offset, size of name[16]
FUNC_INFO_REC_SIZE = 8  # struct bpf_func_info {u32 insn_off; u32 type_id;}

MAP_INFO = Layout(
    "bpf_map_info",
    104,
    {
        "type": (0, "I"),
        "id": (4, "I"),
        "key_size": (8, "I"),
        "value_size": (12, "I"),
        "max_entries": (16, "I"),
        "map_flags": (20, "I"),
        "ifindex": (40, "I"),
        "btf_vmlinux_value_type_id": (44, "I"),
        "netns_dev": (48, "Q"),
        "netns_ino": (56, "Q"),
        "btf_id": (64, "I"),
        "btf_key_type_id": (68, "I"),
        "btf_value_type_id": (72, "I"),
        "btf_vmlinux_id": (76, "I"),
        "map_extra": (80, "Q"),
    },
)
MAP_NAME = (24, 16)

BTF_INFO = Layout(
    "bpf_btf_info",
    32,
    {
        "btf": (0, "Q"),
        "btf_size": (8, "I"),
        "id": (12, "I"),
        "name": (16, "Q"),
        "name_len": (24, "I"),
        "kernel_btf": (28, "I"),
    },
)

LINK_INFO = Layout("bpf_link_info", 64, {"type": (0, "I"), "id": (4, "I"), "prog_id": (8, "I")})
LINK_UNION = 16
"""Where bpf_link_info's per-type union starts; the layouts below are absolute offsets."""

LINK_RAW_TRACEPOINT = 1
LINK_TRACING = 2
LINK_CGROUP = 3
LINK_ITER = 4
LINK_NETNS = 5
LINK_XDP = 6
LINK_PERF_EVENT = 7
LINK_KPROBE_MULTI = 8
LINK_STRUCT_OPS = 9
LINK_NETFILTER = 10
LINK_TCX = 11
LINK_UPROBE_MULTI = 12
LINK_NETKIT = 13
LINK_SOCKMAP = 14

LINK_UNIONS: Mapping[int, Layout] = {
    LINK_RAW_TRACEPOINT: Layout(
        "raw_tracepoint",
        64,
        {"raw_tracepoint.tp_name": (16, "Q"), "raw_tracepoint.tp_name_len": (24, "I")},
    ),
    LINK_TRACING: Layout(
        "tracing",
        64,
        {
            "tracing.attach_type": (16, "I"),
            "tracing.target_obj_id": (20, "I"),
            "tracing.target_btf_id": (24, "I"),
        },
    ),
    LINK_CGROUP: Layout(
        "cgroup", 64, {"cgroup.cgroup_id": (16, "Q"), "cgroup.attach_type": (24, "I")}
    ),
    LINK_ITER: Layout(
        "iter",
        64,
        {
            "iter.target_name": (16, "Q"),
            "iter.target_name_len": (24, "I"),
            "iter.map.map_id": (28, "I"),
            "iter.cgroup.cgroup_id": (32, "Q"),
            "iter.cgroup.order": (40, "I"),
        },
    ),
    LINK_NETNS: Layout("netns", 64, {"netns.netns_ino": (16, "I"), "netns.attach_type": (20, "I")}),
    LINK_XDP: Layout("xdp", 64, {"xdp.ifindex": (16, "I")}),
    LINK_PERF_EVENT: Layout(
        "perf_event",
        64,
        {
            "perf_event.type": (16, "I"),
            "perf_event.kprobe.func_name": (24, "Q"),
            "perf_event.kprobe.name_len": (32, "I"),
            "perf_event.kprobe.offset": (36, "I"),
            "perf_event.kprobe.addr": (40, "Q"),
            "perf_event.kprobe.missed": (48, "Q"),
        },
    ),
    LINK_KPROBE_MULTI: Layout(
        "kprobe_multi",
        64,
        {
            "kprobe_multi.count": (24, "I"),
            "kprobe_multi.flags": (28, "I"),
            "kprobe_multi.missed": (32, "Q"),
        },
    ),
    LINK_STRUCT_OPS: Layout("struct_ops", 64, {"struct_ops.map_id": (16, "I")}),
    LINK_NETFILTER: Layout(
        "netfilter",
        64,
        {
            "netfilter.pf": (16, "I"),
            "netfilter.hooknum": (20, "I"),
            "netfilter.priority": (24, "i"),
            "netfilter.flags": (28, "I"),
        },
    ),
    LINK_TCX: Layout("tcx", 64, {"tcx.ifindex": (16, "I"), "tcx.attach_type": (20, "I")}),
    LINK_UPROBE_MULTI: Layout(
        "uprobe_multi",
        64,
        {
            "uprobe_multi.path": (16, "Q"),
            "uprobe_multi.path_size": (48, "I"),
            "uprobe_multi.count": (52, "I"),
            "uprobe_multi.flags": (56, "I"),
            "uprobe_multi.pid": (60, "I"),
        },
    ),
    LINK_NETKIT: Layout(
        "netkit", 64, {"netkit.ifindex": (16, "I"), "netkit.attach_type": (20, "I")}
    ),
    LINK_SOCKMAP: Layout(
        "sockmap", 64, {"sockmap.map_id": (16, "I"), "sockmap.attach_type": (20, "I")}
    ),
}

LINK_NAME_FIELDS: Mapping[int, tuple[str, str]] = {
    LINK_RAW_TRACEPOINT: ("raw_tracepoint.tp_name", "raw_tracepoint.tp_name_len"),
    LINK_ITER: ("iter.target_name", "iter.target_name_len"),
    LINK_PERF_EVENT: ("perf_event.kprobe.func_name", "perf_event.kprobe.name_len"),
    LINK_UPROBE_MULTI: ("uprobe_multi.path", "uprobe_multi.path_size"),
}
"""For link types that report a name into a caller's buffer: the union's pointer and
length fields (perf_event's uprobe, kprobe and tracepoint variants share these offsets)."""

ITER_TASK_LAYOUT = Layout("iter.task", 64, {"iter.task.tid": (32, "I"), "iter.task.pid": (36, "I")})
"""A task iterator's filter, which overlays a cgroup iterator's cgroup id."""

PERF_EVENT_EVENT_LAYOUT = Layout(
    "perf_event.event",
    64,
    {"perf_event.event.config": (24, "Q"), "perf_event.event.type": (32, "I")},
)
"""perf_event's generic-event variant, whose fields overlay the name pointer and length."""

# enum bpf_perf_event_type
PERF_EVENT_KINDS = ("perf_event", "uprobe", "uretprobe", "kprobe", "kretprobe", "tracepoint")
PERF_EVENT_EVENT = 6
KPROBE_MULTI_RETURN = 1  # BPF_F_KPROBE_MULTI_RETURN
UPROBE_MULTI_RETURN = 1  # BPF_F_UPROBE_MULTI_RETURN

# Type names as the kernel's enums spell them, lowercased without the prefix (which is
# also how bpftool and libbpf print them), indexed by value.
PROG_TYPES = (
    "unspec",
    "socket_filter",
    "kprobe",
    "sched_cls",
    "sched_act",
    "tracepoint",
    "xdp",
    "perf_event",
    "cgroup_skb",
    "cgroup_sock",
    "lwt_in",
    "lwt_out",
    "lwt_xmit",
    "sock_ops",
    "sk_skb",
    "cgroup_device",
    "sk_msg",
    "raw_tracepoint",
    "cgroup_sock_addr",
    "lwt_seg6local",
    "lirc_mode2",
    "sk_reuseport",
    "flow_dissector",
    "cgroup_sysctl",
    "raw_tracepoint_writable",
    "cgroup_sockopt",
    "tracing",
    "struct_ops",
    "ext",
    "lsm",
    "sk_lookup",
    "syscall",
    "netfilter",
)
MAP_TYPES = (
    "unspec",
    "hash",
    "array",
    "prog_array",
    "perf_event_array",
    "percpu_hash",
    "percpu_array",
    "stack_trace",
    "cgroup_array",
    "lru_hash",
    "lru_percpu_hash",
    "lpm_trie",
    "array_of_maps",
    "hash_of_maps",
    "devmap",
    "sockmap",
    "cpumap",
    "xskmap",
    "sockhash",
    "cgroup_storage",
    "reuseport_sockarray",
    "percpu_cgroup_storage",
    "queue",
    "stack",
    "sk_storage",
    "devmap_hash",
    "struct_ops",
    "ringbuf",
    "inode_storage",
    "task_storage",
    "bloom_filter",
    "user_ringbuf",
    "cgrp_storage",
    "arena",
)
LINK_TYPES = (
    "unspec",
    "raw_tracepoint",
    "tracing",
    "cgroup",
    "iter",
    "netns",
    "xdp",
    "perf_event",
    "kprobe_multi",
    "struct_ops",
    "netfilter",
    "tcx",
    "uprobe_multi",
    "netkit",
    "sockmap",
)
ATTACH_TYPES = (
    "cgroup_inet_ingress",
    "cgroup_inet_egress",
    "cgroup_inet_sock_create",
    "cgroup_sock_ops",
    "sk_skb_stream_parser",
    "sk_skb_stream_verdict",
    "cgroup_device",
    "sk_msg_verdict",
    "cgroup_inet4_bind",
    "cgroup_inet6_bind",
    "cgroup_inet4_connect",
    "cgroup_inet6_connect",
    "cgroup_inet4_post_bind",
    "cgroup_inet6_post_bind",
    "cgroup_udp4_sendmsg",
    "cgroup_udp6_sendmsg",
    "lirc_mode2",
    "flow_dissector",
    "cgroup_sysctl",
    "cgroup_udp4_recvmsg",
    "cgroup_udp6_recvmsg",
    "cgroup_getsockopt",
    "cgroup_setsockopt",
    "trace_raw_tp",
    "trace_fentry",
    "trace_fexit",
    "modify_return",
    "lsm_mac",
    "trace_iter",
    "cgroup_inet4_getpeername",
    "cgroup_inet6_getpeername",
    "cgroup_inet4_getsockname",
    "cgroup_inet6_getsockname",
    "xdp_devmap",
    "cgroup_inet_sock_release",
    "xdp_cpumap",
    "sk_lookup",
    "xdp",
    "sk_skb_verdict",
    "sk_reuseport_select",
    "sk_reuseport_select_or_migrate",
    "perf_event",
    "trace_kprobe_multi",
    "lsm_cgroup",
    "struct_ops",
    "netfilter",
    "tcx_ingress",
    "tcx_egress",
    "trace_uprobe_multi",
    "cgroup_unix_connect",
    "cgroup_unix_sendmsg",
    "cgroup_unix_recvmsg",
    "cgroup_unix_getpeername",
    "cgroup_unix_getsockname",
    "netkit_primary",
    "netkit_peer",
    "trace_kprobe_session",
    "trace_uprobe_session",
)

NETFILTER_FAMILIES: Mapping[int, str] = {
    1: "inet",
    2: "ipv4",
    3: "arp",
    5: "netdev",
    7: "bridge",
    10: "ipv6",
}
NETFILTER_HOOKS = ("prerouting", "input", "forward", "output", "postrouting")


def type_name(names: tuple[str, ...], code: int) -> str:
    """The name of `code` in `names`, or "unknown(N)" for a value newer than this table."""
    return names[code] if 0 <= code < len(names) else f"unknown({code})"
