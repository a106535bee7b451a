"""A real `bpf-mcp --http` process on 127.0.0.1 and the few raw HTTP/1.1 requests the
benchmarks make of it: just enough HTTP to measure the server, not a client library's
cost. Loopback only; every wait is bounded."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "linux-6.18"
"""The captured kernel, in a source checkout."""
HOST = "127.0.0.1"
PROTOCOL = "2025-06-18"
ACCEPT = "application/json, text/event-stream"


class Server:
    """A `bpf-mcp --http` subprocess on 127.0.0.1 over the fixture kernel (`extra`
    options may name another sysroot), port chosen by the system."""

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


def request_head(method: str, port: int, headers: dict[str, str]) -> bytes:
    """The request line and headers of a request to /mcp, blank line included."""
    lines = [f"{method} /mcp HTTP/1.1", f"host: {HOST}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def post(
    port: int, body: dict[str, Any], session: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One POST on a new connection; the status, headers and body."""
    data = json.dumps(body).encode()
    head = {"accept": ACCEPT, "content-type": "application/json"}
    if session is not None:
        head |= {"mcp-session-id": session, "mcp-protocol-version": PROTOCOL}
    head |= {"content-length": str(len(data)), "connection": "close"}
    stream = await trio.open_tcp_stream(HOST, port)
    await stream.send_all(request_head("POST", port, head) + data)
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


async def open_session(port: int) -> str | None:
    """Initialize a handshake-era session; its id, or None when refused."""
    status, fields, _ = await post(port, INITIALIZE)
    return fields.get("mcp-session-id") if status == 200 else None
