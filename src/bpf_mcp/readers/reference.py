"""The reference reader: the BPF reference data shipped inside the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..config import Config
from ..errors import SourceError
from ..reference import ReferenceError, parse_reference
from ..sources import Source
from .base import Emit, Loaded, corrupt, failure_from_os_error, in_thread, read_bytes
from .sysroot import WHOLE_SYSTEM

REINSTALL_FIX = "reinstall bpf-mcp (pip install --force-reinstall bpf-mcp)"


def default_path() -> Path:
    """Where the shipped reference data lives."""
    return Path(str(resources.files("bpf_mcp.reference").joinpath("data.json")))


class ReferenceReader:
    """Reads and validates the shipped reference data (or a file given for tests)."""

    source = Source.REFERENCE

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    async def signature(self, config: Config) -> tuple[int, int]:
        return await in_thread(self._signature)

    def _signature(self) -> tuple[int, int]:
        try:
            st = self.path.stat()
        except OSError as exc:
            raise self._unreadable(exc) from None
        return st.st_size, st.st_mtime_ns

    def _unreadable(self, exc: OSError) -> SourceError:
        return SourceError(
            failure_from_os_error(
                self.source,
                self.path,
                exc,
                fix_missing=REINSTALL_FIX,
                fix_permission=f"make {self.path} readable, or {REINSTALL_FIX}",
                fix_other=REINSTALL_FIX,
            )
        )

    async def load(self, config: Config, emit: Emit) -> Loaded:
        try:
            # The package's own file: not under the sysroot.
            raw = await in_thread(read_bytes, self.path, root=WHOLE_SYSTEM)
        except OSError as exc:
            raise self._unreadable(exc) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise corrupt(self.source, self.path, str(exc), REINSTALL_FIX) from None
        try:
            data = parse_reference(text)
        except ReferenceError as exc:
            raise corrupt(self.source, self.path, str(exc), REINSTALL_FIX) from None
        await emit(data)
        return Loaded(
            str(self.path), f"{len(data.prog_types)} program and {len(data.map_types)} map types"
        )
