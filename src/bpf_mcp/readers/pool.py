"""The supervised reader pool: starts each reader, records its state as data, restarts a
failed reader with capped, jittered exponential backoff, and never lets a reader's failure
reach the rest of the server."""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Sequence

import trio

from ..config import Backoff, Config
from ..errors import SourceError, SourceFailure
from ..messages import RouterMessage, StatusChanged
from ..status import SourceStatus
from .base import Reader, Seen, reader_threads, run_reader, wait_for_change

log = logging.getLogger(__name__)


def failure_of(reader: Reader, exc: Exception) -> SourceFailure:
    """The failure to record for an exception a reader raised."""
    if isinstance(exc, SourceError):
        return exc.failure
    return SourceFailure(
        reader.source.value,
        "",
        "internal",
        # The exception's type only: its message may hold a piece of a file (the log,
        # for whoever runs the server, has the traceback).
        f"unexpected error in the {reader.source.value} reader ({type(exc).__name__})",
        "report this as a bpf-mcp bug, with the server's log",
    )


class FailureWindow:
    """Failure times within the backoff window, to decide when to stop retrying fast."""

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff
        self.times: deque[float] = deque()

    def add(self, now: float) -> bool:
        """Record a failure at `now`; True when fast retries should stop."""
        self.times.append(now)
        while self.times and now - self.times[0] > self.backoff.window:
            self.times.popleft()
        return len(self.times) >= self.backoff.max_failures


async def supervise(
    reader: Reader,
    config: Config,
    send: trio.MemorySendChannel[RouterMessage],
    rng: random.Random,
) -> None:
    """Run `reader` forever, restarting it after failures; returns only when cancelled.

    Catches Exception (never Cancelled): the failure is logged, sent to the router as a
    status, and followed by a backoff sleep. The reader's worker threads share one
    `reader_threads` gate for all its attempts. After `max_failures` failures within `window`
    seconds it waits `recheck` seconds between attempts instead. Whatever the wait, the
    source's cheap signature is still checked every `refresh_interval`, and a change (the
    file restored, replaced) ends the wait: a source that becomes good is back within one
    refresh interval, while an unchanged one is retried only as the backoff allows.
    """
    backoff = config.backoff
    window = FailureWindow(backoff)
    consecutive = 0
    restarts = 0
    seen = Seen()

    def loaded() -> None:
        nonlocal consecutive
        consecutive = 0

    # One thread gate across restarts: a read left blocked by a timeout holds back the
    # next attempt's reads instead of running beside them.
    with send, reader_threads():
        await send.send(
            StatusChanged(SourceStatus(reader.source, "loading", time.time(), restarts=0))
        )
        while True:
            try:
                await run_reader(reader, config, send, loaded, seen)
            except Exception as exc:
                failure = failure_of(reader, exc)
                if failure.cause == "internal":
                    log.exception("%s reader crashed", reader.source.value)
                else:
                    log.warning("%s", failure.sentence())
                consecutive += 1
                gave_up = window.add(trio.current_time())
                delay = backoff.recheck if gave_up else backoff.delay(consecutive, rng.random())
                await send.send(
                    StatusChanged(
                        SourceStatus(
                            reader.source,
                            "failed",
                            time.time(),
                            failure=failure,
                            failures=consecutive,
                            restarts=restarts,
                            gave_up=gave_up,
                            next_attempt_in=round(delay, 3),
                        )
                    )
                )
                await wait_for_change(reader, config, seen, delay)
                restarts += 1
                await send.send(
                    StatusChanged(
                        SourceStatus(
                            reader.source,
                            "loading",
                            time.time(),
                            failure=failure,
                            failures=consecutive,
                            restarts=restarts,
                            gave_up=gave_up,
                        )
                    )
                )


async def serve_reader_pool(
    readers: Sequence[Reader],
    config: Config,
    send: trio.MemorySendChannel[RouterMessage],
    *,
    seed: int | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Supervise every reader in one nursery until cancelled.

    Takes ownership of `send`: each supervisor gets its own clone and the original is
    closed, so the router sees end-of-channel only when every reader is gone.
    """
    rng = random.Random(seed)
    with send:
        clones = [send.clone() for _ in readers]
    async with trio.open_nursery() as nursery:
        for reader, clone in zip(readers, clones, strict=True):
            nursery.start_soon(supervise, reader, config, clone, rng)
        task_status.started()
