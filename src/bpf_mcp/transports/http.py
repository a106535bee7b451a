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

Nothing a client does holds the server's resources for ever: at most `max_connections`
connections are open at once (`accept.serve_capped`), headers must arrive within
hypercorn's keep-alive timeout, a body within `body_timeout` (408), a GET stream on which
nothing is sent is closed after `stream_idle_timeout`, and at most `max_sessions`
sessions are open: when a client opens one more, the least recently used idle session is
closed (`sessions.SessionTable`), and sessions idle for `session_idle_timeout` end.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import hypercorn.config
import mcp_types as types
import trio
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from ..api import BpfMcp
from ..convert import unstructure
from ..errors import BpfMcpError
from .accept import connection_limit, serve_capped
from .objects import ObjectAccess
from .policy import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_SESSIONS,
    DEFAULT_PATH,
    DEFAULT_SESSION_IDLE_TIMEOUT,
    BearerToken,
    Gate,
    HttpAddress,
    authority,
    check_allowed_hosts,
    hosts_allowed,
    is_loopback,
    origins_allowed,
)
from .protocol import body_rejection
from .server import build_server
from .sessions import SessionTable

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
BODY_TIMEOUT = 10.0
"""Seconds a request body may take to arrive, whole; then 408 and the connection closes."""
STREAM_IDLE_TIMEOUT = 300.0
"""Seconds a GET stream stays open with nothing sent on it (a client reopens it)."""
SESSION_HEADROOM = 16
"""Sessions the SDK may hold past `max_sessions` while new ones open at the same moment."""
_SESSION_HEADER = b"mcp-session-id"
_VERSION_HEADER = b"mcp-protocol-version"


async def _respond(
    send: Send,
    status: int,
    body: Any,
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    head_only: bool = False,
    more: bool = False,
) -> None:
    """Send a whole JSON response (`more`: all of it, but the response left open, to be
    ended by an empty last body message)."""
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
    await send(
        {"type": "http.response.body", "body": b"" if head_only else data, "more_body": more}
    )


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
    LATE = "late"
    """Not all there within the body timeout: answer 408 with connection: close."""


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


async def receive_body(
    receive: Receive, limit: int, deadline: float
) -> tuple[bytes | None, BodyEnd]:
    """The whole request body, or None when it is longer than `limit` bytes or did not
    arrive by `deadline` (trio's clock: LATE); and how reading ended. The rest of a body
    over the limit is dropped (`drop_body`), not kept."""
    kept = bytearray()
    more = True
    with trio.move_on_at(deadline):
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None, BodyEnd.GONE
            kept += message.get("body", b"")
            more = message.get("more_body", False)
            if len(kept) > limit:
                return None, await drop_body(receive, more=more)
        return bytes(kept), BodyEnd.COMPLETE
    return None, BodyEnd.LATE


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case), or None."""
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), None)


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    return int(value) if value is not None and value.strip().isdigit() else None


def _local(scope: Scope) -> str | None:
    """'address:port' the connection reached, as a Host header would write it."""
    server = scope.get("server")
    if not server or server[1] is None:
        return None
    return authority(str(server[0]), int(server[1]))


def _only_comments(body: bytes) -> bool:
    """Whether an SSE body holds nothing but comments (keep-alive pings)."""
    return all(not line or line.startswith(b":") for line in body.splitlines())


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


def _status_of(send: Send, status: list[int]) -> Send:
    """`send` that appends the response's status to `status`."""

    async def watching(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        await send(message)

    return watching


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
        *,
        body_timeout: float = BODY_TIMEOUT,
        stream_idle_timeout: float = STREAM_IDLE_TIMEOUT,
        sessions: SessionTable | None = None,
    ) -> None:
        self.handle = handle
        self.path = path
        self.token = token
        self.max_body_size = max_body_size
        self.body_timeout = body_timeout
        self.stream_idle_timeout = stream_idle_timeout
        self.sessions = sessions
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
                await self._to_session(scope, receive, send)
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
            local=_local(scope),
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
        SDK; 413 past `max_body_size` (at once when Content-Length says so), 408 when the
        body takes longer than `body_timeout`, 400 with the JSON-RPC error when it is not
        one JSON-RPC message."""
        length = _content_length(scope)
        if length is not None and length > self.max_body_size:
            await self._too_large(send, drop=receive)
            return
        deadline = trio.current_time() + self.body_timeout
        body, end = await receive_body(receive, self.max_body_size, deadline)
        if end is BodyEnd.GONE:
            return
        if end is BodyEnd.LATE:
            message = f"Invalid Request: the body did not arrive within {self.body_timeout:g} s"
            await _respond(
                closing_connection(send), 408, _json_rpc_error(types.INVALID_REQUEST, message)
            )
            return
        if body is None:
            await self._too_large(send if end is BodyEnd.COMPLETE else closing_connection(send))
            return
        error = body_rejection(body)
        if error is not None:
            await _respond(
                send, 400, error.model_dump(mode="json", by_alias=True, exclude_unset=True)
            )
            return
        await self._to_session(scope, _replaying(body, receive), send)

    async def _too_large(self, send: Send, *, drop: Receive | None = None) -> None:
        """Answer 413. With `drop`, at once, before the body: the answer is sent whole,
        the body then read and dropped as it comes (bounded, see `drop_body`), and only
        then is the response ended, because hypercorn closes a connection whose response
        ends before its request was read; so a connection whose body was read whole
        serves the next request, and one cut short closes after the client has the
        answer."""
        message = f"Invalid Request: the body is longer than {self.max_body_size} bytes"
        body = _json_rpc_error(types.INVALID_REQUEST, message)
        if drop is None:
            await _respond(send, 413, body)
            return
        await _respond(send, 413, body, more=True)
        await drop_body(drop)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _to_session(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand a request to the SDK, keeping the session table: a request that may open a
        session first makes room for it; a GET stream is closed when idle."""
        assert self.manager is not None
        table = self.sessions
        session = _header(scope, _SESSION_HEADER)
        if table is None or (session is None and not self._may_open_session(scope)):
            await self.manager.handle_request(scope, receive, send)
            return
        if session is None:
            for stale in table.to_close(trio.current_time()):
                await self._close_session(stale)
            if table.full():
                message = (
                    f"Too many open sessions: all {table.limit} are answering requests;"
                    " try again in a moment"
                )
                await _respond(send, 503, _json_rpc_error(types.INTERNAL_ERROR, message))
                return
            await self.manager.handle_request(scope, receive, self._noting_session(send))
            return
        listening = scope["method"] == "GET"
        status: list[int] = []
        table.began(session, trio.current_time(), listening=listening)
        try:
            if listening:
                await self._listen(scope, receive, send)
            else:
                await self.manager.handle_request(scope, receive, _status_of(send, status))
        finally:
            table.ended(session, trio.current_time(), listening=listening)
        if scope["method"] == "DELETE" and status and status[0] < 400:
            table.closed(session)

    @staticmethod
    def _may_open_session(scope: Scope) -> bool:
        """A POST without a session id in the handshake era (the 2026 era has none)."""
        version = _header(scope, _VERSION_HEADER)
        return scope["method"] == "POST" and (
            version is None or version in HANDSHAKE_PROTOCOL_VERSIONS
        )

    def _noting_session(self, send: Send) -> Send:
        """`send` that records the session a successful answer opens."""
        assert self.sessions is not None
        table = self.sessions

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                for key, value in message.get("headers", ()):
                    if key.lower() == _SESSION_HEADER:
                        table.opened(value.decode("latin-1"), trio.current_time())
            await send(message)

        return noting

    async def _close_session(self, session: str) -> None:
        """End `session` as its client's DELETE would, through the SDK."""
        assert self.manager is not None
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "DELETE",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(_SESSION_HEADER, session.encode("latin-1"))],
            "client": None,
            "server": None,
        }

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def ignore(message: Message) -> None:
            pass

        log.info("closing the least recently used idle session to make room")
        await self.manager.handle_request(scope, receive, ignore)

    async def _listen(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A GET stream, ended when `stream_idle_timeout` passes with nothing but
        keep-alive comments sent on it."""
        assert self.manager is not None
        response = {"started": False, "ended": False}
        with trio.CancelScope() as idle:
            idle.deadline = trio.current_time() + self.stream_idle_timeout

            async def sending(message: Message) -> None:
                if message["type"] != "http.response.body" or not _only_comments(
                    message.get("body", b"")
                ):
                    idle.deadline = trio.current_time() + self.stream_idle_timeout
                await send(message)
                if message["type"] == "http.response.start":
                    response["started"] = True
                elif not message.get("more_body", False):
                    response["ended"] = True

            await self.manager.handle_request(scope, receive, sending)
        if idle.cancelled_caught and response["started"] and not response["ended"]:
            # End the stream as a finished response, not a cut connection: the client
            # sees the stream end and may open another.
            await send({"type": "http.response.body", "body": b"", "more_body": False})

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
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    session_idle_timeout: float = DEFAULT_SESSION_IDLE_TIMEOUT,
    body_timeout: float = BODY_TIMEOUT,
    stream_idle_timeout: float = STREAM_IDLE_TIMEOUT,
    task_status: trio.TaskStatus[HttpAddress] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve MCP over Streamable HTTP at `http://host:port{path}` until cancelled.

    Reports the bound `HttpAddress` through `task_status.started` once connections are
    answered (port 0 picks a free port). Requests whose Host is not one of the bound
    address's names, the address the connection reached, or `allowed_hosts` get 421,
    unless they carry the valid bearer token; an Origin not among the server's own or
    `allowed_origins`, 403. With `token`, every request must carry `Authorization: Bearer
    <token>` or gets 401. `tools` offers only the named tools. Bodies over `max_body_size`
    bytes get 413 (at once when Content-Length says so), bodies slower than `body_timeout`
    seconds 408; a POST body that is not one JSON-RPC message gets 400 with the JSON-RPC
    error (-32700, -32600 or -32602) as over stdio. `/healthz` answers per-source status.

    At most `max_connections` connections are open at once (fewer when the descriptor
    limit leaves less room beside those kept for the readers), and at most `max_sessions`
    sessions: one more closes the least recently used idle session; a session ends after
    `session_idle_timeout` seconds without a request, a GET stream after
    `stream_idle_timeout` seconds with nothing sent.

    Raises ValueError, before binding, for a non-loopback `host` without `token` unless
    `insecure_no_auth`, or an `allowed_hosts` entry that is a wildcard; OSError when the
    address cannot be bound. Cancellation closes every session and open stream at once.
    """
    check_allowed_hosts(allowed_hosts)
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
    sessions = None if stateless else SessionTable(max_sessions, session_idle_timeout)
    app = _HttpApp(
        handle,
        path,
        bearer,
        max_body_size,
        body_timeout=body_timeout,
        stream_idle_timeout=stream_idle_timeout,
        sessions=sessions,
    )
    config = _hypercorn_config(host, port)
    limit = connection_limit(max_connections)
    started = False
    try:
        async with trio.open_nursery() as nursery:
            binds: list[str] = await nursery.start(
                partial(serve_capped, app, config, max_connections=limit)
            )
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
                session_idle_timeout=session_idle_timeout,
                max_sessions=max_sessions + SESSION_HEADROOM,
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
