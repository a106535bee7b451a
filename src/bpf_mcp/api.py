"""The embedding API: start bpf-mcp inside a caller's trio program and query it.

Each kernel is served by an engine of its own: a router and its supervised readers. The
local kernel's engine runs for the handle's whole life; a registered kernel's engine starts
on its first question and stops again when more than `max_loaded_kernels` are loaded and
it is the least recently used.
"""

from __future__ import annotations

import gc
import tempfile
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar, cast

import attrs
import trio

from .answers.compare import KernelSide, compare_kernels, side_by_side
from .config import LOCAL_KERNEL, Config, KernelSpec
from .errors import (
    BpfMcpError,
    NotFound,
    ServerClosed,
    SourceFailure,
    SourceLoadTimeout,
    SourceUnavailable,
)
from .index.indexes import release_freed_memory
from .kernels import KernelOptionError, facts_of, materialize, sources_of
from .messages import CurrentIndexes, Reply, Request, RouterMessage
from .queries import (
    CheckBpfObject,
    CheckBpftraceScript,
    CompareKernels,
    CompareTypeAcross,
    GetServerStatus,
    ListKernels,
    Query,
)
from .readers.base import Reader
from .readers.btf import BtfReader
from .readers.kallsyms import KallsymsReader
from .readers.loaded import LoadedReader
from .readers.pool import serve_reader_pool
from .readers.reference import ReferenceReader
from .readers.system import SystemReader
from .readers.tracefs import TracefsReader
from .results import (
    BpfObjectCheck,
    BpftraceCheck,
    KernelEntry,
    KernelList,
    KernelVerdict,
    ServerStatus,
)
from .router.actor import serve_router
from .sources import Source

INBOX_SIZE = 64

KernelFacts = tuple[str | None, str | None, dict[Source, str]]
"""A kernel's release, architecture, and the sources it lacks with why."""

R = TypeVar("R")


def default_readers() -> list[Reader]:
    """One reader per kernel source."""
    return [
        TracefsReader(),
        KallsymsReader(),
        BtfReader(),
        ReferenceReader(),
        SystemReader(),
        LoadedReader(),
    ]


@asynccontextmanager
async def open_engine(
    config: Config,
    readers: Sequence[Reader],
    absent: Mapping[Source, SourceFailure] | None = None,
) -> AsyncIterator[trio.MemorySendChannel[RouterMessage]]:
    """Start one kernel's router and supervised readers; yield the router's inbox.

    Leaving the context cancels every task it started.
    """
    inbox_send, inbox_receive = trio.open_memory_channel[RouterMessage](INBOX_SIZE)
    async with trio.open_nursery() as nursery:
        await nursery.start(
            partial(serve_router, absent=absent), config, inbox_receive, inbox_send.clone()
        )
        with inbox_send:
            await nursery.start(serve_reader_pool, list(readers), config, inbox_send.clone())
            try:
                yield inbox_send
            finally:
                nursery.cancel_scope.cancel()


class _Loaded:
    """A registered kernel's engine while it runs: its inbox, and the scope that stops it."""

    def __init__(self, inbox: trio.MemorySendChannel[RouterMessage], scope: trio.CancelScope):
        self.inbox = inbox
        self.scope = scope


class BpfMcp:
    """A handle on a running bpf-mcp: send it queries, ask it for source status.

    Obtained from `open_bpf_mcp`; valid only inside that context. Safe to use from many
    tasks at once; at most `config.max_in_flight` queries are in flight together, the rest
    wait their turn.
    """

    def __init__(
        self,
        config: Config,
        inbox: trio.MemorySendChannel[RouterMessage],
        nursery: trio.Nursery | None = None,
    ) -> None:
        self.config = config
        self._inbox = inbox
        self._nursery = nursery
        self._limiter = trio.CapacityLimiter(config.max_in_flight)
        self._specs = {spec.name: spec for spec in config.kernels}
        self._refused = dict(config.refused_kernels)
        self._loaded: OrderedDict[str, _Loaded] = OrderedDict()
        self._starting: dict[str, trio.Event] = {}
        self._facts: dict[
            str, tuple[int | None, tuple[str | None, str | None, dict[Source, str]]]
        ] = {}

    async def query(self, query: Query[R], kernel: str = LOCAL_KERNEL) -> R:
        """Answer one query (a value from `bpf_mcp.queries`) about `kernel` (the running
        one by default; `config.kernels` names the others) with its whole result value.

        Waits up to `config.load_wait` seconds for sources that are still loading (a
        registered kernel not in memory is loaded first). Raises the project's errors:
        InvalidArgument, NotFound (also for a kernel name nobody registered),
        SourceUnavailable (a source failed; the message names the fix), SourceLoadTimeout,
        ServerClosed. A bug in bpf-mcp raises the exception it caused, traceback included;
        nothing is logged here. Cancellation is safe: the router's late answer is dropped.
        """
        if isinstance(query, ListKernels):
            # It reads each snapshot's manifest (once): off the event loop.
            return cast(R, await trio.to_thread.run_sync(self.kernels))
        if isinstance(query, CompareKernels | CompareTypeAcross):
            return cast(R, await self._compare(query))
        if isinstance(query, CheckBpfObject | CheckBpftraceScript) and query.kernels:
            return cast(R, await self._check_across(query, kernel))
        inbox = await self._engine(kernel)
        async with self._limiter:
            reply_send, reply_receive = trio.open_memory_channel[Reply[R]](1)
            with reply_receive:
                try:
                    request: Request[R] = Request(query, reply_send)
                    await inbox.send(request)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    raise ServerClosed(
                        "bpf-mcp is shutting down; no query can be answered."
                    ) from None
                with trio.move_on_after(self.config.load_wait):
                    try:
                        reply = await reply_receive.receive()
                    except trio.EndOfChannel:
                        raise ServerClosed(
                            "bpf-mcp stopped before answering (it is shutting down, or"
                            f" kernel {kernel!r} was unloaded meanwhile)."
                        ) from None
                    if reply.error is not None:
                        raise reply.error
                    return cast(R, reply.result)
        raise SourceLoadTimeout(
            f"The sources this query needs were still loading after {self.config.load_wait:g} s;"
            " see get_server_status for their state, and try again."
        )

    async def status(self, kernel: str = LOCAL_KERNEL) -> ServerStatus:
        """The state of every source of `kernel` (never waits for loading)."""
        return await self.query(GetServerStatus(), kernel)

    def kernels(self) -> KernelList:
        """Every kernel this handle answers for, the local one first, then those registered
        (and those refused, with why)."""
        everything = tuple(s.value for s in Source)
        release, arch, _ = facts_of(self.config, None)
        entries = [
            KernelEntry(
                LOCAL_KERNEL, "local", str(self.config.sysroot), release, arch, True, everything
            )
        ]
        for spec in self._specs.values():
            error = None
            try:
                release, arch, missing = self._facts_of(spec)
            except (BpfMcpError, OSError) as exc:
                release, arch, missing, error = None, None, {}, str(exc)
            _, absent = sources_of(spec.name, spec.kind, missing)
            entries.append(
                KernelEntry(
                    spec.name,
                    spec.kind,
                    str(spec.path),
                    release,
                    arch,
                    spec.name in self._loaded,
                    tuple(s for s in everything if Source(s) not in absent),
                    error,
                )
            )
        for given, why in self.config.refused_kernels:
            entries.append(KernelEntry(given, "refused", "", None, None, False, (), why))
        return KernelList(tuple(entries), len(entries), self.config.max_loaded_kernels)

    def _facts_of(self, spec: KernelSpec) -> KernelFacts:
        """`facts_of` a registered kernel, read once per version of its file."""
        try:
            stamp = spec.path.stat().st_mtime_ns
        except OSError:
            stamp = None
        found = self._facts.get(spec.name)
        if found is None or found[0] != stamp:
            found = (stamp, facts_of(self.config, spec))
            self._facts[spec.name] = found
        return found[1]

    async def _check_across(
        self, query: CheckBpfObject | CheckBpftraceScript, kernel: str
    ) -> object:
        """The check on `kernel`, with the verdict of the same check on each of
        `query.kernels` (a kernel that cannot answer gets 'unknown' and why)."""
        single = attrs.evolve(query, kernels=())
        result: BpfObjectCheck | BpftraceCheck = await self.query(single, kernel)
        across = []
        for name in dict.fromkeys(query.kernels):
            if name == kernel:  # the check just made
                across.append(KernelVerdict(name, result.verdict, _first_reason(result)))
                continue
            try:
                other: BpfObjectCheck | BpftraceCheck = await self.query(single, name)
            except BpfMcpError as exc:
                across.append(KernelVerdict(name, "unknown", str(exc)))
                continue
            across.append(KernelVerdict(name, other.verdict, _first_reason(other)))
        return attrs.evolve(result, across=tuple(across))

    async def _compare(self, query: CompareKernels | CompareTypeAcross) -> object:
        """A comparison over several kernels' indexes, computed in a worker thread."""
        names = (query.a, query.b) if isinstance(query, CompareKernels) else query.kernels
        indexes = [await self.query(CurrentIndexes(), name) for name in names]
        if isinstance(query, CompareKernels):
            a, b = (KernelSide.of(n, i) for n, i in zip(names, indexes, strict=True))
            return await trio.to_thread.run_sync(
                partial(
                    compare_kernels,
                    a,
                    b,
                    query.what,
                    query.pattern,
                    kind=query.kind,
                    change=query.change,
                    offset=query.offset,
                    limit=query.limit,
                )
            )
        columns = []
        for name, index in zip(names, indexes, strict=True):
            if index.btf is None:
                raise SourceUnavailable(f"Kernel {name!r} has no BTF loaded.")
            columns.append((name, index.btf))
        return await trio.to_thread.run_sync(
            partial(
                side_by_side,
                query.name,
                columns,
                kind=query.kind,
                only_differences=query.only_differences,
                offset=query.offset,
                limit=query.limit,
            )
        )

    async def _engine(self, kernel: str) -> trio.MemorySendChannel[RouterMessage]:
        """The inbox of `kernel`'s router, starting its engine if it is not running."""
        if kernel == LOCAL_KERNEL:
            return self._inbox
        spec = self._specs.get(kernel)
        if spec is None and kernel in self._refused:
            raise NotFound(f"Kernel {kernel!r} was refused: {self._refused[kernel]}")
        if spec is None:
            names = ", ".join([LOCAL_KERNEL, *self._specs])
            raise NotFound(f"No kernel is named {kernel[:80]!r}; list_kernels names them: {names}.")
        while True:
            loaded = self._loaded.get(kernel)
            if loaded is not None:
                self._loaded.move_to_end(kernel)
                return loaded.inbox
            starting = self._starting.get(kernel)
            if starting is None:
                break
            await starting.wait()  # another task is starting it: use what it starts
        if self._nursery is None:
            raise ServerClosed("this handle serves no registered kernel")
        done = self._starting[kernel] = trio.Event()
        try:
            started: _Loaded = await self._nursery.start(self._serve_kernel, spec)
        finally:
            del self._starting[kernel]
            done.set()
        self._loaded[kernel] = started
        while len(self._loaded) > self.config.max_loaded_kernels:
            _, oldest = self._loaded.popitem(last=False)
            oldest.scope.cancel()
        return started.inbox

    async def _serve_kernel(
        self, spec: KernelSpec, *, task_status: trio.TaskStatus[_Loaded]
    ) -> None:
        """Run `spec`'s engine until it is evicted or the handle closes; its scratch
        directory (a BTF file's sysroot) is removed when it stops."""
        with tempfile.TemporaryDirectory(prefix=f"bpf-mcp-{spec.name}-") as scratch:
            try:
                sysroot = await trio.to_thread.run_sync(materialize, spec, Path(scratch))
                _, _, missing = await trio.to_thread.run_sync(facts_of, self.config, spec)
            except (KernelOptionError, OSError) as exc:
                raise NotFound(f"Kernel {spec.name!r} cannot be read: {exc}") from None
            config = attrs.evolve(self.config, sysroot=sysroot, kernels=(), refused_kernels=())
            readers, absent = sources_of(spec.name, spec.kind, missing)
            try:
                with trio.CancelScope() as scope:
                    async with open_engine(config, readers, absent) as inbox:
                        task_status.started(_Loaded(inbox, scope))
                        await trio.sleep_forever()
            finally:
                # An unloaded kernel's indexes are garbage now: free them at once (they
                # hold reference cycles through their engine's tasks) and hand the heap
                # back, or each load would add its size to the process for good.
                gc.collect()
                release_freed_memory()


def _first_reason(check: BpfObjectCheck | BpftraceCheck) -> str | None:
    """The first reason a check's verdict is not 'yes', as one line."""
    if check.verdict == "yes":
        return None
    if isinstance(check, BpftraceCheck):
        texts = [r for p in check.probes if p.verdict != "yes" for r in p.reasons]
        return texts[0] if texts else None
    reasons = [*check.reasons, *(r for p in check.programs for r in p.reasons)]
    first = next((r for r in reasons if r.verdict == check.verdict), None)
    return f"{first.element}: {first.fact} ({first.source})" if first else None


@asynccontextmanager
async def open_bpf_mcp(
    config: Config | None = None, *, readers: Sequence[Reader] | None = None
) -> AsyncIterator[BpfMcp]:
    """Start the local kernel's router and supervised readers; yield a handle; stop
    everything on exit.

    Sources load in the background: the handle is usable at once, and queries wait for
    the sources they need. Registered kernels (`config.kernels`) load on their first
    question. Leaving the context cancels every task it started. Never writes to stdout,
    installs signal handlers or configures logging.
    """
    config = config or Config()
    async with trio.open_nursery() as nursery:
        chosen = list(readers) if readers is not None else default_readers()
        async with open_engine(config, chosen) as inbox:
            try:
                yield BpfMcp(config, inbox, nursery)
            finally:
                nursery.cancel_scope.cancel()
