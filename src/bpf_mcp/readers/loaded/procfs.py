"""What the file systems add to a scan: which processes hold each object (/proc/PID/fdinfo),
where objects are pinned (bpffs), cgroup paths by id and network devices by index.

Blocking I/O, tolerant of the churn of a live system: a process that exits mid-scan is
left out and counted, a file that cannot be read is skipped. Every walk is bounded.
"""

from __future__ import annotations

import errno
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from ...loaded import abi
from ...loaded.decode import FdInfo, mount_points, parse_fdinfo
from ...loaded.model import Kind, LeftOut, Owner
from .syscall import BpfCalls

__all__ = [
    "Owners",
    "Pins",
    "cgroup_paths",
    "find_owners",
    "find_pins",
    "interface_names",
    "mounts_of",
    "read_text",
]

MAX_WALK_ENTRIES = 100_000
"""Directory entries one walk of bpffs or cgroupfs looks at before it stops."""

_GONE = (errno.ENOENT, errno.ESRCH)
ObjectKey = tuple[Kind, int]


def read_text(path: Path | str) -> str:
    """The text of a /proc or /sys file, undecodable bytes replaced; raises OSError. Every
    read of procfs goes through here (tests put a process's exit in its way)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def mounts_of(proc: Path, fstype: str) -> tuple[str, ...]:
    """Mount points of `fstype` in proc/self/mounts; () when it cannot be read."""
    try:
        return mount_points(read_text(proc / "self" / "mounts"), fstype)
    except OSError:
        return ()


@attrs.frozen
class Owners:
    """Processes holding descriptors of each object, and processes left out."""

    by_object: dict[ObjectKey, tuple[Owner, ...]]
    left_out: tuple[LeftOut, ...]

    def of(self, kind: Kind, ident: int) -> tuple[Owner, ...]:
        return self.by_object.get((kind, ident), ())


class _Vanished(Exception):
    """The process exited while its descriptors were being read."""


def _is_bpf_link(target: str) -> bool:
    # anon_inode:bpf-prog, bpf-map, bpf_link or bpf-link, btf: the names of the kernel's
    # anonymous inodes for BPF descriptors.
    return target.startswith(("anon_inode:bpf", "anon_inode:btf", "anon_inode:[bpf"))


def _process_objects(pid_dir: str) -> tuple[str, list[FdInfo]]:
    """The comm of a process and the BPF objects its descriptors hold. Raises _Vanished
    when the process is gone, PermissionError when it cannot be inspected."""
    try:
        comm = read_text(pid_dir + "/comm").strip()
        fds = os.listdir(pid_dir + "/fd")
    except OSError as exc:
        if exc.errno in _GONE:
            raise _Vanished from None
        raise
    found = []
    for fd in fds:
        try:
            if not _is_bpf_link(os.readlink(f"{pid_dir}/fd/{fd}")):
                continue
            info = parse_fdinfo(read_text(f"{pid_dir}/fdinfo/{fd}"))
        except OSError as exc:
            if exc.errno not in _GONE:
                continue
            # A descriptor closed mid-scan is normal churn; a whole process gone is not.
            if not os.path.exists(pid_dir + "/comm"):
                raise _Vanished from None
            continue
        if info is not None:
            found.append(info)
    return comm, found


def find_owners(proc: Path) -> Owners:
    """Which processes (by /proc/PID/fdinfo) hold descriptors of which BPF objects.

    Processes that exit during the scan are counted in `left_out` as "vanished", those
    this user may not inspect as "not permitted".
    """
    holders: defaultdict[ObjectKey, dict[int, Owner]] = defaultdict(dict)
    vanished = denied = 0
    try:
        names = os.listdir(proc)
    except OSError:
        return Owners({}, (LeftOut("processes", "proc not readable", 1),))
    for name in names:
        if not name.isdigit():
            continue
        try:
            comm, objects = _process_objects(f"{proc}/{name}")
        except _Vanished:
            vanished += 1
            continue
        except OSError:
            denied += 1
            continue
        pid = int(name)
        for obj in objects:
            holders[(obj.kind, obj.id)][pid] = Owner(pid, comm)
    left = [
        LeftOut("processes", reason, count)
        for reason, count in (("vanished", vanished), ("not permitted", denied))
        if count
    ]
    by_object = {
        key: tuple(sorted(found.values(), key=lambda o: o.pid)) for key, found in holders.items()
    }
    return Owners(by_object, tuple(left))


def _walk_files(roots: Iterable[str], limit: int = MAX_WALK_ENTRIES) -> Iterator[str]:
    """Paths of the non-directories under `roots`, depth first, at most `limit` entries
    looked at; unreadable directories are skipped."""
    stack = list(reversed(list(roots)))
    seen = 0
    while stack and seen < limit:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > limit:
                return
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                stack.append(entry.path)
            else:
                yield entry.path


@attrs.frozen
class Pins:
    """Paths under bpffs where each object is pinned; `unreadable` pins could not be
    opened or named."""

    by_object: dict[ObjectKey, tuple[str, ...]]
    unreadable: int

    def of(self, kind: Kind, ident: int) -> tuple[str, ...]:
        return self.by_object.get((kind, ident), ())


def _open_pin(calls: BpfCalls, path: str) -> int:
    try:
        return calls.obj_get(path, abi.BPF_F_RDONLY)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
    # Links refuse a read-only open; the descriptor is still used only to read its info.
    return calls.obj_get(path, 0)


def find_pins(calls: BpfCalls, bpffs_mounts: Iterable[str]) -> Pins:
    """Every pinned object under the bpffs mount points, by (kind, id)."""
    found: defaultdict[ObjectKey, list[str]] = defaultdict(list)
    unreadable = 0
    for path in _walk_files(bpffs_mounts):
        try:
            fd = _open_pin(calls, path)
        except OSError as exc:
            # ENOENT: not a BPF object (bpffs's own files such as the preloaded
            # maps.debug iterators), or unpinned since the walk saw it.
            unreadable += exc.errno != errno.ENOENT
            continue
        try:
            info = parse_fdinfo(calls.fdinfo(fd))
        except OSError:
            info = None
        finally:
            calls.close(fd)
        if info is None:
            unreadable += 1
        else:
            found[(info.kind, info.id)].append(path)
    return Pins({key: tuple(paths) for key, paths in found.items()}, unreadable)


def cgroup_paths(mount: str, wanted: Iterable[int]) -> dict[int, str]:
    """Paths under the cgroup2 `mount` of the cgroups whose ids (their directories' inode
    numbers) are in `wanted`; ids not found are absent. Stops once all are found."""
    want = set(wanted)
    found: dict[int, str] = {}
    try:
        root_ino = os.stat(mount).st_ino
    except OSError:
        return found
    if root_ino in want:
        found[root_ino] = mount
    stack = [mount]
    seen = 0
    while stack and len(found) < len(want) and seen < MAX_WALK_ENTRIES:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                dirs = [e for e in it if _dir_entry(e)]
        except OSError:
            continue
        seen += len(dirs)
        for entry in dirs:
            if entry.inode() in want:
                found[entry.inode()] = entry.path
            stack.append(entry.path)
    return found


def _dir_entry(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def interface_names(sys_root: Path) -> dict[int, str]:
    """Network device names by ifindex, from sys/class/net/*/ifindex (this network
    namespace's devices)."""
    net = sys_root / "class" / "net"
    names: dict[int, str] = {}
    try:
        devices = os.listdir(net)
    except OSError:
        return names
    for dev in devices:
        try:
            names[int(read_text(net / dev / "ifindex").strip())] = dev
        except (OSError, ValueError):
            continue
    return names
