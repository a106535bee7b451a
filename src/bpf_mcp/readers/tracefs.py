"""The tracefs reader: `available_events` and each event's format file.

An event whose format file cannot be used (gone, not a regular file, too large, not in the
kernel's shape) is left out alone, with its reason: it is counted and named in the load's
summary, and a question about it gets that reason. Only a failure of tracefs as a whole
(not mounted, permission denied, available_events unreadable) fails the source.
"""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

from ..config import Config
from ..errors import SourceError, SourceFailure
from ..sources import TRACEFS_MOUNTS, Source
from ..tracefs import (
    BrokenEvent,
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
NAMED_BROKEN = 5
"""How many unusable events the summary names (it counts them all)."""

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
) -> tuple[list[TracepointRecord], list[BrokenEvent]]:
    """Read and parse the format files of `events`: the records, and the events whose
    format could not be used with why. Raises SourceError only for tracefs as a whole
    (unmounted meanwhile, permission denied)."""
    records: list[TracepointRecord] = []
    broken: list[BrokenEvent] = []
    mount_checked = False
    try:
        directory = Directory(sysroot, root / "events")
    except OSError as exc:
        _still_mounted(sysroot, root)
        raise _unreadable(root / "events", exc) from None
    with directory:
        for category, event in events:
            found = _read_event(directory, category, event)
            if isinstance(found, TracepointRecord):
                records.append(found)
                continue
            if found == MISSING and not mount_checked:
                _still_mounted(sysroot, root)  # one vanished event: is tracefs gone?
                mount_checked = True
            broken.append(BrokenEvent(f"{category}:{event}", found))
    return records, broken


MISSING = "the file does not exist"


def _read_event(directory: Directory, category: str, event: str) -> TracepointRecord | str:
    """The event's record, or why its format file cannot be used. Raises SourceError
    when permission is denied (that is all of tracefs, not one event)."""
    path = directory.path.joinpath(category, event, "format")
    try:
        raw = read_bytes(path, FORMAT_BYTES, root=directory)
    except FileNotFoundError:
        return MISSING
    except OSError as exc:
        failure = failure_from_os_error(
            Source.TRACEFS, path, exc, fix_missing=MOUNT_FIX, fix_permission=ROOT_FIX
        )
        if failure.cause == "permission":
            raise SourceError(failure) from None
        return failure.detail
    text = raw.decode("utf-8", errors="replace")
    try:
        return TracepointRecord(category, event, parse_format(text), text)
    except FormatError as exc:
        return f"it cannot be parsed: {exc}"


def summary(total: int, broken: list[BrokenEvent]) -> str:
    """The load's summary: the events read, and the unusable ones counted and named."""
    text = f"{total} events"
    if broken:
        named = "; ".join(f"{b.name} ({b.reason})" for b in broken[:NAMED_BROKEN])
        more = f"; and {len(broken) - NAMED_BROKEN} more" if len(broken) > NAMED_BROKEN else ""
        text += (
            f"; {len(broken)} listed event{'s' if len(broken) != 1 else ''} left out because"
            f" the format file cannot be used: {named}{more}"
        )
    return text


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
        broken: list[BrokenEvent] = []
        for start in range(0, len(events), BATCH):
            records, bad = await in_thread(
                read_batch, config.sysroot, root, events[start : start + BATCH]
            )
            total += len(records)
            broken += bad
            await emit(TracefsChunk(str(root), tuple(records), tuple(bad)))
        return Loaded(str(root), summary(total, broken))
