"""What a hostile or careless HTTP client costs a real `bpf-mcp --http` on 127.0.0.1:
how long the server holds connections that never finish, how many it keeps open at once,
what many sessions cost, and how long SIGTERM takes. Every wait here is bounded.

    python bench/http_abuse.py [--only NAME,...] [--wait 30] [--connections 3000]
                               [--sessions 2000] [--json] [-- extra bpf-mcp options]

Scenarios (each against a fresh server over the fixture kernel):
- `slow_body`: a POST whose Content-Length promises 1,000 bytes and sends 10; seconds
  until the server answers or closes (`--wait` when it never does).
- `trickle`: a POST whose body arrives one byte every 2 s.
- `headers`: a request whose headers never end.
- `sse_idle`: a session's GET SSE stream on which nothing is sent.
- `big_length`: a POST declaring a 64 MiB Content-Length, body not sent: seconds to 413.
- `connections`: `--connections` connections opened at once, each a POST whose body never
  comes: how many the server holds (its descriptors), and whether /healthz and a tool
  call still answer.
- `sessions`: `--sessions` initialize calls never deleted: the server's RSS, whether a new
  client still gets a session, and how long SIGTERM then takes to stop the server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from bpf_mcp.testing.httpserver import (
    ACCEPT,
    HOST,
    PROTOCOL,
    Server,
    open_session,
    post,
    request_head,
)


async def _held(stream: trio.SocketStream, wait: float) -> tuple[float, bytes]:
    """Seconds until the server answers or closes `stream` (`wait` if it does neither),
    and the first bytes it sent."""
    started = trio.current_time()
    got = b""
    with trio.move_on_after(wait), contextlib.suppress(trio.BrokenResourceError):
        got = await stream.receive_some(4096)
    return round(trio.current_time() - started, 2), got[:40]


def _status(got: bytes) -> int | None:
    found = re.match(rb"HTTP/1\.1 (\d+)", got)
    return int(found.group(1)) if found else None


async def slow_body(server: Server, wait: float) -> dict[str, Any]:
    stream = await trio.open_tcp_stream(HOST, server.port)
    headers = {"accept": ACCEPT, "content-type": "application/json", "content-length": "1000"}
    await stream.send_all(request_head("POST", server.port, headers) + b'{"jsonrpc"')
    held, got = await _held(stream, wait)
    await stream.aclose()
    return {"held_seconds": held, "status": _status(got)}


async def trickle(server: Server, wait: float) -> dict[str, Any]:
    stream = await trio.open_tcp_stream(HOST, server.port)
    headers = {"accept": ACCEPT, "content-type": "application/json", "content-length": "1000"}
    await stream.send_all(request_head("POST", server.port, headers))
    started = trio.current_time()
    got = b""
    async with trio.open_nursery() as nursery:

        async def drip() -> None:
            try:
                while True:
                    await stream.send_all(b" ")
                    await trio.sleep(2)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass

        nursery.start_soon(drip)
        _, got = await _held(stream, wait)
        nursery.cancel_scope.cancel()
    await stream.aclose()
    return {"held_seconds": round(trio.current_time() - started, 2), "status": _status(got)}


async def headers(server: Server, wait: float) -> dict[str, Any]:
    stream = await trio.open_tcp_stream(HOST, server.port)
    await stream.send_all(f"POST /mcp HTTP/1.1\r\nhost: {HOST}:{server.port}\r\n".encode())
    held, got = await _held(stream, wait)
    await stream.aclose()
    return {"held_seconds": held, "status": _status(got)}


async def sse_idle(server: Server, wait: float) -> dict[str, Any]:
    session = await open_session(server.port)
    assert session is not None
    await post(server.port, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    stream = await trio.open_tcp_stream(HOST, server.port)
    fields = {"accept": "text/event-stream", "mcp-session-id": session}
    await stream.send_all(
        request_head("GET", server.port, fields | {"mcp-protocol-version": PROTOCOL})
    )
    started = trio.current_time()
    first = b""
    with trio.move_on_after(wait):
        try:
            first = await stream.receive_some(4096)  # the response head
            while await stream.receive_some(4096):
                pass
        except trio.BrokenResourceError:
            pass
    await stream.aclose()
    return {"held_seconds": round(trio.current_time() - started, 2), "status": _status(first)}


async def big_length(server: Server, wait: float) -> dict[str, Any]:
    stream = await trio.open_tcp_stream(HOST, server.port)
    fields = {"accept": ACCEPT, "content-type": "application/json"}
    await stream.send_all(
        request_head("POST", server.port, fields | {"content-length": str(64 << 20)})
    )
    held, got = await _held(stream, wait)
    await stream.aclose()
    return {"seconds_to_answer": held, "status": _status(got)}


async def _tool_call_ms(port: int) -> float | None:
    """Milliseconds for one initialize plus get_server_status, or None when refused."""
    started = trio.current_time()
    session = await open_session(port)
    if session is None:
        return None
    params = {"name": "get_server_status", "arguments": {}}
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    status, _, _ = await post(port, call, session)
    return round((trio.current_time() - started) * 1000, 1) if status == 200 else None


LYING = {"accept": ACCEPT, "content-type": "application/json", "content-length": "1000"}


async def connections(server: Server, wait: float, count: int) -> dict[str, Any]:
    before = server.descriptors()
    streams: list[trio.SocketStream] = []
    refused = 0
    with trio.move_on_after(wait):
        for _ in range(count):
            try:
                with trio.fail_after(2):
                    stream = await trio.open_tcp_stream(HOST, server.port)
            except (OSError, trio.TooSlowError):
                refused += 1
                continue
            # A body promised and never sent, as a client that lies about its length.
            await stream.send_all(request_head("POST", server.port, LYING) + b"{")
            streams.append(stream)
    await trio.sleep(1)
    held = server.descriptors() - before
    healthz: int | None = None
    with trio.move_on_after(10):
        probe = await trio.open_tcp_stream(HOST, server.port)
        await probe.send_all(request_head("GET", server.port, {}).replace(b"/mcp", b"/healthz"))
        _, got = await _held(probe, 10)
        healthz = _status(got)
        await probe.aclose()
    call_ms = None
    with trio.move_on_after(10):
        call_ms = await _tool_call_ms(server.port)
    for stream in streams:
        await stream.aclose()
    return {
        "opened": len(streams),
        "refused_or_slow": refused,
        "server_descriptors_held": held,
        "healthz_status": healthz,
        "tool_call_ms": call_ms,
    }


async def sessions(server: Server, wait: float, count: int) -> dict[str, Any]:
    rss_before = server.rss_mb()
    made = 0
    started = trio.current_time()
    with trio.move_on_after(max(wait, 120)):
        limiter = trio.CapacityLimiter(8)

        async def one() -> None:
            nonlocal made
            async with limiter:
                if await open_session(server.port) is not None:
                    made += 1

        async with trio.open_nursery() as nursery:
            for _ in range(count):
                nursery.start_soon(one)
    seconds = round(trio.current_time() - started, 1)
    fresh = await open_session(server.port)
    return {
        "initialized": made,
        "seconds": seconds,
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_after": round(server.rss_mb(), 1),
        "new_client_gets_a_session": fresh is not None,
    }


SCENARIOS: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    "slow_body": slow_body,
    "trickle": trickle,
    "headers": headers,
    "sse_idle": sse_idle,
    "big_length": big_length,
    "connections": connections,
    "sessions": sessions,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios to run")
    parser.add_argument("--wait", type=float, default=30.0, help="longest wait per probe")
    parser.add_argument("--connections", type=int, default=3000)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("extra", nargs="*", help="options for bpf-mcp (after --)")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for name in args.only.split(","):
        server = Server(args.extra)
        server.wait_ready()
        try:
            scenario = SCENARIOS[name]
            if name == "connections":
                result = trio.run(scenario, server, args.wait, args.connections)
            elif name == "sessions":
                result = trio.run(scenario, server, args.wait, args.sessions)
            else:
                result = trio.run(scenario, server, args.wait)
        finally:
            result_stop = server.stop()
        result["sigterm_seconds"] = result_stop
        results[name] = result
        if not args.json:
            print(f"{name}: {result}", flush=True)
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
