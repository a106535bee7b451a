"""The stdio transport's JSON-RPC framing: what each kind of bad line is answered with
(pure), and, over real pipes in process, duplicate ids, cancellation, back-pressure on
requests in flight, and draining at end of input."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mcp_types as types
import pytest
import trio

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.readers.base import Emit, Loaded
from bpf_mcp.sources import Source
from bpf_mcp.transports.protocol import Rejection, classify_line, encode_message
from bpf_mcp.transports.stdio import serve_stdio_fds

PARSE, INVALID_REQUEST, INVALID_PARAMS = -32700, -32600, -32602


@pytest.mark.parametrize(
    ("line", "code", "request_id"),
    [
        ("hello world", PARSE, None),
        ('{"jsonrpc": "2.0", "id": 1,', PARSE, None),
        ('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":NaN}}', PARSE, None),
        ('{"jsonrpc":"2.0","id":1,"method":"x","params":{"s":"\\ud800"}}', PARSE, None),
        ("[" * 100_000, PARSE, None),
        ("1" * 5000, PARSE, None),
        ("\ufffd\ufffd{", PARSE, None),
        ('[{"jsonrpc":"2.0","id":1,"method":"ping"}]', INVALID_REQUEST, None),
        ("[]", INVALID_REQUEST, None),
        ("42", INVALID_REQUEST, None),
        ('"ping"', INVALID_REQUEST, None),
        ("null", INVALID_REQUEST, None),
        ('{"jsonrpc":"1.0","id":4,"method":"ping"}', INVALID_REQUEST, 4),
        ('{"id":"five","method":"ping"}', INVALID_REQUEST, "five"),
        ('{"jsonrpc":"2.0","id":8,"method":5}', INVALID_REQUEST, 8),
        ('{"jsonrpc":"2.0","id":null,"method":"ping"}', INVALID_REQUEST, None),
        ('{"jsonrpc":"2.0","id":1.5,"method":"ping"}', INVALID_REQUEST, None),
        ('{"jsonrpc":"2.0","id":true,"method":"ping"}', INVALID_REQUEST, None),
        ('{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', INVALID_REQUEST, None),
        ('{"jsonrpc":"2.0","id":6}', INVALID_REQUEST, 6),
        ("{}", INVALID_REQUEST, None),
        ('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":[1,2]}', INVALID_PARAMS, 7),
        ('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":"x"}', INVALID_PARAMS, 7),
    ],
)
def test_bad_lines_are_answered_as_the_spec_asks(line: str, code: int, request_id: Any) -> None:
    verdict = classify_line(line)
    assert isinstance(verdict, Rejection), verdict
    assert verdict.error.error.code == code
    assert verdict.error.id == request_id
    encoded = json.loads(encode_message(verdict.error))
    assert encoded["jsonrpc"] == "2.0" and encoded["id"] == request_id
    assert encoded["error"]["code"] == code and encoded["error"]["message"]


@pytest.mark.parametrize(
    "line",
    [
        '{"jsonrpc":"2.0","method":"notifications/initialized","params":[1]}',
        '{"jsonrpc":"2.0","id":3,"result":5}',
        '{"jsonrpc":"2.0","id":3,"error":{"code":"x"}}',
    ],
)
def test_malformed_notifications_and_responses_are_not_answered(line: str) -> None:
    assert classify_line(line) is None


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ('{"jsonrpc":"2.0","id":1,"method":"ping"}', types.JSONRPCRequest),
        ('{"jsonrpc":"2.0","id":"a","method":"no/such/method","extra":1}', types.JSONRPCRequest),
        ('{"jsonrpc":"2.0","method":"notifications/initialized"}', types.JSONRPCNotification),
        ('{"jsonrpc":"2.0","id":1,"result":{}}', types.JSONRPCResponse),
        ('{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}', types.JSONRPCError),
    ],
)
def test_messages_pass_through(line: str, kind: type) -> None:
    assert isinstance(classify_line(line), kind)


def test_an_answer_with_a_lone_surrogate_is_still_written() -> None:
    message = types.JSONRPCError(
        jsonrpc="2.0", id=1, error=types.ErrorData(code=-1, message="bad \ud800 text")
    )
    line = encode_message(message)
    assert line.endswith(b"\n") and json.loads(line)["error"]["message"] == "bad \ud800 text"


class Parked:
    """A kallsyms reader that never finishes loading: its queries wait (up to load_wait)."""

    source = Source.KALLSYMS

    async def signature(self, config: Config) -> int:
        return 1

    async def load(self, config: Config, emit: Emit) -> Loaded:
        await trio.sleep_forever()
        raise AssertionError("unreachable")


class Peer:
    """The client's end of two pipes: writes lines, reads JSON lines."""

    def __init__(self, send: trio.lowlevel.FdStream, receive: trio.lowlevel.FdStream) -> None:
        self.send_stream = send
        self.receive_stream = receive
        self.buffer = b""

    async def send(self, message: Any) -> None:
        line = message if isinstance(message, str) else json.dumps(message)
        await self.send_stream.send_all(line.encode() + b"\n")

    async def receive(self) -> Any:
        while b"\n" not in self.buffer:
            data = await self.receive_stream.receive_some(65536)
            assert data, "the server closed its output"
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    async def nothing_within(self, seconds: float) -> bool:
        with trio.move_on_after(seconds):
            await self.receive()
            return False
        return True


INIT = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    },
}


def tools_call(request_id: Any, name: str = "list_kernel_functions") -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": {}},
    }


def ping(request_id: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "ping"}


def cancel(request_id: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": request_id, "reason": "test"},
    }


@asynccontextmanager
async def served(max_pending: int = 256, drain_timeout: float = 30.0) -> AsyncIterator[Peer]:
    """bpf-mcp over a pair of pipes, with kallsyms forever loading; yields the client end
    (already initialized). Leaving closes the client's input pipe end."""
    to_server_r, to_server_w = os.pipe()
    from_server_r, from_server_w = os.pipe()
    config = Config(load_wait=1000.0, read_timeout=1e6)
    async with open_bpf_mcp(config, readers=[Parked()]) as handle, trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: serve_stdio_fds(
                handle,
                to_server_r,
                from_server_w,
                max_pending=max_pending,
                drain_timeout=drain_timeout,
            )
        )
        async with (
            trio.lowlevel.FdStream(to_server_w) as send,
            trio.lowlevel.FdStream(from_server_r) as receive,
        ):
            peer = Peer(send, receive)
            await peer.send(INIT)
            assert (await peer.receive())["id"] == "init"
            await peer.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            yield peer
            nursery.cancel_scope.cancel()


async def test_a_duplicate_id_in_flight_is_refused_and_free_again_once_cancelled() -> None:
    with trio.fail_after(20):
        async with served() as peer:
            await peer.send(tools_call(7))  # parks: kallsyms never loads
            await peer.send(tools_call(7))
            refused = await peer.receive()
            assert refused["id"] == 7 and refused["error"]["code"] == INVALID_REQUEST
            assert "already used" in refused["error"]["message"]
            await peer.send(cancel(7))
            await peer.send(ping(7))  # the id is free again, and the server answers
            assert await peer.receive() == {"jsonrpc": "2.0", "id": 7, "result": {}}
            assert await peer.nothing_within(0.3)  # the cancelled request stays unanswered


async def test_reading_pauses_while_too_many_requests_are_in_flight() -> None:
    with trio.fail_after(20):
        async with served(max_pending=4) as peer:
            for n in range(4):
                await peer.send(tools_call(n))
            await peer.send(ping("p"))
            assert await peer.nothing_within(0.3)  # not even read: back-pressure
            await peer.send(cancel(0))
            # The cancel is behind the ping in the pipe, so the ping is still not read.
            assert await peer.nothing_within(0.3)


async def test_back_pressure_lifts_when_an_answer_is_written() -> None:
    with trio.fail_after(20):
        async with served(max_pending=2) as peer:
            await peer.send(tools_call("slow"))
            await peer.send(ping(1))
            assert (await peer.receive())["id"] == 1  # one slot was free
            await peer.send(ping(2))
            assert (await peer.receive())["id"] == 2


async def test_end_of_input_waits_for_answers_owed_then_stops() -> None:
    to_server_r, to_server_w = os.pipe()
    from_server_r, from_server_w = os.pipe()
    lines = [
        json.dumps(INIT),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        *(json.dumps(ping(n)) for n in range(50)),
        json.dumps(tools_call("parked")),
        "garbage",
    ]
    os.write(to_server_w, ("\n".join(lines) + "\n").encode())
    os.close(to_server_w)
    config = Config(load_wait=2.0, read_timeout=1e6)
    with trio.fail_after(20):
        async with open_bpf_mcp(config, readers=[Parked()]) as handle:
            await serve_stdio_fds(handle, to_server_r, from_server_w)
    with os.fdopen(from_server_r, "rb") as f:
        replies = [json.loads(line) for line in f.read().splitlines()]
    by_id = {r["id"]: r for r in replies}
    assert set(by_id) == {"init", "parked", None, *range(50)}
    # The parked request was answered (its load_wait ran out) before the server stopped.
    assert "still loading" in by_id["parked"]["result"]["content"][0]["text"]
    assert by_id[None]["error"]["code"] == PARSE
