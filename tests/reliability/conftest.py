"""A small kernel tree per test, the faults that can be done to each of its sources, reader
doubles that wrap the real readers, and tool calls over every tool in TOOLS."""

from __future__ import annotations

import base64
import json
import os
import shutil
import threading
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from bpf_mcp.api import BpfMcp, default_readers
from bpf_mcp.config import Backoff, Config
from bpf_mcp.convert import structure_arguments
from bpf_mcp.readers.base import Emit, Loaded, Reader
from bpf_mcp.readers.reference import ReferenceReader, default_path
from bpf_mcp.sources import Source
from bpf_mcp.tools import TOOLS, TOOLS_BY_NAME
from bpf_mcp.transports.server import call_tool

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "linux-6.18"
SMALL_BTF = REPO / "fixtures" / "btf" / "kinds.btf"

EVENTS = [
    ("sched", "sched_switch"),
    ("sched", "sched_wakeup"),
    ("syscalls", "sys_enter_openat"),
    ("syscalls", "sys_exit_openat"),
    ("block", "block_rq_issue"),
]
KALLSYMS_LINES = 3000

FAULT_SOURCES = (Source.TRACEFS, Source.KALLSYMS, Source.BTF, Source.REFERENCE)
"""The sources these tests break: each has a file of its own under the small kernel."""

FAST_BACKOFF = Backoff(initial=0.02, factor=2.0, cap=0.05, jitter=0.2, max_failures=1000)
SLOW_BACKOFF = Backoff(initial=0.5, factor=2.0, cap=30.0, jitter=0.2, max_failures=5, recheck=60)


@attrs.frozen
class SmallKernel:
    """A sysroot holding a few real tracepoints, the first lines of the captured kallsyms,
    a small BTF blob and a copy of the reference data: quick to load, easy to break."""

    root: Path

    @classmethod
    def build(cls, root: Path) -> SmallKernel:
        tracing = root / "sys/kernel/tracing"
        for category, event in EVENTS:
            source = FIXTURE / "sys/kernel/tracing/events" / category / event / "format"
            target = tracing / "events" / category / event / "format"
            target.parent.mkdir(parents=True)
            shutil.copyfile(source, target)
        (tracing / "available_events").write_text("".join(f"{c}:{e}\n" for c, e in EVENTS))
        (root / "proc/sys/kernel/random").mkdir(parents=True)
        (root / "proc/sys/kernel/random/boot_id").write_text("small-kernel\n")
        (root / "proc/sys/kernel/bpf_stats_enabled").write_text("0\n")
        with (FIXTURE / "proc/kallsyms").open() as f:
            head = [next(f) for _ in range(KALLSYMS_LINES)]
        (root / "proc/kallsyms").write_text("".join(head))
        (root / "sys/kernel/btf").mkdir(parents=True)
        shutil.copyfile(SMALL_BTF, root / "sys/kernel/btf/vmlinux")
        (root / "reference").mkdir()
        shutil.copyfile(default_path(), root / "reference/data.json")
        return cls(root)

    def path(self, source: Source) -> Path:
        """The one file whose state decides `source`'s (for tracefs: available_events)."""
        return (
            self.root
            / {
                Source.TRACEFS: "sys/kernel/tracing/available_events",
                Source.KALLSYMS: "proc/kallsyms",
                Source.BTF: "sys/kernel/btf/vmlinux",
                Source.REFERENCE: "reference/data.json",
                # A captured tree: the loaded-BPF reader lists nothing, reading only this.
                Source.LOADED: "proc/sys/kernel/bpf_stats_enabled",
            }[source]
        )

    def readers(self) -> list[Reader]:
        """The server's own readers (any added later included), reference data read here."""
        reference = ReferenceReader(self.path(Source.REFERENCE))
        return [reference if r.source == Source.REFERENCE else r for r in default_readers()]

    def config(self, **changes: Any) -> Config:
        settings: dict[str, Any] = {
            "refresh_interval": 0.05,
            "load_wait": 10.0,
            "read_timeout": 10.0,
            "backoff": FAST_BACKOFF,
        }
        return Config(sysroot=self.root, **(settings | changes))


@pytest.fixture
def kernel(tmp_path: Path) -> SmallKernel:
    return SmallKernel.build(tmp_path / "root")


@pytest.fixture
def autojump() -> trio.testing.MockClock:
    # Virtual time jumps only after 0.1 s of real idleness, so reads in worker threads
    # (milliseconds here) never look like a hang to the clock.
    return trio.testing.MockClock(autojump_threshold=0.1)


class Counting:
    """Wraps a real reader and records the (virtual) time of every attempt."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.source = reader.source
        self.attempts: list[float] = []

    async def signature(self, config: Config) -> Hashable:
        self.attempts.append(trio.current_time())
        return await self.reader.signature(config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        return await self.reader.load(config, emit)


class HungReads:
    """A file system on which opening one path to read it blocks until `released` is set,
    as on a hung NFS or FUSE mount (its metadata, an O_PATH open, still answers). Install
    `open` in place of os.open (every reader opens files through it); it counts the opens
    blocked at once.

    A watchdog releases the reads after `watchdog` seconds, so code that waits for them
    makes a test slow and failing, never hung.
    """

    def __init__(self, path: Path, watchdog: float = 60.0) -> None:
        self.path = str(path)
        self.released = threading.Event()
        self.blocked = 0
        self.most_at_once = 0
        self._lock = threading.Lock()
        self._real_open = os.open
        self._watchdog = threading.Timer(watchdog, self.released.set)
        self._watchdog.daemon = True
        self._watchdog.start()

    def open(self, path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        # Readers open files under a sysroot one component at a time, relative to the
        # directory before it: the whole path is that directory's and the name.
        where = os.readlink(f"/proc/self/fd/{dir_fd}") if dir_fd is not None else ""
        hangs = not flags & os.O_PATH and not self.released.is_set()
        if hangs and os.path.join(where, os.fsdecode(path)) == self.path:
            with self._lock:
                self.blocked += 1
                self.most_at_once = max(self.most_at_once, self.blocked)
            try:
                self.released.wait()
            finally:
                with self._lock:
                    self.blocked -= 1
        return self._real_open(path, flags, mode, dir_fd=dir_fd)

    def release(self) -> None:
        self._watchdog.cancel()
        self.released.set()


class Vanishing:
    """Wraps a real reader; its source's file disappears between the signature check and
    the load, once."""

    def __init__(self, reader: Reader, path: Path) -> None:
        self.reader = reader
        self.source = reader.source
        self.path = path
        self.saved: bytes | None = None

    async def signature(self, config: Config) -> Hashable:
        signature = await self.reader.signature(config)
        if self.saved is None:
            self.saved = self.path.read_bytes()
            self.path.unlink()
        return signature

    async def load(self, config: Config, emit: Emit) -> Loaded:
        return await self.reader.load(config, emit)

    def restore(self) -> None:
        assert self.saved is not None
        self.path.write_bytes(self.saved)


def replace(readers: list[Reader], double: Any) -> list[Reader]:
    """`readers` with the one of `double.source` replaced by `double`."""
    return [double if r.source == double.source else r for r in readers]


@attrs.frozen
class Outcome:
    """What one tool call answered: the error text, or the structured result."""

    is_error: bool
    text: str
    payload: Any


async def call(handle: BpfMcp, name: str, arguments: Any, *, within: float = 30.0) -> Outcome:
    """One tool call through the transports' own boundary, bounded in time."""
    with trio.fail_after(within):
        result = await call_tool(handle, name, arguments)
    text = "".join(getattr(block, "text", "") for block in result.content)
    return Outcome(bool(result.is_error), text, result.structured_content)


def sample_value(schema: dict[str, Any]) -> Any:
    """The simplest value `schema` accepts (for the few keywords tool schemas use)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    match kind:
        case "string":
            return "x" * max(1, schema.get("minLength", 1))
        case "integer" | "number":
            return schema.get("minimum", 0)
        case "boolean":
            return False
        case "array":
            return [sample_value(schema.get("items", {}))] * max(1, schema.get("minItems", 0))
        case "object":
            return minimal_arguments(schema)
    return None


def minimal_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """Arguments for a tool's input schema: its required properties, each with the simplest
    value it accepts. A tool added later is called this way without knowing it."""
    properties = schema.get("properties", {})
    return {name: sample_value(properties[name]) for name in schema.get("required", [])}


EXAMPLES: dict[str, dict[str, Any]] = {
    # One of two optional arguments is needed, and only a real object is a valid one.
    "check_bpf_object": {
        "data_base64": base64.b64encode(
            (REPO / "tests" / "preflight" / "objects" / "bad_helper.bpf.o").read_bytes()
        ).decode()
    },
    # A script needs a probe and an action block.
    "check_bpftrace_script": {
        "script": "tracepoint:sched:sched_switch { @[args.prev_comm] = count(); }"
    },
}
"""Valid arguments of the tools whose schema alone cannot give one."""


def base_arguments(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A valid call's arguments: the tool's example, else `minimal_arguments`."""
    return dict(EXAMPLES[name]) if name in EXAMPLES else minimal_arguments(schema)


def arguments_of(name: str) -> dict[str, Any]:
    return base_arguments(name, TOOLS_BY_NAME[name].input_schema())


def _sources(name: str, which: str) -> frozenset[Source]:
    """The `needs` or `prefers` of the query a call with `arguments_of(name)` builds."""
    spec = TOOLS_BY_NAME[name]
    query: Any = structure_arguments(arguments_of(name), spec.query)
    return frozenset(getattr(query, which, ()))


def tools_needing(source: Source) -> list[str]:
    return [t.name for t in TOOLS if source in _sources(t.name, "needs")]


def tools_not_needing(source: Source) -> list[str]:
    return [t.name for t in TOOLS if source not in _sources(t.name, "needs")]


def status_of(payload: Any, source: Source) -> dict[str, Any]:
    (entry,) = [s for s in payload["sources"] if s["source"] == source.value]
    assert isinstance(entry, dict)
    return entry


async def server_status(handle: BpfMcp) -> Any:
    outcome = await call(handle, "get_server_status", {})
    assert not outcome.is_error, outcome.text
    return outcome.payload


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)
