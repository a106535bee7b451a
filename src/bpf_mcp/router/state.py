"""The router's state: statuses, indexes, staged chunks, parked requests and the answer
cache; pure transitions, touched only by the router task."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping

import attrs

from ..config import Config
from ..errors import BpfMcpError, SourceFailure, SourceUnavailable
from ..index import Indexes, SourceIndex, View
from ..messages import Chunk, ChunkPayload, Complete, IndexBuilt, Request
from ..queries import Query
from ..sources import Source
from ..status import SourceStatus


def readiness(query: Query[object], statuses: dict[Source, SourceStatus]) -> BpfMcpError | bool:
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
        statuses[s].state != "loading" or statuses[s].failure is not None for s in query.preferred()
    )


@attrs.define
class RouterState:
    """The router's own state; only the router task touches it."""

    config: Config
    statuses: dict[Source, SourceStatus]
    indexes: dict[Source, SourceIndex] = attrs.Factory(dict)
    staging: dict[Source, tuple[int, list[ChunkPayload]]] = attrs.Factory(dict)
    parked: list[Request[object]] = attrs.Factory(list)
    generations: dict[Source, int] = attrs.Factory(dict)
    cache: OrderedDict[Query[object], object] = attrs.Factory(OrderedDict)

    def cached(self, query: Query[object]) -> object | None:
        """A remembered result of `query` over the current indexes, or None."""
        result = self.cache.get(query)
        if result is not None:
            self.cache.move_to_end(query)
        return result

    def remember(self, query: Query[object], result: object) -> None:
        """Keep `result` for repeats of `query` until any source changes (LRU bounded).

        Only queries over sources are remembered: their answers depend on nothing else.
        """
        size = self.config.answer_cache
        if size <= 0 or not query.needs or query.uncached:
            return
        self.cache[query] = result
        if len(self.cache) > size:
            self.cache.popitem(last=False)

    def view(self) -> View:
        return View(
            Indexes.of(self.indexes),
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

    def take_complete(self, msg: Complete) -> list[ChunkPayload]:
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
        transient = status.failure is not None and status.failure.transient
        if status.state == "failed" and transient and status.source in self.indexes:
            # Out of descriptors or memory for a moment, or a read hung: that says nothing
            # about the data, so the last good data is still served (its age shows in the
            # status, with the failure) until a reload succeeds.
            self.statuses[status.source] = attrs.evolve(
                previous,
                failure=status.failure,
                failures=status.failures,
                restarts=status.restarts,
                gave_up=status.gave_up,
                next_attempt_in=status.next_attempt_in,
            )
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


def index_failure(msg: Complete, exc: Exception) -> SourceStatus:
    """The status of a source whose completed load could not be indexed (a reader bug)."""
    failure = SourceFailure(
        msg.source.value,
        msg.origin,
        "internal",
        f"its data could not be indexed ({type(exc).__name__}; the server log has the details)",
        "report this as a bpf-mcp bug, with the server's log",
    )
    return SourceStatus(msg.source, "failed", time.time(), failure=failure, failures=1)


def initial_statuses(
    now: float, absent: Mapping[Source, SourceFailure] | None = None
) -> dict[Source, SourceStatus]:
    """Every source loading, except those this kernel cannot have: failed for good, with
    the failure that says why."""
    absent = absent or {}
    return {
        source: SourceStatus(source, "failed", now, failure=absent[source], gave_up=True)
        if source in absent
        else SourceStatus(source, "loading", now)
        for source in Source
    }
