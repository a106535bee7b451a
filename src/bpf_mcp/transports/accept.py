"""Hypercorn's trio worker with a bound on open connections.

`hypercorn.trio.serve` accepts every connection it is offered: about 20,000 idle clients
took every descriptor the process had, so the kernel sources could no longer be read and
`accept` failed in a loop, logging a traceback each time. This serves an ASGI app with
hypercorn's own connection handling (`TCPServer`), but accepts a connection only while
fewer than `max_connections` are open: past that, new clients wait in the listen backlog
until one closes, and descriptors stay free for the rest of the server. An `accept` that
fails for want of descriptors or memory is logged once per burst, without a traceback, and
retried after a pause.
"""

from __future__ import annotations

import errno
import logging
import resource
from collections.abc import Awaitable, Callable
from functools import partial
from typing import cast

import hypercorn.config
import trio
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ASGIFramework, ConnectionState
from hypercorn.utils import repr_socket_addr, wrap_app
from starlette.types import ASGIApp

log = logging.getLogger(__name__)

RESERVED_DESCRIPTORS = 256
"""Descriptors never given to connections: the readers' files and directories (a walk
under a sysroot holds one per path component), worker threads, logs, the listen sockets."""
_CAPACITY_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})
_RETRY_AFTER = 0.1


def connection_limit(requested: int) -> int:
    """`requested`, or less when the process's descriptor limit leaves less room beside
    RESERVED_DESCRIPTORS (at least 1). Logs a warning when it lowers the number."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return requested
    room = max(1, soft - RESERVED_DESCRIPTORS)
    if requested > room:
        log.warning(
            "--max-connections %d lowered to %d: the descriptor limit is %d and %d are kept"
            " for reading the kernel's files (raise it with ulimit -n)",
            requested,
            room,
            soft,
            RESERVED_DESCRIPTORS,
        )
        return room
    return requested


async def serve_capped(
    app: ASGIApp,
    config: hypercorn.config.Config,
    *,
    max_connections: int,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve `app` on `config.bind` until cancelled, at most `max_connections` connections
    at once; reports the bound URLs (`http://host:port`) once listening. Raises OSError
    when an address cannot be bound. The app's lifespan is not run (it has none)."""
    wrapped = wrap_app(cast(ASGIFramework, app), config.wsgi_max_body_size, "asgi")
    context = WorkerContext(None)
    sockets = config.create_sockets()
    listeners = []
    binds = []
    for sock in sockets.insecure_sockets:
        sock.listen(config.backlog)
        listeners.append(trio.SocketListener(trio.socket.from_stdlib_socket(sock)))
        binds.append(f"http://{repr_socket_addr(sock.family, sock.getsockname())}")
    slots = trio.Semaphore(max_connections)
    handler = partial(TCPServer, wrapped, config, context)
    try:
        async with trio.open_nursery() as nursery:

            async def serve_one(stream: trio.SocketStream) -> None:
                # Typed for TLS streams, TCPServer takes plain ones too (hypercorn's own
                # serve hands it those).
                tls = cast("trio.SSLStream[trio.SocketStream]", stream)
                try:
                    await handler(ConnectionState({}), tls)
                finally:
                    # Closed even when cancelled (hypercorn's own close is a checkpoint
                    # first), so stopping the server ends every connection at once.
                    await trio.aclose_forcefully(stream)
                    slots.release()

            for listener in listeners:
                nursery.start_soon(_accept, listener, slots, serve_one, nursery)
            task_status.started(binds)
            await trio.sleep_forever()
    finally:
        await context.terminated.set()


async def _accept(
    listener: trio.SocketListener,
    slots: trio.Semaphore,
    serve_one: Callable[[trio.SocketStream], Awaitable[None]],
    nursery: trio.Nursery,
) -> None:
    complained = False
    async with listener:
        while True:
            await slots.acquire()
            try:
                stream = await listener.accept()
            except OSError as exc:
                slots.release()
                if exc.errno not in _CAPACITY_ERRNOS:
                    raise
                if not complained:
                    log.warning("accepting a connection failed (%s); retrying", exc.strerror)
                    complained = True
                await trio.sleep(_RETRY_AFTER)
                continue
            complained = False
            nursery.start_soon(serve_one, stream)
