"""What a hostile or careless HTTP client can no longer hold: a body that never ends (408),
a Content-Length over the limit (413 at once), idle GET streams, connections past
--max-connections, sessions past --max-sessions (the least recently used idle one is
closed, new clients are never locked out). Real servers on 127.0.0.1; every wait bounded."""

from __future__ import annotations

import re
from typing import Any, cast

import httpx2
import pytest
import trio

from bpf_mcp.api import BpfMcp
from bpf_mcp.transports.http import serve_http
from bpf_mcp.transports.policy import check_allowed_hosts

from .support import mcp_headers, open_session, rpc, running

LYING = "content-type: application/json\r\naccept: application/json, text/event-stream\r\n"


async def _raw(address: Any, head: str, body: bytes = b"") -> trio.SocketStream:
    """A connection to the server with `head` (request line and headers, no blank line)
    and `body` sent."""
    stream = await trio.open_tcp_stream(address.host, address.port)
    host = f"host: {address.host}:{address.port}\r\n"
    await stream.send_all(head.replace("\r\n", "\r\n" + host, 1).encode() + b"\r\n" + body)
    return stream


async def _status(stream: trio.SocketStream) -> int | None:
    """The status of the first response on `stream`, or None when it closes first."""
    got = b""
    while b"\r\n" not in got:
        chunk = await stream.receive_some(4096)
        if not chunk:
            return None
        got += chunk
    found = re.match(rb"HTTP/1\.1 (\d+)", got)
    return int(found.group(1)) if found else None


async def test_a_body_that_never_arrives_gets_408() -> None:
    async with running(body_timeout=0.3) as address:
        head = f"POST /mcp HTTP/1.1\r\n{LYING}content-length: 100\r\n"
        stream = await _raw(address, head, b'{"jsonrpc"')
        with trio.fail_after(20):
            assert await _status(stream) == 408
            while await stream.receive_some(4096):
                pass  # and the server closes the connection
        await stream.aclose()


async def test_a_body_trickled_a_byte_at_a_time_gets_408() -> None:
    async with running(body_timeout=0.5) as address:
        stream = await _raw(address, f"POST /mcp HTTP/1.1\r\n{LYING}content-length: 1000\r\n")
        status: int | None = None
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:

                async def drip() -> None:
                    with trio.move_on_after(15):
                        while True:
                            await stream.send_all(b" ")
                            await trio.sleep(0.05)

                nursery.start_soon(drip)
                status = await _status(stream)
                nursery.cancel_scope.cancel()
        assert status == 408
        await stream.aclose()


async def test_a_content_length_over_the_limit_is_refused_before_the_body() -> None:
    async with running(max_body_size=1000) as address:
        head = f"POST /mcp HTTP/1.1\r\n{LYING}content-length: {64 << 20}\r\n"
        stream = await _raw(address, head)  # the body is never sent
        with trio.fail_after(4):  # well before the 5 s a dropped body may take
            assert await _status(stream) == 413
        await stream.aclose()


async def test_an_idle_get_stream_is_closed() -> None:
    async with running(stream_idle_timeout=0.3) as address, httpx2.AsyncClient() as http:
        session = await open_session(http, address.url())
        headers = {**mcp_headers(session), "accept": "text/event-stream"}
        with trio.fail_after(20):
            async with http.stream("GET", address.url(), headers=headers) as response:
                assert response.status_code == 200
                async for _ in response.aiter_bytes():
                    pass  # ends when the server closes the idle stream


async def test_connections_past_the_limit_wait_for_a_free_one() -> None:
    async with running(max_connections=3, body_timeout=60) as address:
        head = f"POST /mcp HTTP/1.1\r\n{LYING}content-length: 100\r\n"
        held = [await _raw(address, head, b"{") for _ in range(3)]
        waiting = await _raw(address, "GET /healthz HTTP/1.1\r\n")
        answered: list[int | None] = []
        async with trio.open_nursery() as nursery:

            async def read() -> None:
                answered.append(await _status(waiting))

            nursery.start_soon(read)
            # Not answered while three connections are open (a server without the limit
            # answers at once).
            await trio.sleep(0.5)
            assert answered == []
            await held.pop().aclose()
            with trio.fail_after(20):
                while not answered:  # noqa: ASYNC110 (the reader appends; polled here)
                    await trio.sleep(0.01)
        assert answered == [200]
        for stream in [*held, waiting]:
            await stream.aclose()


async def _ping(http: httpx2.AsyncClient, url: str, session: str) -> int:
    response = await http.post(url, json=rpc("ping", id=5), headers=mcp_headers(session))
    return response.status_code


async def test_a_new_session_closes_the_least_recently_used_idle_one() -> None:
    async with running(max_sessions=3) as address, httpx2.AsyncClient(timeout=20) as http:
        url = address.url()
        first, second, third = [await open_session(http, url) for _ in range(3)]
        assert await _ping(http, url, first) == 200  # second is now the least recently used
        fourth = await open_session(http, url)
        assert await _ping(http, url, second) == 404
        for session in (first, third, fourth):
            assert await _ping(http, url, session) == 200
        # Never locked out: many more clients, each served, the table never grows.
        for _ in range(10):
            newest = await open_session(http, url)
            assert await _ping(http, url, newest) == 200


async def test_a_listening_session_is_idle_and_may_be_closed() -> None:
    """A GET stream only listens: a session whose client only listens (or is gone) gives
    way to a new client, and its stream ends."""
    async with running(max_sessions=1) as address, httpx2.AsyncClient(timeout=20) as http:
        url = address.url()
        listener = await open_session(http, url)
        headers = {**mcp_headers(listener), "accept": "text/event-stream"}
        ended = trio.Event()
        async with trio.open_nursery() as nursery:

            async def listen(task_status: trio.TaskStatus[None]) -> None:
                async with http.stream("GET", url, headers=headers) as response:
                    task_status.started()
                    async for _ in response.aiter_bytes():
                        pass
                ended.set()

            await nursery.start(listen)
            newcomer = await open_session(http, url)
            with trio.fail_after(20):
                await ended.wait()
        assert await _ping(http, url, newcomer) == 200
        assert await _ping(http, url, listener) == 404


async def test_a_session_ends_after_its_idle_timeout() -> None:
    async with (
        running(session_idle_timeout=0.2) as address,
        httpx2.AsyncClient(timeout=20) as http,
    ):
        session = await open_session(http, address.url())
        # Each ping is a request and restarts the countdown: wait longer each time.
        status = None
        for pause in (0.5, 1, 2, 4, 8):
            await trio.sleep(pause)
            status = await _ping(http, address.url(), session)
            if status == 404:
                break
        assert status == 404


@pytest.mark.parametrize("entry", ["*", "*:*", "*.example.com", ":*", "a*b:80"])
def test_a_wildcard_host_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="no wildcard"):
        check_allowed_hosts([entry])


@pytest.mark.parametrize("entry", ["myhost:*", "myhost:8080", "10.0.0.5:1337", "[::1]:*"])
def test_host_names_and_any_port_are_allowed(entry: str) -> None:
    check_allowed_hosts([entry])


async def test_serve_http_refuses_a_wildcard_host_before_binding() -> None:
    with pytest.raises(ValueError, match="no wildcard"):
        # Refused before the handle is used or anything bound.
        await serve_http(cast(BpfMcp, None), port=0, allowed_hosts=["*"])
