"""HTTP load benchmark: N concurrent clients calling real tools over Streamable HTTP on
loopback, bounded by a call count and a time limit. Prints throughput, p50/p99 latency,
errors, and the server's RSS before and after.

    python bench/http_load.py [--clients 8] [--calls 20000] [--seconds 120]
                              [--era legacy|modern] [--stateless] [--sse] [--client raw|sdk]

The server is a real `bpf-mcp --http` process on 127.0.0.1 over the fixture kernel (or
--sysroot). By default each client is a minimal HTTP/1.1 keep-alive connection written
here (one request at a time, Content-Length or chunked bodies), so the figure is the
server's cost and not a client library's: on a 2-core machine the load generator competes
with the server for CPU. `--client sdk` drives it with the mcp SDK's Client instead.

The server is one trio thread, so it can never answer faster than one call per
`server_cpu_ms_per_call` of its own CPU: `server_capacity_calls_per_second` is that bound,
the figure to compare with a target when the client and other work share the cores.

Eras: `legacy` initializes one session per client (the 2025 handshake) and then posts
tools/call with its session id; `modern` posts self-contained 2026-07-28 requests.
Responses are JSON unless `--sse`. Exit code 1 when any call failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trio

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "linux-6.18"
LEGACY = "2025-11-25"
MODERN = "2026-07-28"
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_bpf_map_types", {"pattern": "hash"}),
    ("get_btf_types", {"pattern": "task_struct", "kind": "struct", "limit": 5}),
    ("list_kernel_functions", {"pattern": "vfs_read", "limit": 10}),
    ("list_tracepoints", {"category": "sched", "pattern": "switch"}),
    ("list_bpf_program_types", {"pattern": "kprobe"}),
    ("get_server_status", {}),
]
WARM_UP_CALLS = 50
"""Calls per client before the first RSS reading, so caches and pools are filled."""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    command = [sys.executable, "-m", "bpf_mcp", "--http", "--bind", "127.0.0.1:0"]
    command += ["--sysroot", str(args.sysroot)]
    if args.stateless:
        command.append("--stateless")
    if not args.sse:
        command.append("--json-response")
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline().decode()
        if not line:
            break
        found = re.search(r"serving MCP on (http://127\.0\.0\.1:\d+/mcp)", line)
        if found:
            return proc, found.group(1)
    proc.kill()
    raise RuntimeError("the server did not print its URL")


def request_body(era: str, n: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if era == "modern":
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    return {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}


class RawConnection:
    """One keep-alive HTTP/1.1 connection, one request at a time; just enough HTTP.

    Reconnects when the server said `connection: close` (hypercorn closes a connection
    after `keep_alive_max_requests` requests).
    """

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.stream: trio.SocketStream | None = None
        self.buffer = bytearray()
        self.connections = 0

    async def aclose(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()
            self.stream = None

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.stream is None:
            self.stream = await trio.open_tcp_stream(self.host, self.port)
            self.buffer.clear()
            self.connections += 1
        lines = [f"POST {self.path} HTTP/1.1", f"host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"content-length: {len(body)}")
        await self.stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self._until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        response_headers = {}
        for line in header_lines:
            key, _, value = line.partition(":")
            response_headers[key.strip().lower()] = value.strip()
        if "content-length" in response_headers:
            payload = await self._exactly(int(response_headers["content-length"]))
        elif response_headers.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while size := int((await self._until(b"\r\n")).split(b";")[0], 16):
                payload += await self._exactly(size)
                await self._exactly(2)
            await self._until(b"\r\n")
        else:
            payload = b""
        if response_headers.get("connection", "").lower() == "close":
            await self.aclose()
        return status, response_headers, payload

    async def _fill(self) -> None:
        assert self.stream is not None
        data = await self.stream.receive_some(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    async def _until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            await self._fill()
        found = bytes(self.buffer[:end])
        del self.buffer[: end + len(marker)]
        return found

    async def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self._fill()
        found = bytes(self.buffer[:size])
        del self.buffer[:size]
        return found


def json_messages(payload: bytes) -> list[dict[str, Any]]:
    text = payload.decode()
    if text.lstrip().startswith("{"):
        return [json.loads(text)]
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []


async def raw_client(
    url: str, era: str, numbers: Iterator[int], stats: Stats, deadline: float
) -> None:
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None  # loopback only
    connection = RawConnection(parts.hostname, parts.port, parts.path)
    try:
        headers = {"accept": "application/json, text/event-stream"}
        headers["content-type"] = "application/json"
        if era == "legacy":
            init = {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": LEGACY,
                    "capabilities": {},
                    "clientInfo": {"name": "http_load", "version": "0"},
                },
            }
            status, response_headers, _ = await connection.post(json.dumps(init).encode(), headers)
            if status != 200:
                raise RuntimeError(f"initialize answered {status}")
            headers["mcp-protocol-version"] = LEGACY
            if "mcp-session-id" in response_headers:
                headers["mcp-session-id"] = response_headers["mcp-session-id"]
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            await connection.post(json.dumps(note).encode(), headers)
        else:
            headers["mcp-protocol-version"] = MODERN
            headers["mcp-method"] = "tools/call"
        for n in numbers:
            if time.monotonic() > deadline:
                return
            name, arguments = CALLS[n % len(CALLS)]
            body = json.dumps(request_body(era, n + 1, name, arguments)).encode()
            call_headers = {**headers, "mcp-name": name} if era == "modern" else headers
            start = time.perf_counter()
            try:
                status, _, payload = await connection.post(body, call_headers)
                replies = json_messages(payload)
                reply = replies[-1] if replies else {}
                if status != 200 or "error" in reply or reply["result"].get("isError"):
                    stats.errors.append(f"{name}: {status} {payload[:200]!r}")
            except (OSError, ValueError, KeyError, ConnectionError) as exc:
                stats.errors.append(f"{name}: {exc!r}")
                return
            stats.latencies.append(time.perf_counter() - start)
    finally:
        await connection.aclose()


async def sdk_client(
    url: str, era: str, numbers: Iterator[int], stats: Stats, deadline: float
) -> None:
    from mcp import Client

    async with Client(url, mode="legacy" if era == "legacy" else "auto") as client:
        for n in numbers:
            if time.monotonic() > deadline:
                return
            name, arguments = CALLS[n % len(CALLS)]
            start = time.perf_counter()
            try:
                result = await client.call_tool(name, arguments)
                if result.is_error:
                    stats.errors.append(f"{name}: {result.content!r:.200}")
            except Exception as exc:
                stats.errors.append(f"{name}: {exc!r}")
                return
            stats.latencies.append(time.perf_counter() - start)


async def drive(
    args: argparse.Namespace, url: str, calls: int, seconds: float
) -> tuple[Stats, float]:
    client = raw_client if args.client == "raw" else sdk_client
    numbers = iter(range(calls))  # shared: each number is taken by one client
    stats = Stats()
    deadline = time.monotonic() + seconds
    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(args.clients):
            nursery.start_soon(client, url, args.era, numbers, stats, deadline)
    return stats, time.perf_counter() - start


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--calls", type=int, default=20_000, help="tool calls in all (20000)")
    parser.add_argument("--seconds", type=float, default=120.0, help="time limit (120)")
    parser.add_argument("--era", choices=("legacy", "modern"), default="legacy")
    parser.add_argument("--stateless", action="store_true", help="serve with --stateless")
    parser.add_argument("--sse", action="store_true", help="SSE responses, not JSON")
    parser.add_argument("--client", choices=("raw", "sdk"), default="raw")
    parser.add_argument("--sysroot", type=Path, default=FIXTURES)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    proc, url = start_server(args)
    try:
        warm, _ = trio.run(drive, args, url, WARM_UP_CALLS * args.clients, 60.0)
        if warm.errors:
            print("warm-up failed:", warm.errors[0], file=sys.stderr)
            return 1
        before = rss_mb(proc.pid)
        server_cpu, client_cpu = cpu_seconds(proc.pid), own_cpu_seconds()
        stats, elapsed = trio.run(drive, args, url, args.calls, args.seconds)
        server_cpu = cpu_seconds(proc.pid) - server_cpu
        client_cpu = own_cpu_seconds() - client_cpu
        after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    ordered = sorted(stats.latencies)
    done = len(ordered)
    result = {
        "era": args.era,
        "mode": "stateless" if args.stateless else "stateful",
        "responses": "sse" if args.sse else "json",
        "client": args.client,
        "clients": args.clients,
        "calls": done,
        "seconds": round(elapsed, 2),
        "calls_per_second": round(done / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else 0.0,
        "server_cpu_ms_per_call": round(server_cpu / done * 1000, 3) if done else 0.0,
        "server_capacity_calls_per_second": round(done / server_cpu, 1) if server_cpu else 0.0,
        "client_cpu_ms_per_call": round(client_cpu / done * 1000, 3) if done else 0.0,
        "load_average": round(os.getloadavg()[0], 2),
        "errors": len(stats.errors),
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "rss_growth": round((after - before) / before, 4),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.era} {result['mode']} {result['responses']}, {args.client} client x"
            f" {args.clients}: {done} calls in {elapsed:.1f} s = {result['calls_per_second']:.0f}"
            f" calls/s; p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms;"
            f" errors {len(stats.errors)}; server RSS {before:.1f} -> {after:.1f} MB"
            f" ({result['rss_growth']:+.1%}); CPU per call: server"
            f" {result['server_cpu_ms_per_call']:.2f} ms, client"
            f" {result['client_cpu_ms_per_call']:.2f} ms (server capacity on one core"
            f" {result['server_capacity_calls_per_second']:.0f} calls/s); load average"
            f" {result['load_average']}"
        )
    for error in stats.errors[:5]:
        print("  error:", error, file=sys.stderr)
    return 1 if stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
