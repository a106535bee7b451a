"""The HTTP transport in process: the real server on an ephemeral loopback port, driven by
the mcp SDK client on both protocol eras and checked at HTTP level."""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

import httpx2
import pytest
import trio
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.sources import Source
from bpf_mcp.tools import TOOLS
from bpf_mcp.transports.http import HttpAddress, serve_http

from .support import (
    FIXTURES,
    LEGACY_VERSION,
    mcp_headers,
    open_session,
    rpc,
    running,
    sse_messages,
)

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_tracepoints", {"category": "sched", "pattern": "switch", "limit": 5}),
    ("list_kernel_functions", {"pattern": "vfs_read", "limit": 3}),
    ("get_btf_types", {"pattern": "task_struct", "kind": "struct"}),
    ("list_bpf_program_types", {"pattern": "kprobe"}),
    ("list_bpf_map_types", {"pattern": "hash", "limit": 2}),
    ("get_server_status", {}),
]
MODES = ["legacy", "auto"]


async def _exercise(client: Client) -> None:
    listed = await client.list_tools()
    assert [t.name for t in listed.tools] == [t.name for t in TOOLS]
    for name, arguments in CALLS:
        result = await client.call_tool(name, arguments)
        assert not result.is_error, (name, result.content)
        payload = result.structured_content
        assert payload is not None
        assert json.loads(result.content[0].text) == payload  # type: ignore[union-attr]
    bad = await client.call_tool("list_tracepoints", {"limit": 5000})
    assert bad.is_error


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "options",
    [{}, {"stateless": True}, {"json_response": True}, {"stateless": True, "json_response": True}],
    ids=["stateful", "stateless", "json", "stateless-json"],
)
async def test_tools_over_http(mode: str, options: dict[str, Any]) -> None:
    with trio.fail_after(30):
        async with running(**options) as address, Client(address.url(), mode=mode) as client:
            expected = "2026-07-28" if mode == "auto" else "2025-11-25"
            assert client.session.protocol_version == expected
            await _exercise(client)


async def test_sessions_run_concurrently_on_one_router() -> None:
    with trio.fail_after(30):
        async with running() as address:

            async def one(mode: str) -> None:
                async with Client(address.url(), mode=mode) as client:
                    for _ in range(5):
                        result = await client.call_tool("list_bpf_map_types", {"limit": 1})
                        assert not result.is_error

            async with trio.open_nursery() as nursery:
                for n in range(6):
                    nursery.start_soon(one, MODES[n % 2])


async def test_bad_host_is_421_and_bad_origin_403() -> None:
    with trio.fail_after(30):
        async with running() as address, httpx2.AsyncClient() as http:
            url = address.url()
            for path in (url, address.url("/healthz")):
                bad_host = await http.get(path, headers={"host": "evil.example:80"})
                assert bad_host.status_code == 421
                bad_origin = await http.get(path, headers={"origin": "http://evil.example"})
                assert bad_origin.status_code == 403
            posted = await http.post(
                url,
                content=b"{}",
                headers=mcp_headers(host=f"attacker.example:{address.port}"),
            )
            assert posted.status_code == 421
            # The names of the bound loopback address, with its real port, are accepted.
            for host in (f"localhost:{address.port}", f"127.0.0.1:{address.port}"):
                ok = await http.get(address.url("/healthz"), headers={"host": host})
                assert ok.status_code == 200
            own = await http.get(
                address.url("/healthz"), headers={"origin": f"http://localhost:{address.port}"}
            )
            assert own.status_code == 200
            # The same name on another port is another origin.
            other = await http.get(
                address.url("/healthz"), headers={"host": f"localhost:{address.port + 1}"}
            )
            assert other.status_code == 421


async def test_allowed_origins_and_hosts_extend_the_lists() -> None:
    options = {"allowed_origins": ["http://localhost:6274/"], "allowed_hosts": ["mcp.internal:*"]}
    with trio.fail_after(30):
        async with running(**options) as address, httpx2.AsyncClient() as http:
            session = await open_session(http, address.url(), origin="http://localhost:6274")
            assert session
            by_name = await http.get(address.url("/healthz"), headers={"host": "mcp.internal:443"})
            assert by_name.status_code == 200
            other = await http.get(
                address.url("/healthz"), headers={"origin": "http://localhost:6275"}
            )
            assert other.status_code == 403


async def test_token_is_required_when_configured() -> None:
    token = "s3cret-t0ken"
    with trio.fail_after(30):
        async with running(token=token) as address, httpx2.AsyncClient() as http:
            url = address.url()
            for path in (url, address.url("/healthz"), address.url("/elsewhere")):
                missing = await http.get(path)
                assert missing.status_code == 401
                assert missing.headers["www-authenticate"] == 'Bearer realm="bpf-mcp"'
                assert token not in missing.text
            for wrong in (f"Bearer {token}x", f"Bearer {token[:-1]}", f"Basic {token}", "Bearer"):
                response = await http.post(
                    url, content=b"{}", headers=mcp_headers(authorization=wrong)
                )
                assert response.status_code == 401
                assert "invalid_token" in response.headers["www-authenticate"]
            healthy = await http.get(
                address.url("/healthz"), headers={"authorization": f"bearer {token}"}
            )
            assert healthy.status_code == 200

            authorized = httpx2.AsyncClient(headers={"authorization": f"Bearer {token}"})
            async with (
                authorized,
                Client(streamable_http_client(url, http_client=authorized), mode="legacy") as c,
            ):
                result = await c.call_tool("list_bpf_map_types", {"pattern": "ringbuf"})
                assert not result.is_error


async def test_oversized_body_is_rejected() -> None:
    with trio.fail_after(30):
        async with running(max_body_size=4096) as address, httpx2.AsyncClient() as http:
            url = address.url()
            session = await open_session(http, url)
            big = rpc("tools/call", {"name": "get_btf_types", "arguments": {"pattern": "x" * 5000}})
            declared = await http.post(url, json=big, headers=mcp_headers(session))
            assert declared.status_code == 413

            async def chunks() -> Any:
                for _ in range(8):
                    yield b" " * 1024

            streamed = await http.post(url, content=chunks(), headers=mcp_headers(session))
            assert streamed.status_code == 413
            # The session is still usable after both.
            ok = await http.post(url, json=rpc("tools/list", {}), headers=mcp_headers(session))
            assert ok.status_code == 200
            assert "list_tracepoints" in ok.text


async def test_delete_ends_a_session() -> None:
    with trio.fail_after(30):
        async with running() as address, httpx2.AsyncClient() as http:
            url = address.url()
            session = await open_session(http, url)
            listed = await http.post(url, json=rpc("tools/list", {}), headers=mcp_headers(session))
            assert listed.status_code == 200
            assert len(sse_messages(listed.text)[0]["result"]["tools"]) == len(TOOLS)
            deleted = await http.delete(url, headers=mcp_headers(session))
            assert deleted.status_code == 200
            after = await http.post(url, json=rpc("tools/list", {}), headers=mcp_headers(session))
            assert after.status_code == 404
            unknown = await http.post(
                url, json=rpc("tools/list", {}), headers=mcp_headers("0" * 32)
            )
            assert unknown.status_code == 404


async def test_healthz_reports_each_source() -> None:
    with trio.fail_after(30):
        async with running() as address, httpx2.AsyncClient() as http:
            url = address.url("/healthz")
            body: dict[str, Any] = {}
            # Sources load in the background; polling /healthz is what a probe does.
            while body.get("status") != "ready":
                response = await http.get(url)
                assert response.status_code == 200
                assert response.headers["content-type"] == "application/json"
                body = response.json()
                assert body["status"] in ("loading", "ready")
                await trio.sleep(0.05)
            sources = {s["source"]: s for s in body["sources"]}
            assert set(sources) == {s.value for s in Source}
            assert all(s["state"] == "ready" and s["failures"] == 0 for s in sources.values())
            head = await http.head(url)
            assert head.status_code == 200 and head.content == b""
            assert (await http.post(url, content=b"")).status_code == 405
            missing = await http.get(address.url("/nope"))
            assert missing.status_code == 404
            assert missing.json()["mcp_endpoint"] == "/mcp"


async def test_other_path_for_the_endpoint() -> None:
    with trio.fail_after(30):
        async with (
            running(path="/bpf/mcp") as address,
            Client(address.url("/bpf/mcp"), mode="legacy") as client,
        ):
            result = await client.call_tool("list_bpf_map_types", {"limit": 1})
            assert not result.is_error


async def test_non_loopback_needs_a_token_or_explicit_insecurity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with trio.fail_after(30):
        async with open_bpf_mcp(Config(sysroot=FIXTURES)) as handle:
            for host in ("0.0.0.0", "::", "192.0.2.1", "example.org"):
                with pytest.raises(ValueError, match="without a bearer token"):
                    await serve_http(handle, host=host, port=0)
        # Every interface, reached here over loopback only.
        async with (
            running(host="0.0.0.0", insecure_no_auth=True) as address,
            httpx2.AsyncClient() as http,
        ):
            response = await http.get(f"http://127.0.0.1:{address.port}/healthz")
            assert response.status_code == 200
        assert "WITHOUT AUTHENTICATION" in caplog.text
        async with (
            running(host="0.0.0.0", token="t") as address,
            httpx2.AsyncClient() as http,
        ):
            response = await http.get(f"http://127.0.0.1:{address.port}/healthz")
            assert response.status_code == 401


async def test_cancellation_ends_open_streams_at_once() -> None:
    """Stopping the server with a session's SSE GET stream open takes well under a second."""
    server_scope = trio.CancelScope()
    stream_open = trio.Event()
    stream_ended = trio.Event()
    stopped = trio.Event()

    async with (
        open_bpf_mcp(Config(sysroot=FIXTURES)) as handle,
        httpx2.AsyncClient(timeout=30) as http,
        trio.open_nursery() as nursery,
    ):

        async def serve(*, task_status: trio.TaskStatus[HttpAddress]) -> None:
            with server_scope:
                await serve_http(handle, host="127.0.0.1", port=0, task_status=task_status)
            stopped.set()

        async def listen(url: str, session: str) -> None:
            headers = {"accept": "text/event-stream", "mcp-session-id": session}
            headers["mcp-protocol-version"] = LEGACY_VERSION
            with suppress(httpx2.HTTPError):
                async with http.stream("GET", url, headers=headers) as response:
                    assert response.status_code == 200
                    stream_open.set()
                    async for _ in response.aiter_bytes():
                        pass
            stream_ended.set()

        with trio.fail_after(10):
            address: HttpAddress = await nursery.start(serve)
            session = await open_session(http, address.url())
            nursery.start_soon(listen, address.url(), session)
            await stream_open.wait()
        server_scope.cancel()
        with trio.fail_after(1):
            await stopped.wait()
            await stream_ended.wait()


def test_the_package_exports_the_http_transport() -> None:
    import bpf_mcp

    assert bpf_mcp.serve_http is serve_http
    assert bpf_mcp.HttpAddress is HttpAddress
    assert HttpAddress("::1", 8080).url() == "http://[::1]:8080/mcp"


async def test_a_mapped_port_works_with_the_token_and_says_why_without_it() -> None:
    # What a container's `-p 127.0.0.1:18404:1337` does: the client's Host names a port
    # the server did not bind.
    token = "s3cret-t0ken"
    with trio.fail_after(30):
        async with running(token=token) as address, httpx2.AsyncClient() as http:
            mapped = {"host": "127.0.0.1:18404"}
            refused = await http.get(address.url("/healthz"), headers=mapped)
            assert refused.status_code == 421
            assert "127.0.0.1:18404" in refused.json()["detail"]
            assert "--allow-host" in refused.json()["detail"]
            authorized = httpx2.AsyncClient(headers={"authorization": f"Bearer {token}", **mapped})
            async with (
                authorized,
                Client(streamable_http_client(address.url(), http_client=authorized)) as c,
            ):
                result = await c.call_tool("list_bpf_map_types", {"pattern": "ringbuf"})
                assert not result.is_error
