"""Messages that cross channels between actors: a closed union of frozen values."""

from __future__ import annotations

from typing import Any

import attrs
import trio

from .errors import BpfMcpError
from .sources import Source
from .status import SourceStatus


@attrs.frozen
class Chunk:
    """A piece of a source's data, tagged with the load generation it belongs to."""

    source: Source
    generation: int
    payload: Any


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
    index: Any


@attrs.frozen
class StatusChanged:
    """The supervisor's view of a source changed (loading, failed)."""

    status: SourceStatus


@attrs.frozen
class Reply:
    """The router's one answer to a request: a result, or the error to raise."""

    result: Any = None
    error: BpfMcpError | None = None


@attrs.frozen
class Request:
    """A query from a transport; the router answers exactly once on `reply`."""

    query: Any
    reply: trio.MemorySendChannel[Reply] = attrs.field(eq=False)


ReaderMessage = Chunk | Complete
RouterMessage = Chunk | Complete | IndexBuilt | StatusChanged | Request
