"""Protocol abuse over Streamable HTTP: bad bodies get 4xx with the JSON-RPC error the
specification asks for (never a 5xx or a traceback), and the session still answers."""

from __future__ import annotations

import json
from typing import Any

import h11
import httpx2
import pytest
import trio

from bpf_mcp.transports.http import HttpAddress
from tests.transports.support import mcp_headers, open_session, rpc, running

PARSE, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602

BODIES: list[Any] = [
    pytest.param(b"garbage", 400, PARSE, None, id="garbage"),
    pytest.param(b'{"jsonrpc":"2.0","id":1,', 400, PARSE, None, id="truncated-json"),
    pytest.param(b"\xff\xfe{}", 400, PARSE, None, id="invalid-utf8"),
    pytest.param(b"[" * 100_000, 400, PARSE, None, id="deep-nesting"),
    pytest.param(
        b'{"jsonrpc":"2.0","id":7,"method":"tools/call",'
        b'"params":{"name":"get_btf_types","arguments":{"kind":"\\ud800"}}}',
        400,
        PARSE,
        None,
        id="lone-surrogate",
    ),
    pytest.param(
        json.dumps(rpc("no/such/method", id=3)).encode(), 200, METHOD_NOT_FOUND, 3, id="method"
    ),
    pytest.param(
        b'{"jsonrpc":"2.0","method":"notifications/initialized","params":[1]}',
        400,
        INVALID_REQUEST,
        None,
        id="bad-notification",
    ),
    pytest.param(
        json.dumps([rpc("ping")]).encode(),
        400,
        INVALID_REQUEST,
        None,
        id="array",
    ),
    pytest.param(b"42", 400, INVALID_REQUEST, None, id="number"),
    pytest.param(
        b'{"jsonrpc":"1.0","id":4,"method":"ping"}',
        400,
        INVALID_REQUEST,
        4,
        id="jsonrpc-1.0",
    ),
    pytest.param(
        b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
        400,
        INVALID_REQUEST,
        None,
        id="fractional-id",
    ),
    pytest.param(
        b'{"jsonrpc":"2.0","id":6,"method":"tools/call","params":[1]}',
        400,
        INVALID_PARAMS,
        6,
        id="params-array",
    ),
]


def _messages(body: str) -> list[dict[str, Any]]:
    if body.lstrip().startswith("{"):
        return [json.loads(body)]
    return [
        json.loads(line[len("data:") :])
        for line in body.splitlines()
        if line.startswith("data:") and line[len("data:") :].strip()
    ]


@pytest.mark.slow
@pytest.mark.parametrize(("body", "status", "code", "request_id"), BODIES)
async def test_bad_bodies_get_json_rpc_errors(
    body: bytes, status: int, code: int, request_id: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with running() as address, httpx2.AsyncClient(timeout=30) as client:
        url = address.url()
        session = await open_session(client, url)
        response = await client.post(url, content=body, headers=mcp_headers(session))
        assert response.status_code == status, response.text[:300]
        (message,) = _messages(response.text)
        assert message["jsonrpc"] == "2.0" and message["id"] == request_id, message
        assert message["error"]["code"] == code, message
        assert len(message["error"]["message"]) < 300, message  # a sentence, not a dump
        ping = await client.post(url, json=rpc("ping", id=99), headers=mcp_headers(session))
        assert _messages(ping.text) == [{"jsonrpc": "2.0", "id": 99, "result": {}}]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


@pytest.mark.slow
async def test_transport_level_abuse_gets_4xx_and_the_server_keeps_answering(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running() as address, httpx2.AsyncClient(timeout=30) as client:
        url = address.url()
        session = await open_session(client, url)
        headers = mcp_headers(session)
        oversized = b'{"x":"' + b"a" * (2 << 20) + b'"}'
        checks = [
            (await client.post(url, content=oversized, headers=headers), 413),
            (await client.post(url, json=rpc("tools/list"), headers=mcp_headers()), 400),
            (await client.post(url, json=rpc("tools/list"), headers=mcp_headers("nope")), 404),
            (
                await client.post(
                    url, content=b"{}", headers={**headers, "content-type": "text/plain"}
                ),
                400,
            ),
            (await client.put(url, content=b"{}", headers=headers), 405),
            (await client.delete(url, headers=mcp_headers("nope")), 404),
            (await client.get(url, headers={"accept": "text/event-stream"}), 400),
        ]
        for response, status in checks:
            assert response.status_code == status, (response.request.method, response.text)
        for n in range(2):  # duplicate ids in one session: each answered, nothing breaks
            reply = await client.post(url, json=rpc("ping", id=5), headers=headers)
            assert _messages(reply.text) == [{"jsonrpc": "2.0", "id": 5, "result": {}}], n
        call = rpc("tools/call", {"name": "list_tracepoints", "arguments": {"limit": 0}}, id=6)
        reply = await client.post(url, json=call, headers=headers)
        (message,) = _messages(reply.text)
        assert message["result"]["isError"] and "limit" in message["result"]["content"][0]["text"]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


class _Connection:
    """One HTTP/1.1 keep-alive connection (h11), one request at a time, sending the whole
    body before reading the answer, as most clients do."""

    def __init__(self, stream: trio.SocketStream, address: HttpAddress) -> None:
        self.stream = stream
        self.host = f"{address.host}:{address.port}"
        self.h11 = h11.Connection(h11.CLIENT)

    async def request(
        self, target: str, headers: dict[str, str], body: bytes, *, chunked: bool = False
    ) -> tuple[int, bytes]:
        framing = (
            ("transfer-encoding", "chunked") if chunked else ("content-length", str(len(body)))
        )
        head = [("host", self.host), *headers.items(), framing]
        await self.stream.send_all(
            self.h11.send(h11.Request(method="POST", target=target, headers=head))
        )
        for start in range(0, len(body), 1 << 16):
            await self.stream.send_all(
                self.h11.send(h11.Data(data=body[start : start + (1 << 16)]))
            )
        await self.stream.send_all(self.h11.send(h11.EndOfMessage()))
        status, payload = 0, b""
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                self.h11.receive_data(await self.stream.receive_some(1 << 16))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                payload += event.data
            elif isinstance(event, h11.EndOfMessage):
                self.h11.start_next_cycle()  # raises when the server meant to close
                return status, payload
            else:
                raise AssertionError(f"the server closed the connection: {event!r}")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "extra", "chunked", "status"),
    [
        pytest.param("/mcp", {}, False, 413, id="too-large"),
        pytest.param("/mcp", {}, True, 413, id="too-large-chunked"),
        pytest.param("/mcp", {"authorization": "Bearer wrong"}, False, 401, id="bad-token"),
        pytest.param("/mcp", {"origin": "http://evil.example"}, False, 403, id="bad-origin"),
        pytest.param("/elsewhere", {}, False, 404, id="no-such-path"),
    ],
)
async def test_a_refused_body_is_read_so_the_answer_arrives_on_a_live_connection(
    target: str, extra: dict[str, str], chunked: bool, status: int
) -> None:
    """Hypercorn closes a connection whose request body was not read, and a socket closed
    with unread input is reset: a client still sending its body lost the answer (the flaky
    "Server disconnected without sending a response" on the 2 MiB POST)."""
    token = {"authorization": "Bearer s3cret"}
    with trio.fail_after(30):
        async with running(token="s3cret") as address, httpx2.AsyncClient(headers=token) as http:
            session = await open_session(http, address.url())
            headers = {**mcp_headers(session), **token}
            oversized = b'{"x":"' + b"a" * (2 << 20) + b'"}'
            stream = await trio.open_tcp_stream(address.host, address.port)
            async with stream:
                connection = _Connection(stream, address)
                refused, _ = await connection.request(
                    target, {**headers, **extra}, oversized, chunked=chunked
                )
                assert refused == status
                ping = json.dumps(rpc("ping", id=8)).encode()
                answered, payload = await connection.request("/mcp", headers, ping)
                assert answered == 200, payload
                assert _messages(payload.decode()) == [{"jsonrpc": "2.0", "id": 8, "result": {}}]
