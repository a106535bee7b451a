"""bpf-mcp: what the running Linux kernel offers for BPF and tracing, over MCP.

The public API for embedding in a trio program:

    async with open_bpf_mcp(Config()) as handle:
        result = await handle.query(queries.ListTracepoints(category="sched"))
        await serve_stdio(handle)

or, for Streamable HTTP, `address = await nursery.start(partial(serve_http, handle, port=0))`.
Queries live in `bpf_mcp.queries`, their results in `bpf_mcp.results`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import queries, results
from .api import BpfMcp, open_bpf_mcp
from .config import Backoff, Config
from .errors import (
    BpfMcpError,
    InvalidArgument,
    NotFound,
    ServerClosed,
    SourceLoadTimeout,
    SourceUnavailable,
)

if TYPE_CHECKING:
    from .transports.http import HttpAddress, serve_http
    from .transports.stdio import serve_stdio

__all__ = [
    "Backoff",
    "BpfMcp",
    "BpfMcpError",
    "Config",
    "HttpAddress",
    "InvalidArgument",
    "NotFound",
    "ServerClosed",
    "SourceLoadTimeout",
    "SourceUnavailable",
    "open_bpf_mcp",
    "queries",
    "results",
    "serve_http",
    "serve_stdio",
]


def __getattr__(name: str) -> Any:
    # Transports import the mcp SDK (slow); load them only when asked for.
    if name == "serve_stdio":
        from .transports.stdio import serve_stdio

        return serve_stdio
    if name in ("serve_http", "HttpAddress"):
        from .transports import http

        return getattr(http, name)
    raise AttributeError(f"module 'bpf_mcp' has no attribute {name!r}")
