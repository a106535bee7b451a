"""The BTF reader: /sys/kernel/btf/vmlinux, parsed once per change."""

from __future__ import annotations

import os
from pathlib import Path

from ..btf import BtfError, parse_btf
from ..config import Config
from ..errors import SourceError
from ..sources import BTF_DIR, BTF_VMLINUX, Source
from .base import Emit, Loaded, corrupt, failure_from_os_error, in_thread, read_bytes

MISSING_FIX = (
    "use a kernel built with CONFIG_DEBUG_INFO_BTF=y, and make sure sysfs is mounted"
    " (mount -t sysfs sysfs /sys)"
)
ROOT_FIX = "make /sys/kernel/btf/vmlinux readable (it is mode 0444 on stock kernels) or run as root"


def _read(path: Path) -> bytes:
    try:
        return read_bytes(path)
    except OSError as exc:
        raise SourceError(
            failure_from_os_error(
                Source.BTF, path, exc, fix_missing=MISSING_FIX, fix_permission=ROOT_FIX
            )
        ) from None


def _signature(config: Config) -> tuple[object, ...]:
    path = config.path(BTF_VMLINUX)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise SourceError(
            failure_from_os_error(
                Source.BTF, path, exc, fix_missing=MISSING_FIX, fix_permission=ROOT_FIX
            )
        ) from None
    return st.st_size, st.st_mtime_ns, st.st_ino


class BtfReader:
    """Reads the vmlinux BTF blob and emits the parsed, lazily indexed Btf."""

    source = Source.BTF

    async def signature(self, config: Config) -> tuple[object, ...]:
        return await in_thread(_signature, config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        path = config.path(BTF_VMLINUX)
        data = await in_thread(_read, path)
        try:
            btf = await in_thread(parse_btf, data, object_name="vmlinux")
        except BtfError as exc:
            raise corrupt(Source.BTF, path, f"the BTF blob is malformed: {exc}") from None
        await emit(btf)
        return Loaded(str(path), f"{len(btf)} types, {len(data)} bytes")


__all__ = ["BTF_DIR", "BtfReader"]
