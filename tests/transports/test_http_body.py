"""Reading request bodies in the HTTP transport's ASGI layer, against a scripted `receive`:
a body over the limit is not kept, and what is left of it is read and dropped (bounded in
bytes and time) so that the answer reaches a client still sending."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pytest
import trio
import trio.testing

from bpf_mcp.transports.http import (
    DRAIN_TIMEOUT,
    MAX_DRAIN,
    BodyEnd,
    closing_connection,
    drop_body,
    receive_body,
)

CHUNK = b"x" * 65536


def scripted(chunks: Iterable[bytes], *, then: str = "end") -> Any:
    """A `receive` giving `chunks` as the body, then (`then`) its end, a disconnect, or
    nothing ever again (a client that stalls)."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": c, "more_body": True} for c in chunks
    ]
    if then == "end":
        messages.append({"type": "http.request", "body": b"", "more_body": False})
    elif then == "disconnect":
        messages.append({"type": "http.disconnect"})
    messages.reverse()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


async def test_a_body_within_the_limit_is_kept_whole() -> None:
    body, end = await receive_body(scripted([b"ab", b"cd"]), 4, math.inf)
    assert (body, end) == (b"abcd", BodyEnd.COMPLETE)


async def test_a_body_over_the_limit_is_read_to_its_end_and_dropped() -> None:
    receive = scripted([CHUNK] * 40)
    body, end = await receive_body(receive, 1 << 20, math.inf)
    assert (body, end) == (None, BodyEnd.COMPLETE)


async def test_a_body_too_long_to_drop_is_cut() -> None:
    chunks = [CHUNK] * (MAX_DRAIN // len(CHUNK) + 10)
    assert await drop_body(scripted(chunks)) is BodyEnd.CUT


async def test_a_stalled_body_is_cut_after_the_drain_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    start = trio.current_time()
    with trio.fail_after(DRAIN_TIMEOUT * 2):
        body, end = await receive_body(scripted([CHUNK] * 2, then="stall"), 100, math.inf)
    assert (body, end) == (None, BodyEnd.CUT)
    assert trio.current_time() - start >= DRAIN_TIMEOUT


async def test_a_body_that_stalls_within_the_limit_is_late_at_its_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    start = trio.current_time()
    with trio.fail_after(60):
        body, end = await receive_body(scripted([b"{"], then="stall"), 100, start + 10)
    assert (body, end) == (None, BodyEnd.LATE)
    assert trio.current_time() - start == pytest.approx(10)


async def test_a_disconnect_means_nobody_to_answer() -> None:
    assert await receive_body(scripted([b"a"], then="disconnect"), 100, math.inf) == (
        None,
        BodyEnd.GONE,
    )
    assert await drop_body(scripted([CHUNK], then="disconnect")) is BodyEnd.GONE


async def test_a_finished_body_needs_no_reading() -> None:
    assert await drop_body(scripted([], then="stall"), more=False) is BodyEnd.COMPLETE


async def test_closing_adds_connection_close_to_the_response_head() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    closing = closing_connection(send)
    await closing({"type": "http.response.start", "status": 413, "headers": [(b"a", b"b")]})
    await closing({"type": "http.response.body", "body": b"{}"})
    assert sent[0]["headers"] == [(b"a", b"b"), (b"connection", b"close")]
    assert sent[1] == {"type": "http.response.body", "body": b"{}"}
