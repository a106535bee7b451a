"""MCP over Streamable HTTP, served by hypercorn inside the caller's trio program.

One ASGI application answers three things: the MCP endpoint (the SDK's session manager,
talking to the same router as every other transport), `/healthz` (per-source status as
JSON, no MCP), and 404 for anything else. In front of all of them stand the DNS-rebinding
check (Host and Origin against explicit lists built from the bound address) and, when a
token is configured, a bearer-token check in constant time.

A POST body is read whole here, answered 413 past the size limit and 400 with the JSON-RPC
error when it is not one JSON-RPC message (`protocol.body_rejection`), and only then given
to the SDK. Whatever is answered without the SDK reading the body first reads and drops
the body (up to `MAX_DRAIN` bytes): hypercorn closes a connection whose request was not
read to the end, and closing a socket with unread input resets it, so a client still
sending would lose the answer.

The session manager runs in our own nursery rather than in an ASGI lifespan, so cancelling
`serve_http` ends open SSE streams at once instead of after hypercorn's graceful timeout.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import hypercorn.config
import hypercorn.trio
import mcp_types as types
import trio
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from ..api import BpfMcp
from ..convert import unstructure
from ..errors import BpfMcpError
from .objects import ObjectAccess
from .policy import (
    DEFAULT_PATH,
    BearerToken,
    Gate,
    HttpAddress,
    authority,
    hosts_allowed,
    is_loopback,
    origins_allowed,
)
from .protocol import body_rejection
from .server import build_server

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1337
HEALTH_PATH = "/healthz"
MAX_BODY_SIZE = 1024 * 1024
"""Largest request body accepted (bytes); a larger one is answered 413 before parsing.
Tool arguments are a few hundred bytes, so this is generous."""
MAX_DRAIN = 16 * 1024 * 1024
"""Bytes of a request body read and dropped, past what was kept, before answering without
it (413, 401, 404, ...). A longer body is answered with `connection: close` instead."""
DRAIN_TIMEOUT = 5.0
"""Seconds spent dropping such a body before answering anyway, with `connection: close`."""
HEALTH_TIMEOUT = 5.0


async def _respond(
    send: Send,
    status: int,
    body: Any,
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    head_only: bool = False,
) -> None:
    data = json.dumps(body, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head_only else data})


def _json_rpc_error(code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}


class BodyEnd(enum.Enum):
    """How reading a request body stopped."""

    COMPLETE = "complete"
    """Read to its end: the connection can serve the next request."""
    CUT = "cut"
    """Abandoned past `MAX_DRAIN` bytes or `DRAIN_TIMEOUT`: answer with connection: close."""
    GONE = "gone"
    """The client disconnected: nobody to answer."""


async def drop_body(receive: Receive, *, more: bool = True) -> BodyEnd:
    """Read and drop what is left of a request body (`more`: something is), up to about
    `MAX_DRAIN` bytes and for at most `DRAIN_TIMEOUT` seconds."""
    dropped = 0
    with trio.move_on_after(DRAIN_TIMEOUT):
        while more:
            if dropped > MAX_DRAIN:
                return BodyEnd.CUT
            message = await receive()
            if message["type"] != "http.request":
                return BodyEnd.GONE
            dropped += len(message.get("body", b""))
            more = message.get("more_body", False)
        return BodyEnd.COMPLETE
    return BodyEnd.CUT


async def receive_body(receive: Receive, limit: int) -> tuple[bytes | None, BodyEnd]:
    """The whole request body, or None when it is longer than `limit` bytes; and how
    reading ended. The rest of a body over the limit is dropped (`drop_body`), not kept."""
    kept = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None, BodyEnd.GONE
        kept += message.get("body", b"")
        more = message.get("more_body", False)
        if len(kept) > limit:
            return None, await drop_body(receive, more=more)
    return bytes(kept), BodyEnd.COMPLETE


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` giving `body`, already read, as the whole request body, then whatever
    `receive` gives (the disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def closing_connection(send: Send) -> Send:
    """`send` with `connection: close` added to the response head, for a connection whose
    request was not read to its end (hypercorn closes it after the response)."""

    async def closing_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", ()), (b"connection", b"close")]
            message = {**message, "headers": headers}
        await send(message)

    return closing_send


def _overall(states: Iterable[str]) -> str:
    states = set(states)
    if "failed" in states:
        return "degraded"
    if "loading" in states:
        return "loading"
    return "ready"


class _HttpApp:
    """The ASGI application: security checks, then the MCP endpoint or `/healthz`."""

    def __init__(
        self,
        handle: BpfMcp,
        path: str,
        token: BearerToken | None,
        max_body_size: int,
    ) -> None:
        self.handle = handle
        self.path = path
        self.token = token
        self.max_body_size = max_body_size
        self.manager: StreamableHTTPSessionManager | None = None
        self.gate: Gate | None = None
        self.ready = trio.Event()

    def start(self, manager: StreamableHTTPSessionManager, gate: Gate) -> None:
        self.manager = manager
        self.gate = gate
        self.ready.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        # Hypercorn accepts connections as soon as the socket is bound; the allowed Hosts
        # depend on the port it got, so a request that arrives first waits for them.
        await self.ready.wait()
        assert self.manager is not None
        refusal = await self._refusal(scope)
        if refusal is None and scope["path"] == self.path:
            if scope["method"] == "POST":
                await self._post(scope, receive, send)
            else:
                await self.manager.handle_request(scope, receive, send)
            return
        # Answered without reading the body: read it first, or the answer may be lost.
        end = await drop_body(receive)
        if end is BodyEnd.GONE:
            return
        if end is BodyEnd.CUT:
            send = closing_connection(send)
        if refusal is not None:
            await refusal(scope, receive, send)
        elif scope["path"] == HEALTH_PATH:
            await self._health(scope, send)
        else:
            await _respond(send, 404, {"error": "not found", "mcp_endpoint": self.path})

    async def _refusal(self, scope: Scope) -> Response | None:
        """The answer refusing a request for its Host (421), Origin (403), bearer token
        (401) or Content-Type (400, POSTs to the MCP endpoint); None to serve it."""
        assert self.gate is not None
        headers = Request(scope).headers
        refused = self.gate.refusal(
            host=headers.get("host"),
            origin=headers.get("origin"),
            authorization=headers.get("authorization"),
        )
        if refused is not None:
            return JSONResponse(refused.body, refused.status, dict(refused.headers))
        if scope["method"] == "POST" and scope["path"] == self.path:
            content_type = headers.get("content-type", "")
            if not content_type.lower().startswith("application/json"):
                return JSONResponse(
                    {"error": "bad request", "detail": "Content-Type must be application/json"},
                    400,
                )
        return None

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A POST to the MCP endpoint: the body read whole and checked, then given to the
        SDK; 413 past `max_body_size`, 400 with the JSON-RPC error when it is not one
        JSON-RPC message."""
        assert self.manager is not None
        body, end = await receive_body(receive, self.max_body_size)
        if end is BodyEnd.GONE:
            return
        if body is None:
            message = f"Invalid Request: the body is longer than {self.max_body_size} bytes"
            await _respond(
                send if end is BodyEnd.COMPLETE else closing_connection(send),
                413,
                _json_rpc_error(types.INVALID_REQUEST, message),
            )
            return
        error = body_rejection(body)
        if error is not None:
            await _respond(
                send, 400, error.model_dump(mode="json", by_alias=True, exclude_unset=True)
            )
            return
        await self.manager.handle_request(scope, _replaying(body, receive), send)

    async def _health(self, scope: Scope, send: Send) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, {"error": "method not allowed"}, [(b"allow", b"GET, HEAD")])
            return
        status: Any = None
        with trio.move_on_after(HEALTH_TIMEOUT):
            try:
                status = await self.handle.status()
            except BpfMcpError as exc:
                await _respond(send, 503, {"status": "stopping", "detail": str(exc)})
                return
        if status is None:
            await _respond(send, 503, {"status": "unresponsive", "detail": "no status in time"})
            return
        body = unstructure(status)
        body = {"status": _overall(s["state"] for s in body["sources"]), **body}
        await _respond(send, 200, body, head_only=method == "HEAD")

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        # Nothing to start or stop here: the session manager lives in serve_http's nursery.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def _hypercorn_config(host: str, port: int) -> hypercorn.config.Config:
    config = hypercorn.config.Config()
    config.bind = [authority(host, port)]
    # Hypercorn's own loggers, given as objects so it installs no handlers: records reach
    # whatever the embedding program configured (the CLI: stderr). The access log is only
    # formatted when someone listens at INFO.
    access = logging.getLogger("hypercorn.access")
    config.accesslog = access if access.isEnabledFor(logging.INFO) else None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.graceful_timeout = 0.5
    return config


def _bind_error(group: BaseExceptionGroup[BaseException]) -> OSError | None:
    """The OSError inside hypercorn's nested nurseries when that is all that failed."""
    matched, rest = group.split(OSError)
    while rest is None and matched is not None:
        first = matched.exceptions[0]
        if isinstance(first, OSError):
            return first
        matched = first if isinstance(first, BaseExceptionGroup) else None
    return None


def _bound_address(binds: Sequence[str]) -> HttpAddress:
    authority = binds[0].partition("://")[2]
    host, _, port = authority.rpartition(":")
    return HttpAddress(host.strip("[]"), int(port))


async def serve_http(
    handle: BpfMcp,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    path: str = DEFAULT_PATH,
    allowed_origins: Sequence[str] = (),
    allowed_hosts: Sequence[str] = (),
    token: str | None = None,
    insecure_no_auth: bool = False,
    stateless: bool = False,
    json_response: bool = False,
    max_body_size: int = MAX_BODY_SIZE,
    tools: Sequence[str] | None = None,
    task_status: trio.TaskStatus[HttpAddress] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve MCP over Streamable HTTP at `http://host:port{path}` until cancelled.

    Reports the bound `HttpAddress` through `task_status.started` once connections are
    answered (port 0 picks a free port). Requests whose Host is not one of the bound
    address's names (or `allowed_hosts`) get 421, unless they carry the valid bearer token;
    an Origin not among the server's own or `allowed_origins`, 403. With `token`, every
    request must carry `Authorization: Bearer <token>` or gets 401. `tools` offers only the
    named tools. Bodies over `max_body_size` bytes get 413; a POST body that is not one
    JSON-RPC message gets 400 with the JSON-RPC error (-32700, -32600 or -32602) as over
    stdio. `/healthz` answers
    per-source status as JSON.

    Raises ValueError, before binding, for a non-loopback `host` without `token` unless
    `insecure_no_auth`; OSError when the address cannot be bound. Cancellation closes every
    session and open stream at once.
    """
    bearer = BearerToken(token) if token is not None else None
    if bearer is None and not is_loopback(host):
        if not insecure_no_auth:
            raise ValueError(
                f"refusing to serve on non-loopback address {host!r} without a bearer token"
                " (give one, or explicitly allow unauthenticated access)"
            )
        log.warning(
            "SERVING WITHOUT AUTHENTICATION on %s: anyone who can reach it can query this"
            " kernel's BPF facilities",
            host,
        )
    app = _HttpApp(handle, path, bearer, max_body_size)
    config = _hypercorn_config(host, port)
    started = False
    try:
        async with trio.open_nursery() as nursery:
            binds: list[str] = await nursery.start(hypercorn.trio.serve, app, config)
            started = True
            bound = _bound_address(binds)
            hosts = hosts_allowed(host, bound, allowed_hosts)
            gate = Gate(tuple(hosts), tuple(origins_allowed(hosts, allowed_origins)), bearer)
            # The gate has checked Host and Origin before the SDK sees a request.
            settings = TransportSecuritySettings(enable_dns_rebinding_protection=False)
            manager = StreamableHTTPSessionManager(
                build_server(
                    handle, tools=tools, objects=ObjectAccess(dirs=handle.config.object_dirs)
                ),
                json_response=json_response,
                stateless=stateless,
                security_settings=settings,
                max_request_body_size=max_body_size,
            )
            async with manager.run():
                app.start(manager, gate)
                log.info("serving MCP on %s", bound.url(path))
                task_status.started(bound)
                await trio.sleep_forever()
    except BaseExceptionGroup as group:
        # A bind failure arrives wrapped in hypercorn's nurseries and ours: raise it bare.
        bind_error = None if started else _bind_error(group)
        if bind_error is None:
            raise
        raise bind_error from None


__all__ = ["HttpAddress", "hosts_allowed", "is_loopback", "origins_allowed", "serve_http"]
