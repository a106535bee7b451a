"""MCP over stdio on trio-native streams, with JSON-RPC framing checked here.

The SDK's own stdio transport reads stdin in a thread that cannot be cancelled, cancels
requests in flight when stdin closes, and silently drops every line it cannot validate
(a client that sends `"id": 1.5` waits forever). This transport instead:

- reads and writes through `trio.lowlevel.FdStream` (worker threads for regular files,
  which cannot be polled), so cancellation is prompt;
- answers every line that is not an MCP message with the JSON-RPC error the specification
  asks for (`classify_line`): -32700 with id null for a parse error, -32600 for an invalid
  request (including a JSON array: batches are gone from MCP), -32602 for params that are
  not an object, and -32600 for a request reusing the id of one still in flight;
- stops reading while `max_pending` requests are unanswered, so a client that floods the
  pipe meets back-pressure rather than an unbounded pile of tasks;
- at end of input answers every request it has passed on before it stops, so
  `cat requests | bpf-mcp` gets every answer.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import AsyncExitStack, aclosing, contextmanager, suppress
from functools import partial

import anyio
import mcp_types as types
import trio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.dispatcher import as_request_id, coerce_request_id
from mcp.shared.message import SessionMessage

from ..api import BpfMcp
from .objects import ObjectAccess
from .protocol import Rejection, classify_line, encode_message, reject
from .server import build_server

log = logging.getLogger(__name__)

MAX_LINE = 16 * 1024 * 1024
"""Longest input line accepted; a longer one is dropped and answered as a parse error."""
MAX_PENDING = 256
"""Requests read but not yet answered past which reading pauses (back-pressure)."""
DRAIN_TIMEOUT = 30.0
"""At end of input, how long to wait for the answers still owed before stopping."""
OVERSIZED_LINE = "(input line longer than MAX_LINE)"
"""Stands in for a dropped line: not JSON, so the client gets a parse error."""
_READ = 65536

RequestKey = int | str


class _Pending:
    """Requests passed to the server and not yet answered, by id."""

    def __init__(self) -> None:
        self.keys: set[RequestKey] = set()
        self.changed = trio.Event()

    def __len__(self) -> int:
        return len(self.keys)

    def admit(
        self, message: types.JSONRPCRequest | types.JSONRPCNotification
    ) -> types.JSONRPCRequest | types.JSONRPCNotification | Rejection:
        """Note a request as owed an answer (or reject it if its id is in flight), and
        forget a request the client cancelled (the server never answers those)."""
        if isinstance(message, types.JSONRPCRequest):
            key = coerce_request_id(message.id)
            if key in self.keys:
                return reject(
                    message.id,
                    types.INVALID_REQUEST,
                    f"Invalid Request: id {message.id!r} is already used by a request in flight",
                )
            self.keys.add(key)
            self._wake()
        elif message.method == "notifications/cancelled":
            cancelled = as_request_id((message.params or {}).get("requestId"))
            if cancelled is not None:
                self.discard(coerce_request_id(cancelled))
        return message

    def discard(self, key: RequestKey) -> None:
        if key in self.keys:
            self.keys.discard(key)
            self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = trio.Event()

    async def wait_below(self, bound: int) -> None:
        while len(self.keys) >= bound:
            await self.changed.wait()


def _is_regular(fd: int) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)


class _Input:
    """The input file descriptor, read in pieces."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.stream = None if _is_regular(fd) else trio.lowlevel.FdStream(fd)

    async def receive(self) -> bytes:
        """The next bytes; b"" at end of input."""
        if self.stream is None:
            return await trio.to_thread.run_sync(os.read, self.fd, _READ, abandon_on_cancel=True)
        return await self.stream.receive_some(_READ)

    async def lines(self) -> AsyncGenerator[str, None]:
        """Non-blank input lines without their newline. A line longer than MAX_LINE is
        skipped and stands as one line that is not JSON (so it is answered -32700)."""
        buffer = bytearray()
        scanned = 0
        skipping = False
        while True:
            newline = buffer.find(b"\n", scanned)
            if newline < 0:
                scanned = len(buffer)
                if scanned > MAX_LINE:
                    log.warning("dropped an input line longer than %d bytes", MAX_LINE)
                    buffer.clear()
                    scanned = 0
                    skipping = True
                data = await self.receive()
                if not data:
                    break
                buffer += data
                continue
            raw = bytes(buffer[:newline])
            del buffer[: newline + 1]
            scanned = 0
            if skipping:
                skipping = False
                yield OVERSIZED_LINE
            elif raw.strip():
                yield raw.decode("utf-8", errors="replace")
        if skipping:
            yield OVERSIZED_LINE
        elif buffer.strip():
            yield buffer.decode("utf-8", errors="replace")


class _Output:
    """Writes whole lines to a file descriptor, one writer at a time."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.stream = None if _is_regular(fd) else trio.lowlevel.FdStream(fd)
        self.lock = trio.Lock()

    async def write(self, data: bytes) -> None:
        async with self.lock:
            if self.stream is None:
                await trio.to_thread.run_sync(_write_all, self.fd, data)
            else:
                await self.stream.send_all(data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


async def _read_loop(
    source: _Input,
    out: _Output,
    pending: _Pending,
    to_server: MemoryObjectSendStream[SessionMessage | Exception],
    *,
    max_pending: int,
    drain_timeout: float,
) -> None:
    async with to_server, aclosing(source.lines()) as lines:
        async for line in lines:
            await pending.wait_below(max_pending)
            message = classify_line(line)
            if isinstance(message, types.JSONRPCRequest | types.JSONRPCNotification):
                message = pending.admit(message)
            match message:
                case None:
                    log.debug("dropped a malformed notification or response")
                case Rejection(error):
                    await out.write(encode_message(error))
                case _:
                    await to_server.send(SessionMessage(message))
        with trio.move_on_after(drain_timeout) as scope:
            await pending.wait_below(1)
        if scope.cancelled_caught:
            log.warning("input ended with %d request(s) still unanswered", len(pending))


async def _write_loop(
    out: _Output,
    pending: _Pending,
    from_server: MemoryObjectReceiveStream[SessionMessage],
) -> None:
    async with from_server:
        async for session_message in from_server:
            message = session_message.message
            if isinstance(message, types.JSONRPCResponse | types.JSONRPCError) and (
                message.id is not None
            ):
                pending.discard(coerce_request_id(message.id))
            await out.write(encode_message(message))


@contextmanager
def _claim_stdio(stdin_fd: int, stdout_fd: int) -> Iterator[tuple[int, int]]:
    """Private duplicates of stdin/stdout for the protocol; fd 1 is pointed at stderr so
    stray prints cannot corrupt the protocol stream, and fd 0 at /dev/null. Restores all,
    including the O_NONBLOCK flags, on exit."""
    in_flags = fcntl.fcntl(stdin_fd, fcntl.F_GETFL)
    out_flags = fcntl.fcntl(stdout_fd, fcntl.F_GETFL)
    private_in = os.dup(stdin_fd)
    private_out = os.dup(stdout_fd)
    saved_in = os.dup(stdin_fd)
    saved_out = os.dup(stdout_fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(devnull, stdin_fd)
        os.dup2(2, stdout_fd)
        yield private_in, private_out
    finally:
        os.dup2(saved_in, stdin_fd)
        os.dup2(saved_out, stdout_fd)
        for fd in (saved_in, saved_out, devnull):
            os.close(fd)
        for fd, flags in ((stdin_fd, in_flags), (stdout_fd, out_flags)):
            with suppress(OSError):
                fcntl.fcntl(fd, fcntl.F_SETFL, flags)


async def serve_stdio_fds(
    handle: BpfMcp,
    input_fd: int,
    output_fd: int,
    *,
    drain_timeout: float = DRAIN_TIMEOUT,
    max_pending: int = MAX_PENDING,
    tools: Sequence[str] | None = None,
) -> None:
    """Serve MCP on two file descriptors (owned and closed by this function) until end of
    input, after answering every request read (waiting at most `drain_timeout` seconds for
    the last answers). `tools` offers only the named tools. Cancellation stops at once."""
    # The caller is the local user who started the server: any readable object file.
    server = build_server(handle, tools=tools, objects=ObjectAccess(anywhere=True))
    pending = _Pending()
    source = _Input(input_fd)
    out = _Output(output_fd)
    to_server, server_in = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    server_out, from_server = anyio.create_memory_object_stream[SessionMessage](0)
    async with AsyncExitStack() as stack:
        for fd, s in ((input_fd, source.stream), (output_fd, out.stream)):
            if s is None:
                stack.callback(os.close, fd)
            else:
                await stack.enter_async_context(s)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_write_loop, out, pending, from_server)
            nursery.start_soon(
                partial(
                    _read_loop,
                    source,
                    out,
                    pending,
                    to_server,
                    max_pending=max_pending,
                    drain_timeout=drain_timeout,
                )
            )
            await server.run(server_in, server_out, server.create_initialization_options())


async def serve_stdio(
    handle: BpfMcp, *, drain_timeout: float = DRAIN_TIMEOUT, tools: Sequence[str] | None = None
) -> None:
    """Serve MCP over this process's stdin and stdout until stdin ends or cancellation.

    While serving, fd 0 reads /dev/null and fd 1 writes to stderr, so nothing but protocol
    messages reaches the real stdout; both are restored on return.
    """
    with _claim_stdio(0, 1) as (input_fd, output_fd):
        await serve_stdio_fds(handle, input_fd, output_fd, drain_timeout=drain_timeout, tools=tools)
