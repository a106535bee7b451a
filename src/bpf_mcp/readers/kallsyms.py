"""The kallsyms reader: /proc/kallsyms, read and parsed whole."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..config import Config
from ..errors import SourceError
from ..kallsyms import KallsymsError, SymbolTable, parse_kallsyms
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

MISSING_FIX = "mount procfs (mount -t proc proc /proc); in a container, bind-mount the host's /proc"
ROOT_FIX = "run bpf-mcp as root"


def _read(root: Path, path: Path) -> bytes:
    try:
        return read_bytes(path, root=root)
    except OSError as exc:
        raise SourceError(
            failure_from_os_error(
                Source.KALLSYMS, path, exc, fix_missing=MISSING_FIX, fix_permission=ROOT_FIX
            )
        ) from None


def _optional(root: Path, path: Path) -> bytes:
    try:
        return read_bytes(path, root=root)
    except OSError:
        return b""


def _load(root: Path, path: Path) -> SymbolTable:
    """Read and parse the whole file: one worker thread's job of about a tenth of a second
    (most of it the kernel formatting the file), so the table is never split and joined."""
    text = _read(root, path).decode("utf-8", errors="replace")
    if not text or text.isspace():
        raise corrupt(Source.KALLSYMS, path, "the file is empty")
    try:
        return parse_kallsyms(text)
    except KallsymsError as exc:
        raise corrupt(Source.KALLSYMS, path, str(exc)) from None


class KallsymsReader:
    """Reads /proc/kallsyms; its content changes only with the boot or loaded modules."""

    source = Source.KALLSYMS

    async def signature(self, config: Config) -> tuple[bytes, str]:
        return await in_thread(_signature, config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        path = config.path(KALLSYMS_PATH)
        table = await in_thread(_load, config.sysroot, path)
        await emit(table)
        return Loaded(str(path), f"{len(table)} symbols")


def _signature(config: Config) -> tuple[bytes, str]:
    root = config.sysroot
    _read_head(root, config.path(KALLSYMS_PATH))
    modules = hashlib.blake2b(_optional(root, config.path(MODULES_PATH))).hexdigest()
    return _optional(root, config.path(BOOT_ID_PATH)), modules


def _read_head(root: Path, path: Path) -> None:
    try:
        with open(open_regular(path, root=root), "rb") as f:
            f.read(1)
    except OSError as exc:
        raise SourceError(
            failure_from_os_error(
                Source.KALLSYMS, path, exc, fix_missing=MISSING_FIX, fix_permission=ROOT_FIX
            )
        ) from None
