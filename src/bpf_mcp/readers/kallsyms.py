"""The kallsyms reader: /proc/kallsyms, read and parsed whole."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

from ..config import Config
from ..errors import SourceError
from ..kallsyms import KallsymsError, SymbolTable, parse_kallsyms
from ..sources import KALLSYMS_PATH, Source
from .base import (
    MAX_FILE_BYTES,
    Emit,
    Loaded,
    corrupt,
    failure_from_os_error,
    in_thread,
    open_regular,
    read_bytes,
    too_large,
)

MISSING_FIX = "mount procfs (mount -t proc proc /proc); in a container, bind-mount the host's /proc"
ROOT_FIX = "run bpf-mcp as root"
EMPTY = "the file is empty (a kernel always lists its symbols)"

_PIECE = 1 << 16


def _unreadable(path: Path, exc: OSError) -> SourceError:
    return SourceError(
        failure_from_os_error(
            Source.KALLSYMS, path, exc, fix_missing=MISSING_FIX, fix_permission=ROOT_FIX
        )
    )


def _load(root: Path, path: Path) -> SymbolTable:
    """Read and parse the whole file: one worker thread's job of about a tenth of a second
    (most of it the kernel formatting the file), so the table is never split and joined."""
    try:
        text = read_bytes(path, root=root).decode("utf-8", errors="replace")
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if not text or text.isspace():
        raise corrupt(Source.KALLSYMS, path, EMPTY)
    try:
        return parse_kallsyms(text)
    except KallsymsError as exc:
        raise corrupt(Source.KALLSYMS, path, str(exc)) from None


def _signature(root: Path, path: Path) -> tuple[object, ...]:
    """What identifies the file's content: for a file on disk (a captured tree), its
    identity and size; for procfs, which states no size, the length and CRC-32 of the
    whole text (the kernel formats it for each read: ~40 ms for 122k lines). So a file
    replaced, truncated or grown (a module loaded, a BPF program's `bpf_prog_*` symbols
    added) is seen at the next check. Raises SourceError for an unreadable or empty file.
    """
    try:
        fd = open_regular(path, root=root)
        try:
            st = os.fstat(fd)
            if st.st_size > 0:
                return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns
            size, crc = 0, 0
            while chunk := os.read(fd, _PIECE):
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    raise too_large(MAX_FILE_BYTES)
                crc = zlib.crc32(chunk, crc)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if not size:
        raise corrupt(Source.KALLSYMS, path, EMPTY)
    return size, crc


class KallsymsReader:
    """Reads /proc/kallsyms; reloads whenever its content changes."""

    source = Source.KALLSYMS

    async def signature(self, config: Config) -> tuple[object, ...]:
        return await in_thread(_signature, config.sysroot, config.path(KALLSYMS_PATH))

    async def load(self, config: Config, emit: Emit) -> Loaded:
        path = config.path(KALLSYMS_PATH)
        table = await in_thread(_load, config.sysroot, path)
        await emit(table)
        return Loaded(str(path), f"{len(table)} symbols")
