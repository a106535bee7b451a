"""Helpers for the HTTP transport tests: a real server on an ephemeral loopback port, and
raw Streamable HTTP requests for checks below the SDK client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
import trio

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.transports.http import HttpAddress, serve_http

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "linux-6.18"

ACCEPT = "application/json, text/event-stream"
LEGACY_VERSION = "2025-06-18"


@asynccontextmanager
async def running(**options: Any) -> AsyncIterator[HttpAddress]:
    """A bpf-mcp over the fixture kernel, served over HTTP on 127.0.0.1 (a free port unless
    `options` say otherwise); stopped by cancellation on exit."""
    options = {"host": "127.0.0.1", "port": 0, **options}
    async with (
        open_bpf_mcp(Config(sysroot=FIXTURES)) as handle,
        trio.open_nursery() as nursery,
    ):
        address: HttpAddress = await nursery.start(partial(serve_http, handle, **options))
        yield address
        nursery.cancel_scope.cancel()


def rpc(method: str, params: dict[str, Any] | None = None, id: int | None = 1) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if id is not None:
        message["id"] = id
    return message


def initialize_request() -> dict[str, Any]:
    return rpc(
        "initialize",
        {
            "protocolVersion": LEGACY_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "bpf-mcp-tests", "version": "0"},
        },
        id=0,
    )


def mcp_headers(session_id: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"accept": ACCEPT, "content-type": "application/json", **extra}
    if session_id is not None:
        headers["mcp-session-id"] = session_id
        headers["mcp-protocol-version"] = LEGACY_VERSION
    return headers


def sse_messages(body: str) -> list[dict[str, Any]]:
    """The JSON-RPC messages in an SSE body (or a plain JSON body)."""
    if body.lstrip().startswith("{"):
        return [json.loads(body)]
    return [
        json.loads(line[len("data:") :])
        for line in body.splitlines()
        if line.startswith("data:") and line[len("data:") :].strip()
    ]


async def open_session(client: httpx2.AsyncClient, url: str, **headers: str) -> str:
    """Initialize a handshake-era session with raw requests; its session id."""
    response = await client.post(url, json=initialize_request(), headers=mcp_headers(**headers))
    assert response.status_code == 200, response.text
    session_id = response.headers["mcp-session-id"]
    done = await client.post(
        url,
        json=rpc("notifications/initialized", id=None),
        headers=mcp_headers(session_id, **headers),
    )
    assert done.status_code == 202, done.text
    return session_id
