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
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import trio

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "linux-6.18"
HOST = "127.0.0.1"
PROTOCOL = "2025-06-18"
ACCEPT = "application/json, text/event-stream"


class Server:
    """A `bpf-mcp --http` subprocess on 127.0.0.1, port chosen by the system."""

    def __init__(self, extra: Sequence[str]) -> None:
        command = [sys.executable, "-m", "bpf_mcp", "--http", "--bind", f"{HOST}:0"]
        command += ["--sysroot", str(FIXTURES), *extra]
        self.proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline().decode()
            if not line:
                break
            if found := re.search(r"serving MCP on http://127\.0\.0\.1:(\d+)/mcp", line):
                self.port = int(found.group(1))
                # Keep draining stderr so the server never blocks on a full pipe.
                self.proc.stderr.close()
                return
        self.proc.kill()
        raise RuntimeError("the server did not print its URL")

    def wait_ready(self) -> None:
        """Wait (60 s at most) until /healthz says every source is ready, so the figures
        taken next are not those of a server still loading."""
        deadline = time.monotonic() + 60
        request = f"GET /healthz HTTP/1.1\r\nhost: {HOST}:{self.port}\r\nconnection: close\r\n\r\n"
        while time.monotonic() < deadline:
            with socket.create_connection((HOST, self.port), timeout=10) as connection:
                connection.sendall(request.encode())
                reply = b""
                while chunk := connection.recv(65536):
                    reply += chunk
            if b'"status":"ready"' in reply:
                return
            time.sleep(0.2)
        raise RuntimeError("the server's sources were not ready within 60 s")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def descriptors(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self) -> float:
        """SIGTERM, and the seconds until the process is gone (kill after 30 s)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return round(time.monotonic() - started, 3)


def _head(method: str, port: int, headers: dict[str, str]) -> bytes:
    lines = [f"{method} /mcp HTTP/1.1", f"host: {HOST}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


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
    await stream.send_all(_head("POST", server.port, headers) + b'{"jsonrpc"')
    held, got = await _held(stream, wait)
    await stream.aclose()
    return {"held_seconds": held, "status": _status(got)}


async def trickle(server: Server, wait: float) -> dict[str, Any]:
    stream = await trio.open_tcp_stream(HOST, server.port)
    headers = {"accept": ACCEPT, "content-type": "application/json", "content-length": "1000"}
    await stream.send_all(_head("POST", server.port, headers))
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


async def _post(
    port: int, body: dict[str, Any], session: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One POST on a new connection; the status, headers and body."""
    data = json.dumps(body).encode()
    head = {"accept": ACCEPT, "content-type": "application/json"}
    if session is not None:
        head |= {"mcp-session-id": session, "mcp-protocol-version": PROTOCOL}
    head |= {"content-length": str(len(data)), "connection": "close"}
    stream = await trio.open_tcp_stream(HOST, port)
    await stream.send_all(_head("POST", port, head) + data)
    raw = b""
    with trio.fail_after(30):
        while b"\r\n\r\n" not in raw:
            raw += await stream.receive_some(65536)
        top, _, payload = raw.partition(b"\r\n\r\n")
        status_line, *lines = top.decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
        length = int(fields.get("content-length", "-1"))
        # A body of stated length, or (SSE, chunked) up to the end of the first event.
        while (length < 0 and b"\n\n" not in payload and b"0\r\n\r\n" not in payload) or (
            length >= 0 and len(payload) < length
        ):
            chunk = await stream.receive_some(65536)
            if not chunk:
                break
            payload += chunk
    await stream.aclose()
    return int(status_line.split()[1]), fields, payload


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": PROTOCOL,
        "capabilities": {},
        "clientInfo": {"name": "abuse", "version": "0"},
    },
}


async def _session(port: int) -> str | None:
    status, fields, _ = await _post(port, INITIALIZE)
    return fields.get("mcp-session-id") if status == 200 else None


async def sse_idle(server: Server, wait: float) -> dict[str, Any]:
    session = await _session(server.port)
    assert session is not None
    await _post(server.port, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    stream = await trio.open_tcp_stream(HOST, server.port)
    fields = {"accept": "text/event-stream", "mcp-session-id": session}
    await stream.send_all(_head("GET", server.port, fields | {"mcp-protocol-version": PROTOCOL}))
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
    await stream.send_all(_head("POST", server.port, fields | {"content-length": str(64 << 20)}))
    held, got = await _held(stream, wait)
    await stream.aclose()
    return {"seconds_to_answer": held, "status": _status(got)}


async def _tool_call_ms(port: int) -> float | None:
    """Milliseconds for one initialize plus get_server_status, or None when refused."""
    started = trio.current_time()
    session = await _session(port)
    if session is None:
        return None
    params = {"name": "get_server_status", "arguments": {}}
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    status, _, _ = await _post(port, call, session)
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
            await stream.send_all(_head("POST", server.port, LYING) + b"{")
            streams.append(stream)
    await trio.sleep(1)
    held = server.descriptors() - before
    healthz: int | None = None
    with trio.move_on_after(10):
        probe = await trio.open_tcp_stream(HOST, server.port)
        await probe.send_all(_head("GET", server.port, {}).replace(b"/mcp", b"/healthz"))
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
                if await _session(server.port) is not None:
                    made += 1

        async with trio.open_nursery() as nursery:
            for _ in range(count):
                nursery.start_soon(one)
    seconds = round(trio.current_time() - started, 1)
    fresh = await _session(server.port)
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
