"""The loaded-BPF reader: every program, map, link and BTF object in the running kernel,
listed read-only through bpf() (see `scan`), re-scanned when the set of ids changes.

bpf() always asks the kernel this process runs on, so the reader lists objects only
when the sysroot's /proc is a live procfs (`/`, or a host's /proc mounted into a
container): there /proc and /sys under the sysroot name the owners, pins, cgroups and
devices. Under a captured tree (fixtures) it serves an empty list that says why.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ...config import Config
from ...errors import SourceError, SourceFailure
from ...loaded import BpfUnavailable, Kind, LoadedBpf
from ...sources import Source
from ..base import Emit, Loaded, in_thread, read_bytes
from ..sysroot import WHOLE_SYSTEM
from .scan import list_ids, snapshot
from .syscall import BpfCalls, LibcBpf

__all__ = ["LoadedReader"]

STATS_PATH = "proc/sys/kernel/bpf_stats_enabled"
CAPTURED_NOTE = (
    "the sysroot is a captured tree, not a live /proc: loaded BPF objects can only be"
    " listed on a running kernel, so none are shown (run bpf-mcp without --sysroot, or"
    " with the host's / mounted into a container as the sysroot)"
)


def is_live(sysroot: Path, mounts: Path = Path("/proc/self/mounts")) -> bool:
    """True when `sysroot`'s proc is a mounted procfs (the running system's, or a host's
    mounted into a container), not files captured from one. A proc that is a link leading
    out of the sysroot (to this machine's /proc, say) is not: nothing is read outside it."""
    proc = os.path.realpath(sysroot / "proc")
    if sysroot == WHOLE_SYSTEM:
        return proc == "/proc" or _mounted_procfs(proc, mounts)
    inside = os.path.realpath(sysroot).rstrip("/") + "/"
    return proc.startswith(inside) and _mounted_procfs(proc, mounts)


def _mounted_procfs(proc: str, mounts: Path) -> bool:
    try:
        text = mounts.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(
        len(fields) >= 3 and fields[1] == proc and fields[2] == "proc"
        for fields in map(str.split, text.splitlines())
    )


def _stats_text(config: Config) -> bytes:
    try:
        return read_bytes(config.path(STATS_PATH), root=config.sysroot)
    except OSError:
        return b""


def _failure(exc: BpfUnavailable) -> SourceError:
    return SourceError(
        SourceFailure(Source.LOADED.value, "bpf() system call", exc.cause, exc.detail, exc.fix)
    )


class LoadedReader:
    """Reads the kernel's loaded BPF objects. `calls` replaces the bpf() system call (a
    fake kernel in tests); `live` overrides the check that the sysroot is a live system."""

    source = Source.LOADED

    def __init__(self, calls: BpfCalls | None = None, *, live: bool | None = None) -> None:
        self._calls = calls
        self._live = live

    def _is_live(self, config: Config) -> bool:
        return self._live if self._live is not None else is_live(config.sysroot)

    def _calls_or_libc(self) -> BpfCalls:
        return self._calls if self._calls is not None else LibcBpf()

    async def signature(self, config: Config) -> tuple[object, ...]:
        """The ids of every kind (and the stats switch): a new or freed object, or stats
        turned on or off, starts a new scan."""
        return await in_thread(self._signature, config)

    def _signature(self, config: Config) -> tuple[object, ...]:
        stats = _stats_text(config)
        if not self._is_live(config):
            return ("captured", str(config.sysroot), stats)
        calls = self._calls_or_libc()
        try:
            return (stats, *(tuple(list_ids(calls, kind)) for kind in Kind))
        except BpfUnavailable as exc:
            raise _failure(exc) from None

    async def load(self, config: Config, emit: Emit) -> Loaded:
        snap = await in_thread(self._scan, config)
        await emit(snap)
        counts = ", ".join(f"{len(snap.of(kind))} {kind.value}" for kind in Kind)
        if not self._is_live(config):
            return Loaded(str(config.sysroot), "a captured tree: nothing listed")
        stats = "on" if snap.stats_enabled else "off"
        return Loaded("bpf() on the running kernel", f"{counts}; run-time stats {stats}")

    def _scan(self, config: Config) -> LoadedBpf:
        if not self._is_live(config):
            return LoadedBpf((), (), (), (), (), None, time.time(), notes=(CAPTURED_NOTE,))
        try:
            return snapshot(
                self._calls_or_libc(),
                proc=config.path("proc"),
                sys_root=config.path("sys"),
            )
        except BpfUnavailable as exc:
            raise _failure(exc) from None
