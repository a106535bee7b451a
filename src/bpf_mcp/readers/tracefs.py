"""The tracefs reader: `available_events` and each event's format file."""

from __future__ import annotations

import hashlib
import os
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
)

BATCH = 256
MOUNT_FIX = (
    "mount it as root: mount -t tracefs nodev /sys/kernel/tracing (in a container,"
    " bind-mount the host's: -v /sys/kernel/tracing:/sys/kernel/tracing:ro)"
)
ROOT_FIX = "run bpf-mcp as root: tracefs is mode 0700 (reading it needs root, or CAP_DAC_OVERRIDE)"


def locate(config: Config) -> Path:
    """The tracefs directory to read (the first mount holding `available_events`).

    Raises SourceError: not mounted (fix: the mount command), or permission denied.
    """
    for relative in TRACEFS_MOUNTS:
        root = config.path(relative)
        try:
            os.stat(root / "available_events")
        except FileNotFoundError:
            continue
        except PermissionError as exc:
            raise SourceError(
                failure_from_os_error(
                    Source.TRACEFS, root, exc, fix_missing=MOUNT_FIX, fix_permission=ROOT_FIX
                )
            ) from None
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


def _read(root: Path, name: str) -> bytes:
    try:
        return read_bytes(root / name)
    except OSError as exc:
        raise SourceError(
            failure_from_os_error(
                Source.TRACEFS, root / name, exc, fix_missing=MOUNT_FIX, fix_permission=ROOT_FIX
            )
        ) from None


def _signature(config: Config) -> tuple[str, str]:
    root = locate(config)
    return str(root), hashlib.blake2b(_read(root, "available_events")).hexdigest()


def _read_format(path: Path) -> str:
    """The text of one event's format file (blocking); OSError as the read raises it."""
    return read_bytes(path).decode("utf-8", errors="replace")


def _still_mounted(root: Path) -> None:
    """Raise SourceError (not-mounted) when tracefs went away from `root` during a load:
    its missing format files are then not vanished events but the whole source gone."""
    if not os.path.exists(root / "available_events"):
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


def read_batch(root: Path, events: list[tuple[str, str]]) -> tuple[list[TracepointRecord], int]:
    """Read and parse the format files of `events`; returns records and how many vanished."""
    records = []
    vanished = 0
    directory = root / "events"
    for category, event in events:
        path = directory.joinpath(category, event, "format")
        try:
            raw = _read_format(path)
        except FileNotFoundError:
            if not vanished:
                _still_mounted(root)
            vanished += 1  # removed between available_events and now (e.g. a module unloaded)
            continue
        except OSError as exc:
            raise SourceError(
                failure_from_os_error(
                    Source.TRACEFS, path, exc, fix_missing=MOUNT_FIX, fix_permission=ROOT_FIX
                )
            ) from None
        try:
            fmt = parse_format(raw)
        except FormatError as exc:
            raise corrupt(
                Source.TRACEFS, path, f"the format file cannot be parsed: {exc}"
            ) from None
        records.append(TracepointRecord(category, event, fmt, raw))
    return records, vanished


class TracefsReader:
    """Reads every event listed in `available_events`, in batches of BATCH."""

    source = Source.TRACEFS

    async def signature(self, config: Config) -> tuple[str, str]:
        return await in_thread(_signature, config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        root = await in_thread(locate, config)
        text = (await in_thread(_read, root, "available_events")).decode("utf-8", "replace")
        try:
            events = list(parse_available_events(text))
        except FormatError as exc:
            raise corrupt(Source.TRACEFS, root / "available_events", str(exc)) from None
        total = 0
        vanished = 0
        for start in range(0, len(events), BATCH):
            records, gone = await in_thread(read_batch, root, events[start : start + BATCH])
            total += len(records)
            vanished += gone
            await emit(TracefsChunk(str(root), tuple(records)))
        summary = f"{total} events"
        if vanished:
            summary += f" ({vanished} listed events vanished while reading)"
        return Loaded(str(root), summary)
