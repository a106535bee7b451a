"""HTTP load benchmark: N concurrent clients calling real tools over Streamable HTTP on
loopback, bounded by a call count and a time limit. Prints throughput, p50/p99 latency,
errors, and the server's RSS before and after.

    python bench/http_load.py [--clients 8] [--calls 20000] [--seconds 120]

The clients are raw httpx2 sessions (initialize once, then tools/call posts with JSON
responses) so that the figure is the server's cost, not a client library's.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import trio

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "linux-6.18"
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_bpf_map_types", {"pattern": "hash"}),
    ("get_btf_types", {"pattern": "task_struct", "kind": "struct", "limit": 5}),
    ("list_kernel_functions", {"pattern": "vfs_read", "limit": 10}),
    ("list_tracepoints", {"pattern": "sched_switch"}),
    ("describe_btf_type", {"name": "list_head"}),
    ("get_tracepoint", {"name": "sched:sched_switch"}),
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(sysroot: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bpf_mcp",
            "--http",
            "--bind",
            "127.0.0.1:0",
            "--json-response",
            "--sysroot",
            str(sysroot),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline().decode()
        found = re.search(r"(http://\S+/mcp)", line)
        if found:
            return proc, found.group(1)
    raise RuntimeError("the server did not print its URL")


async def client_loop(
    url: str,
    calls: itertools.count[int],
    total: int,
    deadline: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    async with httpx2.AsyncClient(timeout=30) as http:
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "load", "version": "0"},
            },
        }
        response = await http.post(url, json=init, headers=headers)
        session = response.headers.get("mcp-session-id")
        headers = {**headers, "mcp-protocol-version": "2025-06-18"}
        if session:
            headers["mcp-session-id"] = session
        await http.post(
            url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"}
        )
        while True:
            n = next(calls)
            if n >= total or time.monotonic() > deadline:
                return
            name, arguments = CALLS[n % len(CALLS)]
            body = {
                "jsonrpc": "2.0",
                "id": n + 1,
                "method": "tools/call",
                "params": {"name": name, "arguments": arguments},
            }
            start = time.perf_counter()
            try:
                response = await http.post(url, json=body, headers=headers)
                reply = response.json()
                if (
                    response.status_code != 200
                    or "error" in reply
                    or reply["result"].get("isError")
                ):
                    errors.append(f"{name}: {response.status_code} {json.dumps(reply)[:200]}")
            except Exception as exc:
                errors.append(f"{name}: {exc!r}")
            latencies.append((time.perf_counter() - start) * 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--sysroot", type=Path, default=FIXTURES)
    args = parser.parse_args()
    proc, url = start_server(args.sysroot)
    try:

        async def warm() -> None:
            latencies: list[float] = []
            errors: list[str] = []
            await client_loop(
                url, itertools.count(), len(CALLS), time.monotonic() + 60, latencies, errors
            )
            if errors:
                raise RuntimeError(errors[0])

        trio.run(warm)
        before = rss_mb(proc.pid)
        latencies: list[float] = []
        errors: list[str] = []

        async def load() -> float:
            counter = itertools.count()
            deadline = time.monotonic() + args.seconds
            start = time.perf_counter()
            async with trio.open_nursery() as nursery:
                for _ in range(args.clients):
                    nursery.start_soon(
                        client_loop, url, counter, args.calls, deadline, latencies, errors
                    )
            return time.perf_counter() - start

        elapsed = trio.run(load)
        after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"clients {args.clients}, calls {len(latencies)} in {elapsed:.1f} s:"
        f" {len(latencies) / elapsed:.0f} calls/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms,"
        f" errors {len(errors)}; server RSS {before:.0f} MB -> {after:.0f} MB"
        f" ({(after - before) / before:+.1%})"
    )
    for error in errors[:5]:
        print("  error:", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
