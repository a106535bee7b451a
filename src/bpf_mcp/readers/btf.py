"""The BTF reader: /sys/kernel/btf/vmlinux and each module's split BTF beside it.

A load emits the parsed vmlinux first, then one parsed module per file in
/sys/kernel/btf/ (split BTF on top of vmlinux), in name order. A module that cannot be
read or parsed is left out and named in the load's summary; only vmlinux is essential.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..btf import Btf, BtfError, parse_btf
from ..config import Config
from ..errors import SourceError
from ..sources import BTF_DIR, BTF_VMLINUX, Source
from .base import Emit, Loaded, corrupt, failure_from_os_error, in_thread, read_bytes, stat_path
from .sysroot import listdir_beneath

MISSING_FIX = (
    "use a kernel built with CONFIG_DEBUG_INFO_BTF=y, and make sure sysfs is mounted"
    " (mount -t sysfs sysfs /sys)"
)
ROOT_FIX = "make /sys/kernel/btf/vmlinux readable (it is mode 0444 on stock kernels) or run as root"
VMLINUX = "vmlinux"


def _unreadable(path: Path, exc: OSError) -> SourceError:
    return SourceError(
        failure_from_os_error(
            Source.BTF, path, exc, fix_missing=MISSING_FIX, fix_permission=ROOT_FIX
        )
    )


def _read(root: Path, path: Path) -> bytes:
    try:
        return read_bytes(path, root=root)
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _module_names(root: Path, directory: Path) -> list[str]:
    """The module BTF files beside vmlinux, sorted; none when the directory is unreadable
    (a kernel without modules has only vmlinux there)."""
    try:
        names = listdir_beneath(root, directory)
    except OSError:
        return []
    return sorted(name for name in names if name != VMLINUX and not name.startswith("."))


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _signature(config: Config) -> tuple[object, ...]:
    """vmlinux's identity (device, inode, size, time), and each module file's: a module
    loaded or unloaded adds or removes its file, and one unloaded and loaded again within
    a refresh interval leaves a new file (a new inode) under the same name."""
    path = config.path(BTF_VMLINUX)
    try:
        st = stat_path(path, root=config.sysroot)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    directory = config.path(BTF_DIR)
    modules = []
    for name in _module_names(config.sysroot, directory):
        try:
            modules.append((name, _identity(stat_path(directory / name, root=config.sysroot))))
        except OSError as exc:
            modules.append((name, (exc.errno or 0,)))
    return _identity(st), tuple(modules)


def _parse_module(root: Path, path: Path, base: Btf) -> Btf | str:
    """The module's split BTF, or why it could not be read."""
    try:
        data = read_bytes(path, root=root)
        return parse_btf(data, base=base, object_name=path.name)
    except OSError as exc:
        return f"{path.name} ({exc.strerror or exc})"
    except BtfError as exc:
        return f"{path.name} ({exc})"


class BtfReader:
    """Reads vmlinux's BTF and the modules' split BTF; emits each parsed, lazily indexed."""

    source = Source.BTF

    async def signature(self, config: Config) -> tuple[object, ...]:
        return await in_thread(_signature, config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        path = config.path(BTF_VMLINUX)
        data = await in_thread(_read, config.sysroot, path)
        try:
            btf = await in_thread(parse_btf, data, object_name=VMLINUX)
        except BtfError as exc:
            raise corrupt(Source.BTF, path, f"the BTF blob is malformed: {exc}") from None
        await emit(btf)
        directory = config.path(BTF_DIR)
        modules = 0
        skipped: list[str] = []
        for name in await in_thread(_module_names, config.sysroot, directory):
            module = await in_thread(_parse_module, config.sysroot, directory / name, btf)
            if isinstance(module, str):
                skipped.append(module)
                continue
            await emit(module)
            modules += 1
        summary = f"{len(btf)} types, {len(data)} bytes"
        if modules:
            summary += f"; {modules} module{'s' if modules != 1 else ''}"
        if skipped:
            summary += f"; module BTF left out: {', '.join(skipped)}"
        return Loaded(str(path), summary)


__all__ = ["BTF_DIR", "BtfReader"]
