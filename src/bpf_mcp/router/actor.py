"""The router actor: takes chunks and statuses from the reader pool and queries from
transports, keeps the indexes, and answers each request exactly once."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import trio

from ..answers import answer
from ..config import Config
from ..errors import BpfMcpError, SourceFailure
from ..index import build_index
from ..messages import (
    Chunk,
    ChunkPayload,
    Complete,
    CurrentIndexes,
    IndexBuilt,
    Reply,
    Request,
    RouterMessage,
    StatusChanged,
)
from ..sources import Source
from .state import RouterState, index_failure, initial_statuses, readiness

log = logging.getLogger(__name__)


def _respond(request: Request[object], reply: Reply[object]) -> None:
    try:
        request.reply.send_nowait(reply)
    except (trio.BrokenResourceError, trio.ClosedResourceError, trio.WouldBlock):
        pass  # the asker stopped waiting (timeout or cancellation): nothing to tell
    finally:
        request.reply.close()


def _try_answer(state: RouterState, request: Request[object]) -> bool:
    """Answer `request` if its sources allow; False when it must stay parked.

    Every exception of the answer goes back to the asker: a project error for it to show,
    or a bug, which the boundary that asked logs with its traceback.
    """
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
        view = state.view()
        result = (
            view.indexes
            if isinstance(request.query, CurrentIndexes)
            else answer(request.query, view)
        )
    except Exception as exc:
        _respond(request, Reply(error=exc))
    else:
        state.remember(request.query, result)
        _respond(request, Reply(result=result))
    return True


def _retry_parked(state: RouterState) -> None:
    waiting, state.parked = state.parked, []
    for request in waiting:
        if not _try_answer(state, request):
            state.parked.append(request)


async def serve_router(
    config: Config,
    inbox: trio.MemoryReceiveChannel[RouterMessage],
    itself: trio.MemorySendChannel[RouterMessage],
    *,
    absent: Mapping[Source, SourceFailure] | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run the router until its inbox closes (every sender gone) or it is cancelled.

    Indexes are built in worker threads, so the router keeps answering while a large
    source is indexed; the built index comes back through `itself` (a clone of the
    inbox's send end) and is swapped in whole. Sources in `absent` (this kernel's data
    cannot have them) answer their failure at once. Parked requests are dropped on exit;
    their askers see a closed reply channel.
    """
    state = RouterState(config, initial_statuses(time.time(), absent))

    async def build(
        msg: Complete, chunks: list[ChunkPayload], send: trio.MemorySendChannel[RouterMessage]
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
