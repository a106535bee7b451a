"""MCP over stdio on trio-native streams.

The SDK's default stdin reader is a thread that cannot be cancelled, and it cancels
requests in flight when stdin closes. Here stdin and stdout are read and written through
`trio.lowlevel.FdStream` (or worker threads for regular files, which cannot be polled), so
cancellation is prompt; and at end of input the reader waits until every request it has
passed on is answered, so `cat requests | bpf-mcp` gets every answer.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import stat
from contextlib import AsyncExitStack, contextmanager, suppress
from typing import Any, cast

import anyio
import trio
from mcp.server.stdio import stdio_server

from ..api import BpfMcp
from .mcp_app import build_server

log = logging.getLogger(__name__)

MAX_LINE = 16 * 1024 * 1024
"""Longest input line accepted; a longer one is dropped and answered as a parse error."""
OVERSIZED_LINE = '{"oversized": '
"""Stands in for a dropped line: invalid JSON, so the client gets a parse error."""
DRAIN_TIMEOUT = 30.0
_READ = 65536


def _is_regular(fd: int) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)


class _Pending:
    """Ids of requests read but not yet answered."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.empty = trio.Event()
        self.empty.set()

    def add(self, key: str) -> None:
        self.ids.add(key)
        if self.empty.is_set():
            self.empty = trio.Event()

    def discard(self, key: str) -> None:
        self.ids.discard(key)
        if not self.ids:
            self.empty.set()


def _id_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _note_incoming(pending: _Pending, line: str) -> None:
    try:
        message = json.loads(line)
    except ValueError:
        return
    if not isinstance(message, dict):
        return
    method = message.get("method")
    if "id" in message and isinstance(method, str):
        pending.add(_id_key(message["id"]))
    elif method == "notifications/cancelled":
        params = message.get("params")
        if isinstance(params, dict) and "requestId" in params:
            pending.discard(_id_key(params["requestId"]))


_PREFIX = '{"jsonrpc":"2.0","id":'
_DECODER = json.JSONDecoder()


def _note_outgoing(pending: _Pending, line: str) -> None:
    if not line.startswith(_PREFIX):
        return
    try:
        value, _ = _DECODER.raw_decode(line, len(_PREFIX))
    except ValueError:
        return
    pending.discard(_id_key(value))


class _LineSource:
    """Async iterator of input lines (str) from a file descriptor."""

    def __init__(self, fd: int, pending: _Pending, drain_timeout: float) -> None:
        self.fd = fd
        self.pending = pending
        self.drain_timeout = drain_timeout
        self.regular = _is_regular(fd)
        self.stream = None if self.regular else trio.lowlevel.FdStream(fd)
        self.buffer = bytearray()
        self.eof = False
        self.skipping = False

    async def _receive(self) -> bytes:
        if self.stream is None:
            return await trio.to_thread.run_sync(os.read, self.fd, _READ, abandon_on_cancel=True)
        return await self.stream.receive_some(_READ)

    def __aiter__(self) -> _LineSource:
        return self

    async def __anext__(self) -> str:
        while True:
            newline = self.buffer.find(b"\n")
            if newline >= 0:
                raw = bytes(self.buffer[:newline])
                del self.buffer[: newline + 1]
                if self.skipping:
                    self.skipping = False
                    return OVERSIZED_LINE
                line = raw.decode("utf-8", errors="replace")
                if not line.strip():
                    continue
                _note_incoming(self.pending, line)
                return line
            if self.eof:
                if self.buffer and not self.skipping:
                    line = self.buffer.decode("utf-8", errors="replace")
                    self.buffer.clear()
                    if line.strip():
                        _note_incoming(self.pending, line)
                        return line
                with trio.move_on_after(self.drain_timeout):
                    await self.pending.empty.wait()
                raise StopAsyncIteration
            if len(self.buffer) > MAX_LINE:
                log.warning("dropped an input line longer than %d bytes", MAX_LINE)
                self.buffer.clear()
                self.skipping = True
            data = await self._receive()
            if not data:
                self.eof = True
            elif self.skipping:
                newline = data.find(b"\n")
                if newline >= 0:
                    self.buffer += data[newline:]
            else:
                self.buffer += data


class _LineSink:
    """The `write`/`flush` surface the SDK's stdio writer uses, on a file descriptor."""

    def __init__(self, fd: int, pending: _Pending) -> None:
        self.fd = fd
        self.pending = pending
        self.stream = None if _is_regular(fd) else trio.lowlevel.FdStream(fd)

    async def write(self, text: str) -> None:
        data = text.encode("utf-8")
        if self.stream is None:
            await trio.to_thread.run_sync(_write_all, self.fd, data)
        else:
            await self.stream.send_all(data)
        _note_outgoing(self.pending, text)

    async def flush(self) -> None:
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@contextmanager
def _claim_stdio(stdin_fd: int, stdout_fd: int) -> Any:
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
    handle: BpfMcp, input_fd: int, output_fd: int, *, drain_timeout: float = DRAIN_TIMEOUT
) -> None:
    """Serve MCP on two file descriptors (owned and closed by this function) until end of
    input, after answering every request read. Cancellation stops at once."""
    pending = _Pending()
    server = build_server(handle)
    source = _LineSource(input_fd, pending, drain_timeout)
    sink = _LineSink(output_fd, pending)
    async with AsyncExitStack() as stack:
        for s in (source.stream, sink.stream):
            if s is not None:
                await stack.enter_async_context(s)
        if source.stream is None:
            stack.callback(os.close, input_fd)
        if sink.stream is None:
            stack.callback(os.close, output_fd)
        async with stdio_server(
            stdin=cast(anyio.AsyncFile[str], source), stdout=cast(anyio.AsyncFile[str], sink)
        ) as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())


async def serve_stdio(handle: BpfMcp, *, drain_timeout: float = DRAIN_TIMEOUT) -> None:
    """Serve MCP over this process's stdin and stdout until stdin ends or cancellation.

    While serving, fd 0 reads /dev/null and fd 1 writes to stderr, so nothing but protocol
    messages reaches the real stdout; both are restored on return.
    """
    with _claim_stdio(0, 1) as (input_fd, output_fd):
        await serve_stdio_fds(handle, input_fd, output_fd, drain_timeout=drain_timeout)
