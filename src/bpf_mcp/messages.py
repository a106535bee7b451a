"""Messages that cross channels between actors: a closed union of frozen values."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

import attrs
import trio

from .btf import Btf
from .index import Indexes, SourceIndex
from .kallsyms import SymbolTable
from .loaded import LoadedBpf
from .queries import Query
from .reference import ReferenceData
from .sources import Source
from .status import SourceStatus
from .system import SystemFacts
from .tracefs import TracefsChunk

R = TypeVar("R", covariant=True)

ChunkPayload = TracefsChunk | SymbolTable | Btf | ReferenceData | SystemFacts | LoadedBpf
"""What a reader sends for its source: tracefs events, a kallsyms table, BTF objects, the
reference data, the system facts, or one scan of the loaded BPF objects."""


@attrs.frozen
class Chunk:
    """A piece of a source's data, tagged with the load generation it belongs to."""

    source: Source
    generation: int
    payload: ChunkPayload


@attrs.frozen
class Complete:
    """The reader finished a load: the router may swap in the index built from its chunks."""

    source: Source
    generation: int
    origin: str
    summary: str


@attrs.frozen
class IndexBuilt:
    """The router's own note that the index of a completed load is built."""

    source: Source
    complete: Complete
    index: SourceIndex


@attrs.frozen
class StatusChanged:
    """The supervisor's view of a source changed (loading, failed)."""

    status: SourceStatus


@attrs.frozen
class Reply(Generic[R]):
    """The router's one answer to a request: a result, or the exception to raise.

    `error` is a project error (BpfMcpError) for what the caller can fix, or, for a bug,
    the unexpected exception itself with its traceback: the boundary that receives it logs
    it once and tells its client only that an internal error happened.
    """

    result: R | None = None
    error: Exception | None = None


@attrs.frozen
class Request(Generic[R]):
    """A query from a transport; the router answers exactly once on `reply`."""

    query: Query[R]
    reply: trio.MemorySendChannel[Reply[R]] = attrs.field(eq=False)


@attrs.frozen
class CurrentIndexes(Query[Indexes]):
    """The router's ready indexes themselves (frozen values, safe to share), for answers
    that read more than one kernel: comparisons."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.BTF})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.KALLSYMS, Source.TRACEFS})
    uncached: ClassVar[bool] = True


ReaderMessage = Chunk | Complete
RouterMessage = Chunk | Complete | IndexBuilt | StatusChanged | Request[object]
