"""The kallsyms reader: /proc/kallsyms, parsed in chunks of lines."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..config import Config
from ..errors import SourceError
from ..kallsyms import KallsymsError, parse_kallsyms
from ..sources import BOOT_ID_PATH, KALLSYMS_PATH, MODULES_PATH, Source
from .base import (
    Emit,
    Loaded,
    corrupt,
    failure_from_os_error,
    in_thread,
    open_regular,
    read_bytes,
)

CHUNK_LINES = 16384
MISSING_FIX = "mount procfs (mount -t proc proc /proc); in a container, bind-mount the host's /proc"
ROOT_FIX = "run bpf-mcp as root"


def _read(path: Path) -> bytes:
    try:
        return read_bytes(path)
    except OSError as exc:
        raise SourceError(
            failure_from_os_error(
                Source.KALLSYMS, path, exc, fix_missing=MISSING_FIX, fix_permission=ROOT_FIX
            )
        ) from None


def _optional(path: Path) -> bytes:
    try:
        return read_bytes(path)
    except OSError:
        return b""


def _split(text: str) -> list[tuple[int, str]]:
    lines = text.split("\n")
    return [
        (start + 1, "\n".join(lines[start : start + CHUNK_LINES]))
        for start in range(0, len(lines), CHUNK_LINES)
    ]


class KallsymsReader:
    """Reads /proc/kallsyms; its content changes only with the boot or loaded modules."""

    source = Source.KALLSYMS

    async def signature(self, config: Config) -> tuple[bytes, str]:
        return await in_thread(_signature, config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        path = config.path(KALLSYMS_PATH)
        text = (await in_thread(_read, path)).decode("utf-8", errors="replace")
        if not text.strip():
            raise corrupt(Source.KALLSYMS, path, "the file is empty")
        count = 0
        for first_line, piece in await in_thread(_split, text):
            try:
                table = await in_thread(parse_kallsyms, piece, first_line=first_line)
            except KallsymsError as exc:
                raise corrupt(Source.KALLSYMS, path, str(exc)) from None
            count += len(table)
            await emit(table)
        return Loaded(str(path), f"{count} symbols")


def _signature(config: Config) -> tuple[bytes, str]:
    _read_head(config.path(KALLSYMS_PATH))
    modules = hashlib.blake2b(_optional(config.path(MODULES_PATH))).hexdigest()
    return _optional(config.path(BOOT_ID_PATH)), modules


def _read_head(path: Path) -> None:
    try:
        with open(open_regular(path), "rb") as f:
            f.read(1)
    except OSError as exc:
        raise SourceError(
            failure_from_os_error(
                Source.KALLSYMS, path, exc, fix_missing=MISSING_FIX, fix_permission=ROOT_FIX
            )
        ) from None
