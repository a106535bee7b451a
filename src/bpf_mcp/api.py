"""The embedding API: start bpf-mcp inside a caller's trio program and query it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar, cast

import trio

from .config import Config
from .errors import ServerClosed, SourceLoadTimeout
from .messages import Reply, Request, RouterMessage
from .queries import GetServerStatus, Query
from .readers.base import Reader
from .readers.btf import BtfReader
from .readers.kallsyms import KallsymsReader
from .readers.loaded import LoadedReader
from .readers.pool import serve_reader_pool
from .readers.reference import ReferenceReader
from .readers.system import SystemReader
from .readers.tracefs import TracefsReader
from .results import ServerStatus
from .router.actor import serve_router

INBOX_SIZE = 64

R = TypeVar("R")


def default_readers() -> list[Reader]:
    """One reader per kernel source."""
    return [
        TracefsReader(),
        KallsymsReader(),
        BtfReader(),
        ReferenceReader(),
        SystemReader(),
        LoadedReader(),
    ]


class BpfMcp:
    """A handle on a running bpf-mcp: send it queries, ask it for source status.

    Obtained from `open_bpf_mcp`; valid only inside that context. Safe to use from many
    tasks at once; at most `config.max_in_flight` queries are in flight together, the rest
    wait their turn.
    """

    def __init__(self, config: Config, inbox: trio.MemorySendChannel[RouterMessage]) -> None:
        self.config = config
        self._inbox = inbox
        self._limiter = trio.CapacityLimiter(config.max_in_flight)

    async def query(self, query: Query[R]) -> R:
        """Answer one query (a value from `bpf_mcp.queries`) with its whole result value.

        Waits up to `config.load_wait` seconds for sources that are still loading. Raises
        the project's errors: InvalidArgument, NotFound, SourceUnavailable (a source failed;
        the message names the fix), SourceLoadTimeout, ServerClosed. A bug in bpf-mcp
        raises the exception it caused, traceback included; nothing is logged here.
        Cancellation is safe: the router's late answer is dropped.
        """
        async with self._limiter:
            reply_send, reply_receive = trio.open_memory_channel[Reply[R]](1)
            with reply_receive:
                try:
                    request: Request[R] = Request(query, reply_send)
                    await self._inbox.send(request)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    raise ServerClosed(
                        "bpf-mcp is shutting down; no query can be answered."
                    ) from None
                with trio.move_on_after(self.config.load_wait):
                    try:
                        reply = await reply_receive.receive()
                    except trio.EndOfChannel:
                        raise ServerClosed(
                            "bpf-mcp stopped before answering (it is shutting down)."
                        ) from None
                    if reply.error is not None:
                        raise reply.error
                    return cast(R, reply.result)
        raise SourceLoadTimeout(
            f"The sources this query needs were still loading after {self.config.load_wait:g} s;"
            " see get_server_status for their state, and try again."
        )

    async def status(self) -> ServerStatus:
        """The state of every source (never waits for loading)."""
        return await self.query(GetServerStatus())


@asynccontextmanager
async def open_bpf_mcp(
    config: Config | None = None, *, readers: Sequence[Reader] | None = None
) -> AsyncIterator[BpfMcp]:
    """Start the router and the supervised readers; yield a handle; stop them on exit.

    Sources load in the background: the handle is usable at once, and queries wait for
    the sources they need. Leaving the context cancels every task it started. Never
    writes to stdout, installs signal handlers or configures logging.
    """
    config = config or Config()
    inbox_send, inbox_receive = trio.open_memory_channel[RouterMessage](INBOX_SIZE)
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_router, config, inbox_receive, inbox_send.clone())
        with inbox_send:
            await nursery.start(
                serve_reader_pool,
                list(readers) if readers is not None else default_readers(),
                config,
                inbox_send.clone(),
            )
            try:
                yield BpfMcp(config, inbox_send)
            finally:
                nursery.cancel_scope.cancel()
