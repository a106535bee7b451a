"""The tracefs reader: `available_events` and each event's format file."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

from ..config import Config
from ..errors import SourceError, SourceFailure
from ..sources import TRACEFS_MOUNTS, Source
from ..tracefs import (
    FormatError,
    TracefsChunk,
    TracepointRecord,
    parse_available_events,
    parse_format,
)
from .base import (
    Emit,
    Loaded,
    corrupt,
    failure_from_os_error,
    in_thread,
    read_bytes,
    stat_path,
)
from .sysroot import Directory, exists_beneath

BATCH = 256
EVENTS_BYTES = 8 << 20
"""available_events: 2,305 events take 62 kB; a hundred times as many fit."""
FORMAT_BYTES = 256 << 10
"""One event's format file: the largest on 6.18 takes 5.5 kB."""

MOUNT_FIX = (
    "mount it as root: mount -t tracefs nodev /sys/kernel/tracing (in a container,"
    " bind-mount the host's: -v /sys/kernel/tracing:/sys/kernel/tracing:ro)"
)
ROOT_FIX = "run bpf-mcp as root: tracefs is mode 0700 (reading it needs root, or CAP_DAC_OVERRIDE)"


def _unreadable(path: Path, exc: OSError) -> SourceError:
    return SourceError(
        failure_from_os_error(
            Source.TRACEFS, path, exc, fix_missing=MOUNT_FIX, fix_permission=ROOT_FIX
        )
    )


def locate(config: Config) -> Path:
    """The tracefs directory to read (the first mount holding `available_events`).

    Raises SourceError: not mounted (fix: the mount command), permission denied, or a
    link leading outside the sysroot.
    """
    for relative in TRACEFS_MOUNTS:
        root = config.path(relative)
        try:
            stat_path(root / "available_events", root=config.sysroot)
        except FileNotFoundError:
            continue
        except OSError as exc:
            if exc.errno == errno.ENOTDIR:
                continue
            raise _unreadable(root, exc) from None
        return root
    primary = config.path(TRACEFS_MOUNTS[0])
    raise SourceError(
        SourceFailure(
            Source.TRACEFS.value,
            str(primary),
            "not-mounted",
            "tracefs is not mounted there (nor at "
            f"{config.path(TRACEFS_MOUNTS[1])}), so no available_events file exists",
            MOUNT_FIX,
        )
    )


def _read_events(sysroot: Path, root: Path) -> bytes:
    try:
        return read_bytes(root / "available_events", EVENTS_BYTES, root=sysroot)
    except OSError as exc:
        raise _unreadable(root / "available_events", exc) from None


def _signature(config: Config) -> tuple[str, str]:
    root = locate(config)
    return str(root), hashlib.blake2b(_read_events(config.sysroot, root)).hexdigest()


def _still_mounted(sysroot: Path, root: Path) -> None:
    """Raise SourceError (not-mounted) when tracefs went away from `root` during a load:
    its missing format files are then not broken events but the whole source gone."""
    if not exists_beneath(sysroot, root / "available_events"):
        raise SourceError(
            SourceFailure(
                Source.TRACEFS.value,
                str(root),
                "not-mounted",
                "tracefs was unmounted (its available_events file disappeared) while its"
                " event formats were being read",
                MOUNT_FIX,
            )
        )


def read_batch(
    sysroot: Path, root: Path, events: list[tuple[str, str]]
) -> tuple[list[TracepointRecord], int]:
    """Read and parse the format files of `events`; returns records and how many vanished."""
    records = []
    vanished = 0
    try:
        directory = Directory(sysroot, root / "events")
    except OSError as exc:
        _still_mounted(sysroot, root)
        raise _unreadable(root / "events", exc) from None
    with directory:
        for category, event in events:
            path = directory.path.joinpath(category, event, "format")
            try:
                raw = read_bytes(path, FORMAT_BYTES, root=directory)
            except FileNotFoundError:
                if not vanished:
                    _still_mounted(sysroot, root)
                vanished += 1  # removed between available_events and now (a module unloaded)
                continue
            except OSError as exc:
                raise _unreadable(path, exc) from None
            text = raw.decode("utf-8", errors="replace")
            try:
                fmt = parse_format(text)
            except FormatError as exc:
                raise corrupt(
                    Source.TRACEFS, path, f"the format file cannot be parsed: {exc}"
                ) from None
            records.append(TracepointRecord(category, event, fmt, text))
    return records, vanished


class TracefsReader:
    """Reads every event listed in `available_events`, in batches of BATCH."""

    source = Source.TRACEFS

    async def signature(self, config: Config) -> tuple[str, str]:
        return await in_thread(_signature, config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        root = await in_thread(locate, config)
        raw = await in_thread(_read_events, config.sysroot, root)
        try:
            events = list(parse_available_events(raw.decode("utf-8", "replace")))
        except FormatError as exc:
            raise corrupt(Source.TRACEFS, root / "available_events", str(exc)) from None
        total = 0
        vanished = 0
        for start in range(0, len(events), BATCH):
            records, gone = await in_thread(
                read_batch, config.sysroot, root, events[start : start + BATCH]
            )
            total += len(records)
            vanished += gone
            await emit(TracefsChunk(str(root), tuple(records)))
        summary = f"{total} events"
        if vanished:
            summary += f" ({vanished} listed events vanished while reading)"
        return Loaded(str(root), summary)
