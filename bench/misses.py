"""What a question about a name that does not exist costs: the "did you mean" search.

    python bench/misses.py [--sysroot DIR] [--seconds 20] [--clients 8] [--json]

1. In process, over the fixture kernel (or `--sysroot`): the CPU time of answering
   misses (typos, garbage of 3 to 200 characters, very short names) for every question
   that suggests near names: median and worst, in milliseconds. Target: at most 5 ms.
2. Over HTTP on 127.0.0.1: `--clients` clients ask unknown names as fast as they can for
   `--seconds`, while one more client sends a JSON-RPC ping every 100 ms; the pings'
   p50, p99 and worst latency. Target: under 50 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio

from bpf_mcp import queries as q
from bpf_mcp.answers import answer
from bpf_mcp.errors import BpfMcpError
from bpf_mcp.testing.httpserver import (
    ACCEPT,
    FIXTURES,
    INITIALIZE,
    PROTOCOL,
    Server,
    post,
)
from bpf_mcp.testing.view import build_view

ALPHABET = "abcdefghijklmnopqrstuvwxyz_0123456789"


def unknown_names(rng: random.Random, count: int) -> list[str]:
    """Typos of real names, garbage of many lengths, and very short names."""
    typos = ["vfs_raed", "task_strcut", "tsak_struct", "sk_bfuf", "inode_operaitons"]
    short = ["e", "_", "sys", "bpf_", "struct", "zz_a"]
    garbage = [
        "".join(rng.choice(ALPHABET) for _ in range(rng.choice((3, 8, 20, 40, 80, 200))))
        for _ in range(count)
    ]
    return typos + short + garbage


def in_process(sysroot: Path, rng: random.Random) -> dict[str, Any]:
    view = build_view(sysroot)
    makers: dict[str, Callable[[str], q.Query[Any]]] = {
        "get_kernel_function": lambda n: q.GetKernelFunction(name=n),
        "get_tracepoint": lambda n: q.GetTracepoint(name=f"sched:{n}"),
        "describe_btf_type": lambda n: q.DescribeBtfType(name=n),
        "generate_c_header": lambda n: q.GenerateCHeader(names=(n,)),
    }
    results: dict[str, Any] = {}
    names = unknown_names(rng, 60)
    for tool, make in makers.items():
        costs = []
        for name in names:
            query = make(name[:128])
            started = time.process_time()
            with contextlib.suppress(BpfMcpError):
                answer(query, view)
            costs.append((time.process_time() - started) * 1000)
        results[tool] = {
            "misses": len(costs),
            "median_ms": round(statistics.median(costs), 2),
            "worst_ms": round(max(costs), 2),
        }
    return results


async def over_http(server: Server, seconds: float, clients: int) -> dict[str, Any]:
    status, fields, _ = await post(server.port, INITIALIZE)
    assert status == 200, status
    session = fields["mcp-session-id"]
    rng = random.Random(7)
    names = unknown_names(rng, 400)
    asked = 0

    async def asker(number: int) -> None:
        nonlocal asked
        tools = ("get_kernel_function", "describe_btf_type", "generate_c_header")
        n = number
        while True:
            name = names[n % len(names)][:128]
            tool = tools[n % len(tools)]
            arguments: dict[str, Any] = {"names": [name]} if tool == "generate_c_header" else {}
            arguments = arguments or {"name": name}
            params = {"name": tool, "arguments": arguments}
            call = {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}
            await post(server.port, call, session)
            asked += 1
            n += clients

    cpu_before = server.cpu_seconds()
    # The pings come from a process of their own, so the askers' work here (a Python
    # client is slow) does not delay them.
    pinger = await trio.lowlevel.open_process(
        [sys.executable, __file__, "--ping", str(server.port), session, str(seconds)],
        stdout=subprocess.PIPE,
    )
    with trio.move_on_after(seconds):
        async with trio.open_nursery() as nursery:
            for number in range(clients):
                nursery.start_soon(asker, number)
    assert pinger.stdout is not None
    output = b""
    with trio.fail_after(30):
        while chunk := await pinger.stdout.receive_some():
            output += chunk
        await pinger.wait()
    pings = json.loads(output)
    cpu = server.cpu_seconds() - cpu_before
    pings.sort()
    return {
        "server_cpu_ms_per_call": round(cpu * 1000 / max(1, asked + len(pings)), 2),
        "clients": clients,
        "unknown_names_asked": asked,
        "pings": len(pings),
        "ping_p50_ms": round(statistics.median(pings), 1),
        "ping_p99_ms": round(pings[int(len(pings) * 0.99) - 1], 1),
        "ping_worst_ms": round(pings[-1], 1),
    }


def ping(port: int, session: str, seconds: float) -> list[float]:
    """A JSON-RPC ping every 100 ms for `seconds`, each on its own connection; the
    latencies in milliseconds."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
    head = (
        f"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\naccept: {ACCEPT}\r\n"
        f"content-type: application/json\r\nmcp-session-id: {session}\r\n"
        f"mcp-protocol-version: {PROTOCOL}\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    ).encode()
    latencies = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.1)
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(head + body)
            reply = b""
            while b'"result"' not in reply and (chunk := connection.recv(65536)):
                reply += chunk
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def main() -> int:
    if sys.argv[1:2] == ["--ping"]:
        print(json.dumps(ping(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sysroot", type=Path, default=FIXTURES)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    report = {"in_process": in_process(args.sysroot, random.Random(5))}
    server = Server(["--sysroot", str(args.sysroot)])
    try:
        report["http"] = trio.run(over_http, server, args.seconds, args.clients)
    finally:
        server.stop()
    print(json.dumps(report, indent=1 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
