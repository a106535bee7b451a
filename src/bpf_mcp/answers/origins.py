"""Where each source was read, for the `source` field every answer carries."""

from __future__ import annotations

from pathlib import Path

from ..index import View
from ..sources import BTF_VMLINUX, KALLSYMS_PATH, Source

_DEFAULTS = {Source.BTF: BTF_VMLINUX, Source.KALLSYMS: KALLSYMS_PATH}


def origin(view: View, source: Source) -> str:
    """The path `source` was read from: its status's origin, else its usual path."""
    status = view.statuses.get(source)
    if status is not None and status.origin:
        return status.origin
    tracefs = view.indexes.tracefs if source is Source.TRACEFS else None
    if tracefs is not None:
        return str(tracefs.mount)
    relative = _DEFAULTS.get(source)
    return str(Path(view.sysroot) / relative) if relative else view.sysroot


def btf_origin(view: View, what: str) -> str:
    """'BTF <path> (<what>)', naming the types an answer rests on."""
    return f"BTF {origin(view, Source.BTF)} ({what})"
