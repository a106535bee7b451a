"""Errors a caller of bpf-mcp can meet, each carrying a sentence a person can act on."""

from __future__ import annotations

import attrs


class BpfMcpError(Exception):
    """Base of every error bpf-mcp raises on purpose; `str(err)` is the sentence to show."""


class InvalidArgument(BpfMcpError):
    """A tool was called with arguments it cannot accept."""


class NotFound(BpfMcpError):
    """A named object (type, tracepoint, function) does not exist on this kernel."""


class ServerClosed(BpfMcpError):
    """The router is gone, so no query can be answered (the server is shutting down)."""


class SourceLoadTimeout(BpfMcpError):
    """A source a query needs was still loading when the query's wait ran out."""


@attrs.frozen
class SourceFailure:
    """Why a kernel source could not be read: data, so it can cross channels and be shown.

    `cause` is one of: "missing", "not-mounted", "permission", "corrupt", "timeout", "io",
    "outside-sysroot", "internal". `fix` is what a person can do about it ("" when nothing
    can be done). `transient` marks a failure that says nothing about the data (the
    process ran out of descriptors or memory, a read hung): a source that has loaded
    keeps serving its last data through it.
    """

    source: str
    path: str
    cause: str
    detail: str
    fix: str = ""
    transient: bool = False

    def sentence(self) -> str:
        """One sentence naming the source, the path, the cause and the fix."""
        text = f"The {self.source} source could not be read from {self.path}: {self.detail}"
        if not text.endswith("."):
            text += "."
        if self.fix:
            text += f" To fix: {self.fix}"
            if not text.endswith("."):
                text += "."
        return text


class SourceError(BpfMcpError):
    """Raised by readers (and answered to tools) when a source fails; wraps a SourceFailure."""

    def __init__(self, failure: SourceFailure) -> None:
        super().__init__(failure.sentence())
        self.failure = failure


class SourceUnavailable(BpfMcpError):
    """A tool needs a source that is failed (not merely loading)."""


class SnapshotError(BpfMcpError):
    """A kernel snapshot was refused; nothing of it is used. The subclasses say why."""


class NotASnapshot(SnapshotError):
    """The file is not a bpf-mcp snapshot (not an xz or gzip tar whose first member is
    bpf-mcp's manifest)."""


class SnapshotDamaged(SnapshotError):
    """A snapshot whose content does not match its manifest: a wrong checksum or size, a
    truncated archive, a listed file missing, or a manifest that cannot be read."""


class SnapshotUnsafe(SnapshotError):
    """A snapshot that tries to leave its directory (absolute or `..` paths, links, special
    files) or exceeds the size bounds; refused before anything is written outside."""


class SnapshotWrongArch(SnapshotError):
    """A snapshot of another architecture than the one its loader expects."""
