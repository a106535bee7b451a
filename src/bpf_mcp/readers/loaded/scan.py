"""One scan of every loaded BPF object: list ids, open each, read its info, close it.

Blocking; run it in a worker thread. Every descriptor is closed before the next object is
opened. An object freed between being listed and being opened is left out and counted.
"""

from __future__ import annotations

import errno
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import attrs

from ...btf import Btf, BtfError, parse_btf
from ...btf import Kind as BtfKind
from ...loaded import abi
from ...loaded.decode import (
    decode_btf_info,
    decode_func_info,
    decode_link_info,
    decode_map_info,
    decode_prog_info,
    decode_u32s,
    parse_fdinfo,
)
from ...loaded.errors import NO_SYSCALL_FIX, PRIVILEGE_FIX, BpfUnavailable, LoadedBpfError
from ...loaded.model import BtfObject, Kind, LeftOut, Link, LoadedBpf, Map, Program
from .procfs import (
    Owners,
    Pins,
    cgroup_paths,
    find_owners,
    find_pins,
    interface_names,
    mounts_of,
)
from .syscall import BpfCalls, LibcBpf

__all__ = ["list_ids", "snapshot"]

T = TypeVar("T")

NAME_BUFFER = 4096
"""Bytes offered for a name the kernel reports into our buffer (PATH_MAX)."""
BTF_NAME_BUFFER = 64
"""Bytes offered for a BTF object's name (module names are at most 56)."""
MAX_IDS = 1 << 20
"""Ids listed per kind before a scan stops: far above any real system."""

_COMMAND_NAMES = {value: name for name, value in abi.COMMANDS.items()}


def _unavailable(exc: OSError, cmd: int) -> BpfUnavailable:
    what = _COMMAND_NAMES.get(cmd, f"bpf command {cmd}")
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    if exc.errno in (errno.EPERM, errno.EACCES):
        return BpfUnavailable(
            "permission",
            f"the kernel refused to list loaded BPF objects ({what}: {reason}); it needs"
            " CAP_SYS_ADMIN",
            PRIVILEGE_FIX,
        )
    if exc.errno == errno.ENOSYS:
        return BpfUnavailable(
            "missing", f"this kernel has no bpf() system call ({what}: {reason})", NO_SYSCALL_FIX
        )
    return BpfUnavailable("io", f"the bpf() system call failed ({what}: {reason})", "")


def list_ids(calls: BpfCalls, kind: Kind) -> list[int]:
    """Every id of `kind` in ascending order (a cheap signature of what is loaded).

    Raises BpfUnavailable when the kernel refuses the listing.
    """
    ids: list[int] = []
    start = 0
    while len(ids) < MAX_IDS:
        try:
            ident = calls.next_id(kind, start)
        except OSError as exc:
            raise _unavailable(exc, abi.GET_NEXT_ID[kind]) from None
        if ident is None or ident <= start:
            break
        ids.append(ident)
        start = ident
    return ids


@attrs.define
class _Scan:
    """The state of one scan: counts of left-out entries and BTF objects fetched for
    names. Lives for one call of `snapshot` only."""

    calls: BpfCalls
    vmlinux: Btf | None
    owners: Owners
    pins: Pins
    boot_offset: float
    left: Counter[tuple[str, str]] = attrs.Factory(Counter)
    kernel_btf: dict[int, str] = attrs.Factory(dict)
    fetched: dict[int, Btf | None] = attrs.Factory(dict)
    unresolved: int = 0

    def each(self, kind: Kind, read: Callable[[int], T]) -> list[T]:
        out = []
        for ident in list_ids(self.calls, kind):
            try:
                fd = self.calls.fd_by_id(kind, ident)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    self.left[(kind.value, "vanished")] += 1
                    continue
                if exc.errno in (errno.EPERM, errno.EACCES, errno.ENOSYS):
                    raise _unavailable(exc, abi.GET_FD_BY_ID[kind]) from None
                self.left[(kind.value, f"not opened ({errno.errorcode.get(exc.errno or 0)})")] += 1
                continue
            try:
                out.append(read(fd))
            except OSError as exc:
                self.left[(kind.value, f"info failed ({errno.errorcode.get(exc.errno or 0)})")] += 1
            except LoadedBpfError:
                self.left[(kind.value, "malformed info")] += 1
            finally:
                self.calls.close(fd)
        return out

    def _fdinfo(self, fd: int) -> tuple[int | None, bool | None]:
        try:
            info = parse_fdinfo(self.calls.fdinfo(fd))
        except OSError:
            return None, None
        return (info.memlock, info.frozen) if info is not None else (None, None)

    def program(self, fd: int) -> Program:
        data, _ = self.calls.info(fd, bytes(abi.PROG_INFO.size), {})
        prog = decode_prog_info(data)
        map_ids: tuple[int, ...] = ()
        func_names: tuple[str, ...] = ()
        if prog.nr_map_ids or prog.nr_func_info:
            maps_at = abi.PROG_INFO.offset("map_ids")
            funcs_at = abi.PROG_INFO.offset("func_info")
            request = abi.PROG_INFO.pack(
                {
                    "nr_map_ids": prog.nr_map_ids,
                    "nr_func_info": prog.nr_func_info,
                    "func_info_rec_size": abi.FUNC_INFO_REC_SIZE if prog.nr_func_info else 0,
                }
            )
            buffers = {maps_at: 4 * prog.nr_map_ids, funcs_at: 8 * prog.nr_func_info}
            again, filled = self.calls.info(
                fd, bytes(request), {k: v for k, v in buffers.items() if v}
            )
            counts = abi.PROG_INFO.unpack(again)
            map_ids = decode_u32s(
                filled.get(maps_at, b""), min(prog.nr_map_ids, counts["nr_map_ids"])
            )
            records = decode_func_info(
                filled.get(funcs_at, b""),
                min(prog.nr_func_info, counts["nr_func_info"]),
                abi.FUNC_INFO_REC_SIZE,
            )
            func_names = self._func_names(prog.btf_id, (type_id for _, type_id in records))
        memlock, _ = self._fdinfo(fd)
        return attrs.evolve(
            prog,
            loaded_at=self.boot_offset + prog.load_time_ns / 1e9,
            map_ids=map_ids,
            func_names=func_names,
            memlock=memlock,
            attach_func=self.type_name(prog.attach_btf_obj_id, prog.attach_btf_id),
            owners=self.owners.of(Kind.PROGRAMS, prog.id),
            pins=self.pins.of(Kind.PROGRAMS, prog.id),
        )

    def map(self, fd: int) -> Map:
        data, _ = self.calls.info(fd, bytes(abi.MAP_INFO.size), {})
        memlock, frozen = self._fdinfo(fd)
        m = decode_map_info(data)
        return attrs.evolve(
            m,
            memlock=memlock,
            frozen=frozen,
            owners=self.owners.of(Kind.MAPS, m.id),
            pins=self.pins.of(Kind.MAPS, m.id),
        )

    def link(self, fd: int) -> Link:
        data, _ = self.calls.info(fd, bytes(abi.LINK_INFO.size), {})
        link = decode_link_info(data)
        fields = abi.LINK_NAME_FIELDS.get(link.type_code)
        if fields is not None:
            link = self._named_link(fd, link, *fields, data)
        target = link.target
        if target.btf_type_id:
            name = self.type_name(target.btf_obj_id or 0, target.btf_type_id)
            target = attrs.evolve(target, name=name) if name else target
        return attrs.evolve(
            link,
            target=target,
            owners=self.owners.of(Kind.LINKS, link.id),
            pins=self.pins.of(Kind.LINKS, link.id),
        )

    def _named_link(self, fd: int, link: Link, pointer: str, length: str, data: bytes) -> Link:
        layout = abi.LINK_UNIONS[link.type_code]
        reported = layout.unpack(data)[length]
        # Raw tracepoint and iterator links report their name's length; the others do not.
        exact = link.type_code in (abi.LINK_RAW_TRACEPOINT, abi.LINK_ITER)
        size = min(max(reported, 1), NAME_BUFFER) if exact else NAME_BUFFER
        at = layout.offset(pointer)
        try:
            again, filled = self.calls.info(fd, bytes(layout.pack({length: size})), {at: size})
            return decode_link_info(again, filled.get(at, b""))
        except (OSError, LoadedBpfError):
            return link

    def btf(self, fd: int) -> BtfObject:
        at = abi.BTF_INFO.offset("name")
        request = abi.BTF_INFO.pack({"name_len": BTF_NAME_BUFFER})
        data, filled = self.calls.info(fd, bytes(request), {at: BTF_NAME_BUFFER})
        obj = decode_btf_info(data, filled.get(at, b""))
        if obj.kernel:
            self.kernel_btf[obj.id] = obj.name
        return obj

    def _fetch_btf(self, ident: int) -> Btf | None:
        """The BTF object `ident` parsed (a module's on top of vmlinux), None when it
        cannot be read or parsed. Each object is fetched once per scan."""
        if ident in self.fetched:
            return self.fetched[ident]
        btf: Btf | None = None
        kernel_name = self.kernel_btf.get(ident)
        if kernel_name == "vmlinux":
            btf = self.vmlinux
        elif kernel_name is None or self.vmlinux is not None:
            btf = self._read_btf(ident, kernel_name)
        self.fetched[ident] = btf
        return btf

    def _read_btf(self, ident: int, kernel_name: str | None) -> Btf | None:
        try:
            fd = self.calls.fd_by_id(Kind.BTF, ident)
        except OSError:
            return None
        try:
            data, _ = self.calls.info(fd, bytes(abi.BTF_INFO.size), {})
            size = abi.BTF_INFO.unpack(data)["btf_size"]
            request = abi.BTF_INFO.pack({"btf_size": size})
            _, filled = self.calls.info(fd, bytes(request), {abi.BTF_INFO.offset("btf"): size})
            blob = filled.get(abi.BTF_INFO.offset("btf"), b"")
            base = self.vmlinux if kernel_name is not None else None
            return parse_btf(blob, base=base, object_name=kernel_name or f"BTF object {ident}")
        except (OSError, BtfError):
            return None
        finally:
            self.calls.close(fd)

    def type_name(self, obj_id: int, type_id: int) -> str | None:
        """The name of BTF type `type_id` of object `obj_id`, None when 0 or unknown."""
        if not type_id:
            return None
        btf = self._fetch_btf(obj_id) if obj_id else self.vmlinux
        if btf is None:
            # Kernel BTF (vmlinux, modules) is left for whoever holds it parsed.
            if obj_id and obj_id not in self.kernel_btf:
                self.unresolved += 1
            return None
        try:
            return btf.name(type_id) or None
        except BtfError:
            return None

    def _func_names(self, btf_id: int, type_ids: Iterable[int]) -> tuple[str, ...]:
        btf = self._fetch_btf(btf_id) if btf_id else None
        if btf is None:
            return ()
        names = []
        for type_id in type_ids:
            try:
                if btf.kind(type_id) is BtfKind.FUNC:
                    names.append(btf.name(type_id))
            except BtfError:
                continue
        return tuple(names)


def _stats_enabled(proc: Path) -> bool | None:
    try:
        with open(proc / "sys" / "kernel" / "bpf_stats_enabled", encoding="ascii") as f:
            return f.read().strip() not in ("", "0")
    except (OSError, UnicodeDecodeError):
        return None


def snapshot(
    calls: BpfCalls | None = None,
    *,
    proc: Path = Path("/proc"),
    sys_root: Path = Path("/sys"),
    vmlinux: Btf | None = None,
) -> LoadedBpf:
    """Every program, map, link and BTF object loaded in the kernel, with owners, pins,
    cgroup paths and device names filled in.

    `vmlinux` (and modules' BTF on it) names the kernel functions that tracing programs
    and links attach to; without it those names stay None for the caller to resolve.
    Raises BpfUnavailable when the kernel refuses to list objects (missing capabilities,
    no bpf()); per-object failures leave that object out and are counted in `left_out`.
    Blocking: run it in a worker thread.
    """
    calls = calls if calls is not None else LibcBpf()
    captured_at = time.time()
    boot_offset = captured_at - time.clock_gettime(time.CLOCK_BOOTTIME)
    # Owners and pins first: no descriptor of ours is open while /proc is read.
    bpffs = mounts_of(proc, "bpf")
    owners = find_owners(proc)
    pins = find_pins(calls, bpffs)
    scan = _Scan(calls, vmlinux, owners, pins, boot_offset)
    btfs = scan.each(Kind.BTF, scan.btf)
    programs = scan.each(Kind.PROGRAMS, scan.program)
    maps = scan.each(Kind.MAPS, scan.map)
    links = _resolve_targets(scan.each(Kind.LINKS, scan.link), proc, sys_root)

    notes: list[str] = []
    if not bpffs:
        notes.append("no bpffs is mounted, so no pinned paths are known")
    elif pins.unreadable:
        n = pins.unreadable
        notes.append(f"{n} {'entry' if n == 1 else 'entries'} under bpffs could not be opened")
    if scan.unresolved:
        notes.append(
            f"{scan.unresolved} attach points name types in BTF objects that could not be"
            " read, so their names are missing"
        )
    progs_by_btf: defaultdict[int, list[int]] = defaultdict(list)
    maps_by_btf: defaultdict[int, list[int]] = defaultdict(list)
    for p in programs:
        progs_by_btf[p.btf_id].append(p.id)
    for m in maps:
        maps_by_btf[m.btf_id].append(m.id)
    return LoadedBpf(
        programs=tuple(programs),
        maps=tuple(maps),
        links=tuple(links),
        btf=tuple(
            attrs.evolve(
                b,
                prog_ids=tuple(progs_by_btf.get(b.id, ())),
                map_ids=tuple(maps_by_btf.get(b.id, ())),
                owners=owners.of(Kind.BTF, b.id),
            )
            for b in btfs
        ),
        left_out=tuple(LeftOut(kind, reason, n) for (kind, reason), n in sorted(scan.left.items()))
        + owners.left_out,
        stats_enabled=_stats_enabled(proc),
        captured_at=captured_at,
        notes=tuple(notes),
    )


def _resolve_targets(links: list[Link], proc: Path, sys_root: Path) -> list[Link]:
    """Links with cgroup paths and device names filled in where they can be found."""
    cgroup_ids = {lk.target.cgroup_id for lk in links if lk.target.cgroup_id}
    paths: dict[int, str] = {}
    if cgroup_ids:
        for mount in mounts_of(proc, "cgroup2")[:1]:
            paths = cgroup_paths(mount, {i for i in cgroup_ids if i is not None})
    devices = interface_names(sys_root) if any(lk.target.ifindex for lk in links) else {}
    out = []
    for lk in links:
        t = lk.target
        if t.kind == "cgroup" and t.cgroup_id in paths:
            lk = attrs.evolve(lk, target=attrs.evolve(t, name=paths[t.cgroup_id]))
        elif t.kind == "iterator" and t.cgroup_id in paths:
            lk = attrs.evolve(
                lk, target=attrs.evolve(t, detail=f"{t.detail} cgroup {paths[t.cgroup_id]}".strip())
            )
        elif t.ifindex and t.ifindex in devices:
            lk = attrs.evolve(lk, target=attrs.evolve(t, name=devices[t.ifindex]))
        out.append(lk)
    return out
