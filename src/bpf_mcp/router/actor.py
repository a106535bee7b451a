"""The router actor: takes chunks and statuses from the reader pool and queries from
transports, keeps the indexes, and answers each request exactly once."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

import attrs
import trio

from ..config import Config
from ..errors import BpfMcpError, SourceFailure, SourceUnavailable
from ..messages import Chunk, Complete, IndexBuilt, Reply, Request, RouterMessage, StatusChanged
from ..sources import Source
from ..status import SourceStatus
from .answers import View, answer
from .budget import fit_to_budget
from .indexes import build_index

log = logging.getLogger(__name__)


def readiness(query: Any, statuses: dict[Source, SourceStatus]) -> BpfMcpError | bool:
    """True when `query` can be answered now, False when it must wait for a loading
    source, or the error to answer when a source it needs has failed."""
    for source in type(query).needs:
        status = statuses[source]
        if status.failure is not None and status.state != "ready":
            retrying = " bpf-mcp is retrying now." if status.state == "loading" else ""
            return SourceUnavailable(status.failure.sentence() + retrying)
        if status.state == "loading":
            return False
    # A preferred source is waited for only on its first load; after a failure the
    # answer falls back at once.
    return all(
        statuses[s].state != "loading" or statuses[s].failure is not None
        for s in getattr(query, "prefers", ())
    )


@attrs.define
class RouterState:
    """The router's own state; only the router task touches it."""

    config: Config
    statuses: dict[Source, SourceStatus]
    indexes: dict[Source, Any] = attrs.Factory(dict)
    staging: dict[Source, tuple[int, list[Any]]] = attrs.Factory(dict)
    parked: list[Request] = attrs.Factory(list)
    generations: dict[Source, int] = attrs.Factory(dict)
    cache: OrderedDict[Any, Any] = attrs.Factory(OrderedDict)

    def cached(self, query: Any) -> Any:
        """A remembered result of `query` over the current indexes, or None."""
        result = self.cache.get(query)
        if result is not None:
            self.cache.move_to_end(query)
        return result

    def remember(self, query: Any, result: Any) -> None:
        """Keep `result` for repeats of `query` until any source changes (LRU bounded).

        Only queries over sources are remembered: their answers depend on nothing else.
        """
        size = self.config.answer_cache
        if size <= 0 or not type(query).needs or getattr(type(query), "uncached", False):
            return
        self.cache[query] = result
        if len(self.cache) > size:
            self.cache.popitem(last=False)

    def view(self) -> View:
        return View(
            dict(self.indexes),
            dict(self.statuses),
            str(self.config.sysroot),
            self.config.refresh_interval,
        )

    def take_chunk(self, msg: Chunk) -> None:
        generation, chunks = self.staging.get(msg.source, (msg.generation, []))
        if generation != msg.generation:
            chunks = []
        chunks.append(msg.payload)
        self.staging[msg.source] = (msg.generation, chunks)

    def take_complete(self, msg: Complete) -> list[Any]:
        """The chunks of the load `msg` completes, to build its index from.

        Until the index is built, a source that was not serving data counts as loading
        (queries wait) rather than failed."""
        status = self.statuses[msg.source]
        if status.state != "ready":
            self.statuses[msg.source] = attrs.evolve(status, state="loading", failure=None)
        generation, chunks = self.staging.pop(msg.source, (msg.generation, []))
        return chunks if generation == msg.generation else []

    def swap_in(self, built: IndexBuilt) -> bool:
        """Install a built index unless the source failed since or a newer load's index
        is already installed; True when installed."""
        generation = built.complete.generation
        if self.statuses[built.source].state == "failed":
            return False
        if self.generations.get(built.source, 0) > generation:
            return False
        self.generations[built.source] = generation
        self.indexes[built.source] = built.index
        self.cache.clear()
        now = time.time()
        msg = built.complete
        self.statuses[msg.source] = attrs.evolve(
            self.statuses[msg.source],
            state="ready",
            since=now,
            loaded_at=now,
            origin=msg.origin,
            summary=msg.summary,
            failure=None,
            failures=0,
            gave_up=False,
            next_attempt_in=None,
        )
        return True

    def status_changed(self, status: SourceStatus) -> None:
        self.cache.clear()
        previous = self.statuses[status.source]
        if status.state == "loading" and previous.state == "ready":
            # A reader restarted after serving data: keep answering from the data until a
            # failure or a new complete load replaces it.
            self.statuses[status.source] = attrs.evolve(previous, restarts=status.restarts)
            return
        if status.state == "failed":
            self.indexes.pop(status.source, None)
            self.staging.pop(status.source, None)
            self.generations.pop(status.source, None)
        self.statuses[status.source] = attrs.evolve(
            status,
            loaded_at=None if status.state == "failed" else previous.loaded_at,
            origin=status.origin or previous.origin,
        )


def _respond(request: Request, reply: Reply) -> None:
    try:
        request.reply.send_nowait(reply)
    except (trio.BrokenResourceError, trio.ClosedResourceError, trio.WouldBlock):
        pass  # the asker stopped waiting (timeout or cancellation): nothing to tell
    finally:
        request.reply.close()


def _try_answer(state: RouterState, request: Request) -> bool:
    """Answer `request` if its sources allow; False when it must stay parked."""
    ready = readiness(request.query, state.statuses)
    if ready is False:
        return False
    if isinstance(ready, BpfMcpError):
        _respond(request, Reply(error=ready))
        return True
    result = state.cached(request.query)
    if result is not None:
        _respond(request, Reply(result=result))
        return True
    try:
        result = fit_to_budget(answer(request.query, state.view()))
    except BpfMcpError as exc:
        _respond(request, Reply(error=exc))
    except Exception as exc:
        log.exception("internal error answering %s", type(request.query).__name__)
        _respond(request, Reply(error=BpfMcpError(f"Internal error in bpf-mcp: {exc!r}.")))
    else:
        state.remember(request.query, result)
        _respond(request, Reply(result=result))
    return True


def _retry_parked(state: RouterState) -> None:
    waiting, state.parked = state.parked, []
    for request in waiting:
        if not _try_answer(state, request):
            state.parked.append(request)


def index_failure(msg: Complete, exc: Exception) -> SourceStatus:
    """The status of a source whose completed load could not be indexed (a reader bug)."""
    failure = SourceFailure(
        msg.source.value,
        msg.origin,
        "internal",
        f"its data could not be indexed: {exc!r}",
        "report this as a bpf-mcp bug, with the server's log",
    )
    return SourceStatus(msg.source, "failed", time.time(), failure=failure, failures=1)


def initial_statuses(now: float) -> dict[Source, SourceStatus]:
    return {source: SourceStatus(source, "loading", now) for source in Source}


async def serve_router(
    config: Config,
    inbox: trio.MemoryReceiveChannel[RouterMessage],
    itself: trio.MemorySendChannel[RouterMessage],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the router until its inbox closes (every sender gone) or it is cancelled.

    Indexes are built in worker threads, so the router keeps answering while a large
    source is indexed; the built index comes back through `itself` (a clone of the
    inbox's send end) and is swapped in whole. Parked requests are dropped on exit; their
    askers see a closed reply channel.
    """
    state = RouterState(config, initial_statuses(time.time()))

    async def build(
        msg: Complete, chunks: list[Any], send: trio.MemorySendChannel[RouterMessage]
    ) -> None:
        with send:
            try:
                index = await trio.to_thread.run_sync(build_index, msg.source, chunks)
            except Exception as exc:
                # A reader bug must cost its own source, not the router.
                log.exception("building the %s index failed", msg.source.value)
                await send.send(StatusChanged(index_failure(msg, exc)))
                return
            await send.send(IndexBuilt(msg.source, msg, index))

    try:
        async with trio.open_nursery() as nursery:
            task_status.started()
            with inbox, itself:
                async for message in inbox:
                    match message:
                        case Request():
                            if not _try_answer(state, message):
                                state.parked.append(message)
                        case Chunk():
                            state.take_chunk(message)
                        case Complete():
                            chunks = state.take_complete(message)
                            nursery.start_soon(build, message, chunks, itself.clone())
                        case IndexBuilt():
                            if state.swap_in(message):
                                _retry_parked(state)
                        case StatusChanged():
                            state.status_changed(message.status)
                            _retry_parked(state)
    finally:
        for request in state.parked:
            request.reply.close()
