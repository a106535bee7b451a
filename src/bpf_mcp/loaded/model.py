"""Frozen values for the BPF objects loaded in the kernel: programs, maps, links and BTF."""

from __future__ import annotations

import enum

import attrs

__all__ = [
    "BtfObject",
    "Kind",
    "LeftOut",
    "Link",
    "LinkTarget",
    "LoadedBpf",
    "Map",
    "Owner",
    "Program",
]


class Kind(enum.StrEnum):
    """One kind of loaded BPF object, each with its own id space in the kernel."""

    PROGRAMS = "programs"
    MAPS = "maps"
    LINKS = "links"
    BTF = "btf"


@attrs.frozen
class Owner:
    """A process holding a descriptor of the object (seen in /proc/PID/fdinfo)."""

    pid: int
    comm: str


@attrs.frozen
class Program:
    """A loaded program: `bpf_prog_info` plus what the scan adds.

    `load_time_ns` counts from boot (CLOCK_BOOTTIME); `loaded_at` is the same moment as
    Unix time, set by the scan. `run_time_ns`/`run_cnt` are 0 unless stats are enabled
    (kernel.bpf_stats_enabled). `jited_len`, `xlated_len` and `nr_func_info` read 0 for a
    caller without CAP_BPF or CAP_SYS_ADMIN. `attach_btf_obj_id`/`attach_btf_id` name the
    BTF type a tracing, LSM or extension program attaches to; `attach_func` is its name
    where the scan could resolve it. `func_names` are the program's functions from its
    own BTF (`func_info`), main function first.
    """

    id: int
    type: str
    type_code: int
    name: str
    tag: str
    gpl_compatible: bool
    load_time_ns: int
    created_by_uid: int
    xlated_len: int
    jited_len: int
    verified_insns: int
    nr_map_ids: int
    nr_func_info: int
    btf_id: int
    ifindex: int
    netns_dev: int
    netns_ino: int
    run_time_ns: int
    run_cnt: int
    recursion_misses: int
    attach_btf_obj_id: int
    attach_btf_id: int
    loaded_at: float | None = None
    map_ids: tuple[int, ...] = ()
    func_names: tuple[str, ...] = ()
    attach_func: str | None = None
    memlock: int | None = None
    owners: tuple[Owner, ...] = ()
    pins: tuple[str, ...] = ()


@attrs.frozen
class Map:
    """A loaded map: `bpf_map_info` plus what the scan adds (`memlock`, `frozen` from the
    descriptor's fdinfo; owners; pinned paths)."""

    id: int
    type: str
    type_code: int
    name: str
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    btf_id: int
    btf_key_type_id: int
    btf_value_type_id: int
    btf_vmlinux_value_type_id: int
    map_extra: int
    ifindex: int
    memlock: int | None = None
    frozen: bool | None = None
    owners: tuple[Owner, ...] = ()
    pins: tuple[str, ...] = ()


@attrs.frozen
class LinkTarget:
    """Where a link attaches, in the kernel's terms.

    `kind` is one of: tracepoint (raw tracepoint name), function (fentry, fexit, LSM,
    tp_btf: a BTF type), cgroup, iterator, netns, netdev (XDP, tcx, netkit), kprobe,
    kretprobe, uprobe, uretprobe, perf_tracepoint, perf_event, kprobe_multi,
    kretprobe_multi, uprobe_multi, uretprobe_multi, struct_ops, netfilter, sockmap, or
    unknown. `name` is what names the point: a tracepoint or function, an iterator target,
    a device, a cgroup path, a file; "" when only numbers identify it.
    """

    kind: str
    name: str = ""
    ifindex: int | None = None
    cgroup_id: int | None = None
    map_id: int | None = None
    btf_obj_id: int | None = None
    btf_type_id: int | None = None
    netns_ino: int | None = None
    pid: int | None = None
    count: int | None = None
    offset: int | None = None
    detail: str = ""


@attrs.frozen
class Link:
    """A link: the program `prog_id` attached at `target`. `attach_type` is "" for link
    types whose info does not carry one."""

    id: int
    type: str
    type_code: int
    prog_id: int
    attach_type: str
    target: LinkTarget
    owners: tuple[Owner, ...] = ()
    pins: tuple[str, ...] = ()


@attrs.frozen
class BtfObject:
    """A BTF object in the kernel: vmlinux and modules (`kernel`), or one a loader put
    there for its programs and maps (which the scan lists in `prog_ids`/`map_ids`)."""

    id: int
    name: str
    size: int
    kernel: bool
    prog_ids: tuple[int, ...] = ()
    map_ids: tuple[int, ...] = ()
    owners: tuple[Owner, ...] = ()


@attrs.frozen
class LeftOut:
    """`count` entries of `kind` ("programs", ..., or "processes") the scan left out, and
    why: "vanished" (freed between listing and opening it), or a short reason."""

    kind: str
    reason: str
    count: int


@attrs.frozen
class LoadedBpf:
    """One scan of the kernel's loaded BPF objects, each kind sorted by id.

    `stats_enabled` is kernel.bpf_stats_enabled (None where unreadable): without it run
    times and counts stay 0. `captured_at` is Unix time at the scan's start. `notes` are
    sentences about what the scan could not do (no bpffs mounted, names not resolved).
    """

    programs: tuple[Program, ...]
    maps: tuple[Map, ...]
    links: tuple[Link, ...]
    btf: tuple[BtfObject, ...]
    left_out: tuple[LeftOut, ...]
    stats_enabled: bool | None
    captured_at: float
    notes: tuple[str, ...] = ()

    def of(
        self, kind: Kind
    ) -> tuple[Program, ...] | tuple[Map, ...] | tuple[Link, ...] | tuple[BtfObject, ...]:
        """The objects of `kind`."""
        match kind:
            case Kind.PROGRAMS:
                return self.programs
            case Kind.MAPS:
                return self.maps
            case Kind.LINKS:
                return self.links
            case Kind.BTF:
                return self.btf

    def ids(self, kind: Kind) -> tuple[int, ...]:
        return tuple(obj.id for obj in self.of(kind))
