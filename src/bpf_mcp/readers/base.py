"""What every reader shares: the load/refresh loop, file reads off the event loop, and
turning OS errors into failures a person can act on."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

import attrs
import trio

from ..config import Config
from ..errors import SourceError, SourceFailure
from ..messages import Chunk, Complete, RouterMessage
from ..sources import Source
from .sysroot import Directory, OutsideSysroot, open_beneath, stat_beneath

P = ParamSpec("P")
T = TypeVar("T")

MAX_FILE_BYTES = 64 * 1024 * 1024
"""No kernel file we read is near this; past it the file is treated as corrupt."""

Emit = Callable[[Any], Awaitable[None]]


@attrs.frozen
class Loaded:
    """What a load reports when it has emitted all its chunks."""

    origin: str
    summary: str


class Reader(Protocol):
    """One kernel source's reader: a cheap signature, and a load that emits chunks."""

    source: Source

    async def signature(self, config: Config) -> Hashable:
        """A value that changes when the source's data may have changed; cheap."""
        ...

    async def load(self, config: Config, emit: Emit) -> Loaded:
        """Read the source, emit its chunks, and say where it was read."""
        ...


@attrs.define
class ReadGate:
    """The worker threads of one reader, across all its attempts: at most one at a time,
    and the path it opened last (to name in a timeout).

    An abandoned thread keeps its token until its read returns, so a read stuck on a hung
    file system blocks only its own source's next attempt (which then times out too): it
    cannot pile up threads, nor starve other sources or the transports of trio's shared
    thread limiter.
    """

    limiter: trio.CapacityLimiter = attrs.Factory(lambda: trio.CapacityLimiter(1))
    path: Path | None = None


_GATE: ContextVar[ReadGate | None] = ContextVar("bpf_mcp_read_gate", default=None)


@contextmanager
def reader_threads(gate: ReadGate | None = None) -> Iterator[ReadGate]:
    """Make `in_thread` in this task (and tasks it starts) use `gate`, a new one if None."""
    gate = gate or ReadGate()
    token = _GATE.set(gate)
    try:
        yield gate
    finally:
        _GATE.reset(token)


async def in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking `fn` in a worker thread; on cancellation the thread is abandoned.

    Inside `reader_threads` the thread is one of that reader's (see ReadGate); waiting for
    a previous, still blocked thread is cancellable like the run itself.
    """
    gate = _GATE.get()
    return await trio.to_thread.run_sync(
        lambda: fn(*args, **kwargs),
        abandon_on_cancel=True,
        limiter=gate.limiter if gate is not None else None,
    )


class UnsuitableFile(OSError):
    """A path that opens but cannot be a kernel file: not a regular file, or far too big.
    Its `strerror` says which."""


TRANSIENT_ERRNOS = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS, errno.EAGAIN, errno.EINTR}
)
"""Errors of the moment, not of the file: out of descriptors or memory, interrupted."""
OUTSIDE_FIX = (
    "replace the link with the file itself (or a link inside the sysroot), or serve the"
    " tree the link points into with --sysroot"
)
IO_FIX = (
    "check that this path holds the kernel's own file (is --sysroot the right root?) and"
    " that its file system is healthy; bpf-mcp keeps retrying"
)


def failure_from_os_error(
    source: Source,
    path: Path,
    exc: OSError,
    *,
    fix_missing: str,
    fix_permission: str,
    fix_other: str = IO_FIX,
) -> SourceFailure:
    """A SourceFailure naming why `path` could not be read and what to do."""
    shown = str(path)
    if isinstance(exc, OutsideSysroot):
        return SourceFailure(source.value, shown, "outside-sysroot", str(exc.strerror), OUTSIDE_FIX)
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
        return SourceFailure(source.value, shown, "missing", "the file does not exist", fix_missing)
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        return SourceFailure(source.value, shown, "permission", "permission denied", fix_permission)
    if isinstance(exc, UnsuitableFile):
        reason = exc.strerror
    else:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
    transient = exc.errno in TRANSIENT_ERRNOS
    return SourceFailure(
        source.value, shown, "io", f"read failed ({reason})", fix_other, transient=transient
    )


def _check_regular(fd: int) -> None:
    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
    if not stat.S_ISREG(mode):
        raise UnsuitableFile(
            errno.EINVAL, f"it is not a regular file but mode {stat.filemode(mode)}"
        )


def _reading(path: Path) -> None:
    """Note `path` as the file this reader's thread is at, to name if it gets stuck."""
    gate = _GATE.get()
    if gate is not None:
        gate.path = path


def stat_path(path: Path, *, root: Path) -> os.stat_result:
    """The status of `path`, resolved inside the sysroot `root` (see
    sysroot.stat_beneath); a stuck call is named like a stuck read."""
    _reading(path)
    return stat_beneath(root, path)


def open_regular(path: Path, *, root: Path | Directory) -> int:
    """A blocking read-only descriptor of `path`, which must be a regular file resolving
    inside the sysroot `root` or the sysroot of the open Directory `root` (see
    sysroot.open_beneath; `/` for files of the server's own).

    The open itself does not wait (O_NONBLOCK), so a FIFO or device put where a kernel file
    belongs is refused at once rather than hanging a worker thread. Raises OSError: the
    open's own error, OutsideSysroot, IsADirectoryError, or UnsuitableFile for any other
    non-regular file.
    """
    _reading(path)
    fd = open_beneath(root, path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        _check_regular(fd)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def too_large(limit: int) -> UnsuitableFile:
    """The error for a file past the size bound of its kind."""
    return UnsuitableFile(
        errno.EFBIG, f"it is larger than {limit} bytes, more than any kernel file of its kind"
    )


_READ_SIZE = 65536  # per os.read when the file's size is unknown (procfs, tracefs say 0)


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES, *, root: Path | Directory) -> bytes:
    """The whole content of the regular file `path`, resolved inside `root` (blocking).
    Raises OSError as open_regular does, and UnsuitableFile past `limit` bytes.

    Reads with os.read in pieces sized from the file's stated size, so a small file costs
    a small buffer (a buffered read of `limit` would allocate all of it every time).
    """
    fd = open_regular(path, root=root)
    try:
        piece = max(os.fstat(fd).st_size + 1, _READ_SIZE)
        parts = []
        size = 0
        while size <= limit and (chunk := os.read(fd, min(piece, limit + 1 - size))):
            parts.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise too_large(limit)
    return parts[0] if len(parts) == 1 else b"".join(parts)


CORRUPT_FIX = (
    "if --sysroot points at a captured tree, capture it again; on a live kernel, report it"
    " to bpf-mcp with the file attached (it may be a format bpf-mcp does not know yet)"
)


def corrupt(source: Source, path: Path, detail: str, fix: str = CORRUPT_FIX) -> SourceError:
    """The error for content that exists but cannot be understood."""
    return SourceError(SourceFailure(source.value, str(path), "corrupt", detail, fix))


TIMEOUT_FIX = (
    "check that the file system holding it responds (a hung network or FUSE mount, a"
    " failing disk); bpf-mcp leaves the stuck read behind, starts no second one while it"
    " is stuck, and retries with backoff"
)


@attrs.define
class Seen:
    """What a reader's last signature check saw: the signature, or the failure of the
    check (as `failure_key`). The supervisor compares it across a backoff wait to retry
    at once when the source changed."""

    last: Hashable = None


def failure_key(exc: Exception) -> Hashable:
    """What stands for a failed signature check: equal for the same failure."""
    if isinstance(exc, SourceError):
        return ("failed", exc.failure.cause, exc.failure.path, exc.failure.detail)
    return ("failed", type(exc).__name__)


async def check(reader: Reader, config: Config, seen: Seen) -> Hashable:
    """The reader's signature, bounded by `read_timeout`; recorded in `seen`, and so is
    its failure (which is then raised)."""
    gate = _GATE.get() or ReadGate()
    try:
        seen.last = await _bounded(reader, config, gate, reader.signature(config))
    except Exception as exc:
        seen.last = failure_key(exc)
        raise
    return seen.last


async def run_reader(
    reader: Reader,
    config: Config,
    send: trio.MemorySendChannel[RouterMessage],
    on_loaded: Callable[[], None],
    seen: Seen | None = None,
) -> None:
    """Load the source, then re-check its signature every `refresh_interval` and reload
    when it changes. Runs until cancelled; raises the reader's error when a load fails.

    Each signature check and each load is bounded by `config.read_timeout`; running past
    it abandons the blocked read and raises SourceError with cause "timeout", naming the
    file being read. Worker threads go through the caller's `reader_threads` gate (a new
    one when there is none), so a supervisor that keeps one gate across restarts never
    runs two of a source's reads at once. Each check's outcome is recorded in `seen`.
    """
    seen = seen or Seen()
    with reader_threads(_GATE.get()) as gate:
        generation = 0
        last: Hashable = object()
        while True:
            current = await check(reader, config, seen)
            if current != last:
                generation += 1
                this = generation

                async def emit(payload: Any, this: int = this) -> None:
                    await send.send(Chunk(reader.source, this, payload))

                loaded = await _bounded(reader, config, gate, reader.load(config, emit))
                await send.send(Complete(reader.source, this, loaded.origin, loaded.summary))
                last = current
                on_loaded()
            await trio.sleep(config.refresh_interval)


async def wait_for_change(reader: Reader, config: Config, seen: Seen, delay: float) -> bool:
    """Sleep `delay` seconds, re-checking the signature every `refresh_interval` meanwhile:
    return True as soon as a check sees other than `seen` held at the start (the file came
    back, or was replaced), False when the delay ran out. The backoff delays retries of an
    unchanged source; a changed one is retried within one refresh interval."""
    before = seen.last
    with trio.move_on_after(delay):
        while True:
            await trio.sleep(config.refresh_interval)
            with suppress(Exception):
                await check(reader, config, seen)
            if seen.last != before:
                return True
    return False


async def _bounded(reader: Reader, config: Config, gate: ReadGate, work: Awaitable[T]) -> T:
    if not gate.limiter.borrowed_tokens:
        gate.path = None  # else a stuck read's path stays, to be named again
    with trio.move_on_after(config.read_timeout) as scope:
        return await work
    assert scope.cancelled_caught
    where = gate.path if gate.path is not None else config.sysroot
    stuck = " (that read is still blocked)" if gate.limiter.borrowed_tokens else ""
    raise SourceError(
        SourceFailure(
            reader.source.value,
            str(where),
            "timeout",
            f"reading took longer than {config.read_timeout:g} s{stuck}",
            TIMEOUT_FIX,
            transient=True,
        )
    )
