"""A minimal JSON-RPC client over a bpf-mcp subprocess's stdio: write a line, read a line.

Used by the benchmarks so that client-side validation does not hide the server's cost.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
from typing import Any

PROTOCOL = "2025-06-18"


class RawClient:
    """One server process, spoken to synchronously, one request at a time."""

    def __init__(self, command: Sequence[str]) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin = self.proc.stdin
        self.stdout = self.proc.stdout
        self.next_id = 0

    def send(self, method: str, params: dict[str, Any] | None = None) -> bytes:
        """Write one request line and read one reply line, unparsed (the timed part)."""
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.stdin.write(json.dumps(message).encode() + b"\n")
        self.stdin.flush()
        line = self.stdout.readline()
        if not line:
            raise RuntimeError("server closed its stdout")
        return line

    def check(self, method: str, line: bytes) -> dict[str, Any]:
        """The response object in `line` (raises on a JSON-RPC error or a wrong id)."""
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        if reply.get("id") != self.next_id:
            raise RuntimeError(f"{method}: reply to id {reply.get('id')}, not {self.next_id}")
        result = reply.get("result", {})
        if isinstance(result, dict) and result.get("isError"):
            raise RuntimeError(f"{method}: {result['content'][0]['text']}")
        return reply

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request and return its response object (raises on a JSON-RPC error)."""
        return self.check(method, self.send(method, params))

    def initialize(self) -> None:
        self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "0"},
            },
        )
        self.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self.stdin.flush()

    def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.request("tools/call", {"name": tool, "arguments": arguments})[
            "result"
        ]
        if result.get("isError"):
            raise RuntimeError(f"{tool}: {result['content'][0]['text']}")
        return result

    def timed(self, method: str, params: dict[str, Any] | None, count: int) -> list[float]:
        """Latencies in milliseconds of `count` sequential requests."""
        out = []
        for _ in range(count):
            start = time.perf_counter_ns()
            line = self.send(method, params)
            out.append((time.perf_counter_ns() - start) / 1e6)
            self.check(method, line)  # parsed and checked outside the timed part
        return out

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        self.stdin.close()
        self.proc.wait(timeout=30)


def wait_ready(client: RawClient, *, poll: float = 0.05, timeout: float = 60.0) -> dict[str, float]:
    """Seconds from spawn until each source was indexed.

    The server's status says how old each source's data is, so the moment it became
    ready is the reply's time less that age: polling slowly (every `poll` seconds) keeps
    the polls from competing with the loads they measure, without losing precision. A
    source that failed reads NaN.
    """
    seen: dict[str, float] = {}
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        status = client.call("get_server_status", {})["structuredContent"]
        now = time.perf_counter() - client.started
        for source in status["sources"]:
            if source["state"] == "ready":
                seen.setdefault(source["source"], now - source["data_age_seconds"])
            elif source["state"] == "failed":
                seen.setdefault(source["source"], float("nan"))
        if len(seen) == len(status["sources"]):
            return seen
        time.sleep(poll)
    raise RuntimeError("sources not ready in time")
