"""Protocol abuse against the real `bpf-mcp` process over stdio, line by line: every bad
line gets the JSON-RPC error the specification asks for, the server never exits, writes
nothing but protocol to stdout, and still answers afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio

from .conftest import FIXTURE

pytestmark = pytest.mark.slow

SERVER = [sys.executable, "-m", "bpf_mcp", "--sysroot", str(FIXTURE)]
PARSE, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
INIT = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "abuse", "version": "0"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


class Server:
    """The server process and everything it wrote to stdout, kept line by line."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.lines: list[bytes] = []
        self.replies: list[dict[str, Any]] = []
        self.arrived = trio.Event()
        self.pings = 0

    async def pump(self) -> None:
        assert self.process.stdout is not None
        buffer = b""
        while data := await self.process.stdout.receive_some(1 << 20):
            buffer += data
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                self.lines.append(line)
                self.replies.append(json.loads(line))
            self.arrived.set()
            self.arrived = trio.Event()
        if buffer:
            self.lines.append(buffer)

    async def send(self, line: str | bytes | dict[str, Any]) -> None:
        assert self.process.stdin is not None
        if isinstance(line, dict):
            line = json.dumps(line)
        data = line.encode() if isinstance(line, str) else line
        await self.process.stdin.send_all(data + b"\n")

    async def reply(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        with trio.fail_after(60):
            while True:
                for reply in self.replies:
                    if match(reply):
                        return reply
                await self.arrived.wait()

    async def reply_to(self, request_id: Any) -> dict[str, Any]:
        return await self.reply(lambda r: r.get("id") == request_id and "method" not in r)

    async def alive(self) -> None:
        """The server still answers a ping."""
        self.pings += 1
        ping_id = f"ping-{self.pings}"
        await self.send({"jsonrpc": "2.0", "id": ping_id, "method": "ping"})
        assert (await self.reply_to(ping_id))["result"] == {}


@asynccontextmanager
async def running() -> AsyncIterator[Server]:
    process = await trio.lowlevel.open_process(
        SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    server = Server(process)
    stderr: list[bytes | bytearray] = []

    async def drain_stderr() -> None:
        assert process.stderr is not None
        while data := await process.stderr.receive_some(65536):
            stderr.append(data)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.pump)
            nursery.start_soon(drain_stderr)
            yield server
            assert process.stdin is not None
            await process.stdin.aclose()
            with trio.fail_after(60):
                code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
    log = b"".join(stderr).decode(errors="replace")
    assert code == 0, log
    assert "Traceback" not in log, log
    for line in server.lines:  # nothing but JSON-RPC on stdout
        message = json.loads(line)
        assert message["jsonrpc"] == "2.0", line[:200]


def error_of(reply: dict[str, Any]) -> int:
    assert "error" in reply, reply
    code = reply["error"]["code"]
    assert isinstance(code, int)
    return code


async def test_bad_lines_get_json_rpc_errors_and_the_server_keeps_answering() -> None:
    async with running() as server:
        # A request before initialize: an error with its id, not silence.
        await server.send({"jsonrpc": "2.0", "id": "early", "method": "tools/list"})
        assert error_of(await server.reply_to("early")) < 0
        await server.send(INIT)
        assert "result" in await server.reply_to("init")
        await server.send(INITIALIZED)

        null_id: list[int] = []
        bad_lines: list[str | bytes] = [
            "garbage",
            '{"jsonrpc": "2.0", "id": 1,',
            b"\x00\xff\xfe binary \x00 junk",
            "x" * (10 << 20),
            "[" * 200_000,
            '[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
            "[]",
            "42",
            '{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
        ]
        for line in bad_lines:
            await server.send(line)
            await server.alive()
            null_id.append(error_of(await server.reply(lambda r: r.get("id") is None)))
            server.replies = [r for r in server.replies if r.get("id") is not None]
        assert null_id == [PARSE] * 5 + [INVALID_REQUEST] * 4

        await server.send("   ")  # blank lines are skipped, not answered
        await server.send("")
        requests: list[tuple[dict[str, Any], int]] = [
            ({"jsonrpc": "2.0", "id": "u", "method": "no/such/method"}, METHOD_NOT_FOUND),
            ({"jsonrpc": "1.0", "id": "v", "method": "ping"}, INVALID_REQUEST),
            ({"id": "w", "method": "ping"}, INVALID_REQUEST),
            ({"jsonrpc": "2.0", "id": "x", "method": 7}, INVALID_REQUEST),
            ({"jsonrpc": "2.0", "id": "y", "method": "tools/call", "params": [1]}, INVALID_PARAMS),
            (
                {"jsonrpc": "2.0", "id": "z", "method": "tools/call", "params": {"name": 5}},
                INVALID_PARAMS,
            ),
            (
                {
                    "jsonrpc": "2.0",
                    "id": "t",
                    "method": "tools/call",
                    "params": {"name": "no_such_tool", "arguments": {}},
                },
                INVALID_PARAMS,
            ),
        ]
        for request, code in requests:
            await server.send(request)
            assert error_of(await server.reply_to(request["id"])) == code, request
            await server.alive()


async def test_huge_valid_requests_and_oversized_lines() -> None:
    async with running() as server:
        await server.send(INIT)
        await server.reply_to("init")
        await server.send(INITIALIZED)
        big = {
            "jsonrpc": "2.0",
            "id": "big",
            "method": "tools/call",
            "params": {"name": "list_kernel_functions", "arguments": {"pattern": "p" * (10 << 20)}},
        }
        await server.send(big)
        reply = await server.reply_to("big")
        assert reply["result"]["isError"] and "pattern" in reply["result"]["content"][0]["text"]
        assert len(json.dumps(reply)) < 4096  # the 10 MB argument is not echoed
        await server.send("y" * (17 << 20))  # past the 16 MB line limit
        await server.alive()
        assert error_of(await server.reply(lambda r: r.get("id") is None)) == PARSE


async def test_duplicate_ids_and_cancellation_in_flight() -> None:
    async with running() as server:
        await server.send(INIT)
        await server.reply_to("init")
        await server.send(INITIALIZED)
        call = {
            "jsonrpc": "2.0",
            "id": "dup",
            "method": "tools/call",
            "params": {"name": "list_tracepoints", "arguments": {"include_format": True}},
        }
        await server.send(json.dumps(call) + "\n" + json.dumps(call))
        await server.reply_to("dup")
        await server.alive()
        answers = [r for r in server.replies if r.get("id") == "dup"]
        assert 1 <= len(answers) <= 2
        if len(answers) == 2:  # the second arrived while the first was in flight
            assert any(r.get("error", {}).get("code") == INVALID_REQUEST for r in answers)

        for n in range(20):
            request = {**call, "id": f"c{n}"}
            cancel = {
                "jsonrpc": "2.0",
                "method": "notifications/cancelled",
                "params": {"requestId": f"c{n}", "reason": "changed my mind"},
            }
            await server.send(json.dumps(request) + "\n" + json.dumps(cancel))
        await server.alive()
        for n in range(20):
            assert len([r for r in server.replies if r.get("id") == f"c{n}"]) <= 1


async def test_a_flood_of_requests_is_answered_in_full() -> None:
    count = 3000
    async with running() as server:
        await server.send(INIT)
        await server.reply_to("init")
        await server.send(INITIALIZED)
        lines = [
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": n,
                    "method": "tools/call",
                    "params": {"name": "list_bpf_map_types", "arguments": {"limit": 1}},
                }
            )
            for n in range(count)
        ]
        await server.send("\n".join(lines))
        await server.reply_to(count - 1)

        def answered() -> int:
            return len({r["id"] for r in server.replies if isinstance(r.get("id"), int)})

        with trio.fail_after(60):
            while answered() < count:
                await server.arrived.wait()
        assert not any("error" in r for r in server.replies)
