"""Each kernel source broken in each way a file can break: the tools that need it answer
isError with the cause and the fix, every other tool keeps answering, get_server_status
says what happened, and the source comes back without a restart once it is repaired."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.readers.base import Emit, Loaded, Reader
from bpf_mcp.readers.tracefs import BATCH, TracefsReader
from bpf_mcp.sources import Source
from bpf_mcp.tools import TOOLS

from .conftest import (
    FAULT_SOURCES,
    FIXTURE,
    SLOW_BACKOFF,
    Counting,
    HungReads,
    Outcome,
    SmallKernel,
    Vanishing,
    arguments_of,
    call,
    replace,
    server_status,
    status_of,
    tools_needing,
    tools_not_needing,
)

Repair = Callable[[], None]


def _reader(kernel: SmallKernel, source: Source) -> Reader:
    (reader,) = [r for r in kernel.readers() if r.source == source]
    return reader


def _target(kernel: SmallKernel, source: Source, fault: str) -> Path:
    """The file a fault is done to: tracefs is unmounted as a whole."""
    if source == Source.TRACEFS and fault == "missing":
        return kernel.root / "sys/kernel/tracing"
    return kernel.path(source)


def _set_aside(path: Path) -> Repair:
    saved = path.with_name(path.name + ".saved")
    path.rename(saved)

    def repair() -> None:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        elif path.exists() or path.is_symlink():
            path.unlink()
        saved.rename(path)

    return repair


def missing(path: Path) -> Repair:
    return _set_aside(path)


def directory(path: Path) -> Repair:
    repair = _set_aside(path)
    path.mkdir()
    return repair


def fifo(path: Path) -> Repair:
    repair = _set_aside(path)
    os.mkfifo(path)
    return repair


def truncated(path: Path) -> Repair:
    data = path.read_bytes()
    repair = _set_aside(path)
    if path.name == "kallsyms":
        # Cut inside the address of a line in the middle: a line no kernel writes.
        middle = data.index(b"\n", len(data) // 2) + 1
        path.write_bytes(data[: middle + 6])
    else:
        path.write_bytes(data[: len(data) // 3])
    return repair


def corrupt(path: Path) -> Repair:
    repair = _set_aside(path)
    path.write_bytes(b"\x00\xff this is not what the kernel writes \x7f\n" * 8)
    return repair


FAULTS: dict[str, Callable[[Path], Repair]] = {
    "missing": missing,
    "directory": directory,
    "fifo": fifo,
    "truncated": truncated,
    "corrupt": corrupt,
}


def expected_cause(source: Source, fault: str) -> str:
    match fault:
        case "missing":
            return "not-mounted" if source == Source.TRACEFS else "missing"
        case "directory" | "fifo":
            return "io"
        case _:
            return "corrupt"


_BASELINE: dict[str, bool] = {}


async def baseline(tmp_path: Path) -> dict[str, bool]:
    """Whether each tool, called without arguments, answers isError on a healthy small
    kernel (a tool added later may need arguments or a source the small kernel lacks)."""
    if not _BASELINE:
        healthy = SmallKernel.build(tmp_path / "healthy")
        async with open_bpf_mcp(healthy.config(), readers=healthy.readers()) as handle:
            for tool in TOOLS:
                out = await call(handle, tool.name, arguments_of(tool.name))
                _BASELINE[tool.name] = out.is_error
    return _BASELINE


async def answers_again(handle: Any, source: Source) -> None:
    """Wait until every tool needing `source` answers as on a healthy kernel."""
    with trio.fail_after(20):
        for name in tools_needing(source):
            # Recovery is observed by asking again, as a client would.
            while not _healthy(name, await call(handle, name, arguments_of(name))):  # noqa: ASYNC110
                await trio.sleep(0.02)


def _healthy(name: str, out: Outcome) -> bool:
    return out.is_error == _BASELINE[name] and "source could not be read" not in out.text


SOURCE_FAULTS = [
    pytest.param(source, fault, id=f"{source}-{fault}")
    for source in FAULT_SOURCES
    for fault in FAULTS
    # A cut available_events only lists fewer events, and a bad format file fails only its
    # own event (test_bad_events.py): neither fails tracefs as a whole.
    if (source, fault) != (Source.TRACEFS, "truncated")
]


@pytest.mark.parametrize(("source", "fault"), SOURCE_FAULTS)
async def test_fault_is_reported_contained_and_recovered(
    kernel: SmallKernel, tmp_path: Path, source: Source, fault: str
) -> None:
    before = await baseline(tmp_path)
    target = _target(kernel, source, fault)
    repair = FAULTS[fault](target)
    cause = expected_cause(source, fault)
    async with open_bpf_mcp(kernel.config(), readers=kernel.readers()) as handle:
        for name in tools_needing(source):
            out = await call(handle, name, arguments_of(name))
            assert out.is_error, (name, out.text)
            assert f"The {source.value} source could not be read" in out.text
            assert str(target) in out.text
            assert "To fix:" in out.text
        for name in tools_not_needing(source):
            out = await call(handle, name, arguments_of(name))
            assert out.is_error == before[name], (name, out.text)

        status = status_of(await server_status(handle), source)
        assert status["state"] in ("failed", "loading")
        assert status["last_error"]["cause"] == cause, status
        assert status["last_error"]["fix"], status
        assert status["data_age_seconds"] is None
        assert status["failures"] >= 1

        repair()
        await answers_again(handle, source)
        status = status_of(await server_status(handle), source)
        assert status["state"] == "ready"
        assert status["last_error"] is None
        assert status["restarts"] >= 1
        assert status["data_age_seconds"] is not None and status["data_age_seconds"] >= 0


@pytest.mark.parametrize("source", FAULT_SOURCES, ids=str)
async def test_supervisor_backs_off_then_rechecks_slowly(
    kernel: SmallKernel, source: Source, autojump: trio.testing.MockClock
) -> None:
    repair = missing(_target(kernel, source, "missing"))
    counting = Counting(_reader(kernel, source))
    config = kernel.config(
        backoff=SLOW_BACKOFF, refresh_interval=1000.0, read_timeout=1e6, load_wait=1e6
    )
    async with open_bpf_mcp(config, readers=replace(kernel.readers(), counting)) as handle:
        await trio.sleep(600)
        status = status_of(await server_status(handle), source)
        # Five fast attempts within ~8 s, then one a minute: no busy loop.
        assert 5 + 8 <= len(counting.attempts) <= 5 + 10, counting.attempts
        gaps = [b - a for a, b in zip(counting.attempts, counting.attempts[1:], strict=False)]
        assert min(gaps) >= 0.4
        assert status["state"] == "failed" and status["gave_up"]
        assert status["next_attempt_in"] == SLOW_BACKOFF.recheck
        assert status["restarts"] == len(counting.attempts) - 1
        assert status["failures"] == len(counting.attempts)

        repair()
        await trio.sleep(SLOW_BACKOFF.recheck * 1.3)
        status = status_of(await server_status(handle), source)
        assert status["state"] == "ready" and not status["gave_up"]
        for name in tools_needing(source):
            out = await call(handle, name, arguments_of(name))
            assert "source could not be read" not in out.text, (name, out.text)


@pytest.mark.parametrize("source", FAULT_SOURCES, ids=str)
async def test_a_file_vanishing_between_check_and_read(
    kernel: SmallKernel, tmp_path: Path, source: Source
) -> None:
    await baseline(tmp_path)
    vanishing = Vanishing(_reader(kernel, source), kernel.path(source))
    async with open_bpf_mcp(kernel.config(), readers=replace(kernel.readers(), vanishing)) as h:
        for name in tools_needing(source):
            out = await call(h, name, arguments_of(name))
            assert out.is_error and "To fix:" in out.text, out.text
        status = status_of(await server_status(h), source)
        assert status["last_error"]["cause"] in ("missing", "not-mounted")
        vanishing.restore()
        await answers_again(h, source)


async def test_a_reader_bug_is_an_internal_failure_not_a_crash(kernel: SmallKernel) -> None:
    async with open_bpf_mcp(kernel.config(), readers=replace(kernel.readers(), Buggy())) as h:
        out = await call(h, "list_kernel_functions", {})
        assert out.is_error and "report this as a bpf-mcp bug" in out.text
        assert not (await call(h, "list_tracepoints", {})).is_error
        status = status_of(await server_status(h), Source.KALLSYMS)
    assert status["last_error"]["cause"] == "internal"


class Buggy:
    """A kallsyms reader double with a bug: its load raises an unexpected exception."""

    source = Source.KALLSYMS

    async def signature(self, config: Any) -> int:
        return 1

    async def load(self, config: Any, emit: Any) -> Any:
        raise ZeroDivisionError("a bug")


async def _failures(handle: Any, source: Source, at_least: int) -> dict[str, Any]:
    """The source's status once it has failed `at_least` times in a row."""
    # The supervisor's retries are observed by asking, as a client would.
    while (status := status_of(await server_status(handle), source))["failures"] < at_least:  # noqa: ASYNC110
        await trio.sleep(0.05)
    return status


async def _all_ready_but(handle: Any, source: Source) -> None:
    while any(  # noqa: ASYNC110
        s["state"] != "ready" and s["source"] in {f.value for f in FAULT_SOURCES} - {source.value}
        for s in (await server_status(handle))["sources"]
    ):
        await trio.sleep(0.05)


def _hung_file(kernel: SmallKernel, source: Source) -> Path:
    """A file `source`'s reader always reads (the system reader's first: it reads a
    missing file as a fact, so it has no file of its own in the small kernel)."""
    if source == Source.SYSTEM:
        return kernel.root / "proc/sys/kernel/osrelease"
    return kernel.path(source)  # a source added later fails here until it is given one


@pytest.mark.parametrize("source", list(Source), ids=str)
async def test_a_hung_read_is_abandoned_at_the_read_timeout(
    kernel: SmallKernel, tmp_path: Path, source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real time, no autojump: the read blocks in a worker thread that never returns."""
    before = await baseline(tmp_path)
    hung = HungReads(_hung_file(kernel, source))
    monkeypatch.setattr(os, "open", hung.open)
    # Healthy sources load once and stay loaded: only the hung one is retried.
    config = kernel.config(read_timeout=0.2, refresh_interval=1000.0)
    # Few shared worker threads, so stuck reads piling up would soon starve everyone.
    trio.to_thread.current_default_thread_limiter().total_tokens = 4
    try:
        with trio.fail_after(30):
            async with open_bpf_mcp(config, readers=kernel.readers()) as handle:
                await _all_ready_but(handle, source)
                status = await _failures(handle, source, at_least=8)
                assert status["last_error"]["cause"] == "timeout", status
                assert status["last_error"]["path"] == hung.path, status
                assert status["data_age_seconds"] is None
                # Eight attempts timed out, yet one read only ever got stuck.
                assert hung.most_at_once == 1
                for name in tools_needing(source):
                    out = await call(handle, name, arguments_of(name))
                    assert out.is_error, (name, out.text)
                    assert hung.path in out.text
                    assert "took longer than 0.2 s (that read is still blocked)" in out.text
                    assert "To fix: check that the file system holding it responds" in out.text
                for name in tools_not_needing(source):
                    out = await call(handle, name, arguments_of(name))
                    assert out.is_error == before[name], (name, out.text)
                # The stdio transport writes through trio's shared worker threads.
                await trio.to_thread.run_sync(lambda: None)
            # The server stopped with the read still blocked: it did not wait for it.
            assert hung.blocked == 1
    finally:
        hung.release()


@pytest.mark.parametrize("source", list(Source), ids=str)
async def test_a_source_comes_back_when_its_hung_read_returns(
    kernel: SmallKernel, tmp_path: Path, source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    await baseline(tmp_path)
    hung = HungReads(_hung_file(kernel, source))
    monkeypatch.setattr(os, "open", hung.open)
    config = kernel.config(read_timeout=0.2, refresh_interval=1000.0)
    try:
        with trio.fail_after(30):
            async with open_bpf_mcp(config, readers=kernel.readers()) as handle:
                await _failures(handle, source, at_least=3)
                hung.release()
                await answers_again(handle, source)
                status = status_of(await server_status(handle), source)
                assert status["state"] == "ready" and status["last_error"] is None
    finally:
        hung.release()


def _many_events(root: Path, count: int) -> Path:
    tracing = root / "sys/kernel/tracing"
    template = (FIXTURE / "sys/kernel/tracing/events/sched/sched_switch/format").read_text()
    for n in range(count):
        name = f"e{n:03d}"
        (tracing / "events/demo" / name).mkdir(parents=True)
        (tracing / "events/demo" / name / "format").write_text(
            template.replace("name: sched_switch", f"name: {name}")
        )
    (tracing / "available_events").write_text("".join(f"demo:e{n:03d}\n" for n in range(count)))
    return tracing


class RemovedMidLoad:
    """A real reader, with `paths` removed once it has sent `after` chunks (as when a module
    unloads, or tracefs is unmounted, while the source is read)."""

    def __init__(self, reader: Reader, paths: list[Path], after: int = 1) -> None:
        self.reader = reader
        self.source = reader.source
        self.paths = paths
        self.after = after

    async def signature(self, config: Config) -> Hashable:
        return await self.reader.signature(config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        sent = 0

        async def emit_then_remove(payload: Any) -> None:
            nonlocal sent
            await emit(payload)
            sent += 1
            for path in self.paths if sent == self.after else ():
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)

        return await self.reader.load(config, emit_then_remove)


async def test_events_vanishing_mid_load_are_left_out_and_counted(tmp_path: Path) -> None:
    count = BATCH + 44
    tracing = _many_events(tmp_path, count)
    gone = [f"e{n:03d}" for n in range(count - 40, count)]
    reader = RemovedMidLoad(TracefsReader(), [tracing / "events/demo" / name for name in gone])
    names: set[str] = set()
    async with open_bpf_mcp(SmallKernel(tmp_path).config(), readers=[reader]) as handle:
        offset: int | None = 0
        while offset is not None:
            out = await call(handle, "list_tracepoints", {"limit": 1000, "offset": offset})
            assert not out.is_error, out.text
            names |= {t["name"] for t in out.payload["items"]}
            offset = out.payload["next_offset"]
        status = status_of(await server_status(handle), Source.TRACEFS)
    assert out.payload["total"] == count - 40 == len(names)
    assert not names & {f"demo:{n}" for n in gone}
    assert "40 listed events left out because the format file cannot be used" in status["summary"]
    assert "demo:e260 (the file does not exist)" in status["summary"]


async def test_tracefs_unmounted_mid_load_is_not_served_as_complete(tmp_path: Path) -> None:
    count = BATCH + 44
    tracing = _many_events(tmp_path, count)
    reader = RemovedMidLoad(TracefsReader(), [tracing])
    # No refresh: what the load itself left behind is what is served.
    config = SmallKernel(tmp_path).config(refresh_interval=1000.0)
    async with open_bpf_mcp(config, readers=[reader]) as handle:
        out = await call(handle, "list_tracepoints", {"limit": 1})
        status = status_of(await server_status(handle), Source.TRACEFS)
    assert out.is_error, f"{out.payload['total']} of {count} events served as the whole list"
    assert status["last_error"]["cause"] in ("not-mounted", "missing"), status


async def test_module_btf_vanishing_mid_load_is_left_out_and_named(
    kernel: SmallKernel, tmp_path: Path
) -> None:
    btf = kernel.root / "sys/kernel/btf"
    shutil.copyfile(FIXTURE.parent / "btf/base.btf", btf / "vmlinux")
    for module in ("kept_mod", "unloaded_mod"):
        shutil.copyfile(FIXTURE.parent / "btf/module.btf", btf / module)
    # vmlinux is sent, the modules listed, kept_mod sent; then unloaded_mod goes.
    reader = RemovedMidLoad(_reader(kernel, Source.BTF), [btf / "unloaded_mod"], after=2)
    async with open_bpf_mcp(kernel.config(), readers=replace(kernel.readers(), reader)) as h:
        out = await call(h, "get_btf_types", {"pattern": "fixture_mod_state", "match": "exact"})
        status = status_of(await server_status(h), Source.BTF)
    assert not out.is_error, out.text
    assert [t["object"] for t in out.payload["items"]] == ["kept_mod"]
    assert status["state"] == "ready", status
    assert "1 module;" in status["summary"], status
    assert "module BTF left out: unloaded_mod" in status["summary"], status


class Unindexable:
    """A reader with a bug: it sends data the router cannot index."""

    source = Source.KALLSYMS

    async def signature(self, config: Config) -> int:
        return 1

    async def load(self, config: Config, emit: Emit) -> Loaded:
        await emit("not a symbol table")
        return Loaded("/proc/kallsyms", "garbage")


async def test_data_that_cannot_be_indexed_fails_its_source_only(kernel: SmallKernel) -> None:
    readers = replace(kernel.readers(), Unindexable())
    async with open_bpf_mcp(kernel.config(), readers=readers) as h:
        out = await call(h, "list_kernel_functions", {})
        assert out.is_error and "report this as a bpf-mcp bug" in out.text, out.text
        assert not (await call(h, "list_tracepoints", {})).is_error
        status = status_of(await server_status(h), Source.KALLSYMS)
    assert status["state"] == "failed" and status["last_error"]["cause"] == "internal"


class UnindexableWhileBroken:
    """The real kallsyms reader, except that while `broken` its loads send data the router
    cannot index (a reader bug met only by some data); each switch changes the signature,
    as new data would."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.source = reader.source
        self.broken = False

    async def signature(self, config: Config) -> Hashable:
        return self.broken, await self.reader.signature(config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        if self.broken:
            await emit("not a symbol table")
            return Loaded("/proc/kallsyms", "garbage")
        return await self.reader.load(config, emit)


async def test_a_refresh_that_cannot_be_indexed_drops_the_old_index_then_recovers(
    kernel: SmallKernel, tmp_path: Path
) -> None:
    await baseline(tmp_path)
    reader = UnindexableWhileBroken(_reader(kernel, Source.KALLSYMS))
    async with open_bpf_mcp(kernel.config(), readers=replace(kernel.readers(), reader)) as h:
        first = await call(h, "list_kernel_functions", {"limit": 1})
        assert not first.is_error, first.text
        reader.broken = True
        with trio.fail_after(20):
            # Until the refresh is refused the old data is served whole; then none of it.
            while not (out := await call(h, "list_kernel_functions", {"limit": 1})).is_error:
                assert out.payload == first.payload
                await trio.sleep(0.02)
        assert "report this as a bpf-mcp bug" in out.text, out.text
        assert not (await call(h, "list_tracepoints", {})).is_error
        status = status_of(await server_status(h), Source.KALLSYMS)
        assert status["state"] == "failed" and status["last_error"]["cause"] == "internal"
        assert status["data_age_seconds"] is None

        reader.broken = False
        await answers_again(h, Source.KALLSYMS)


async def test_btf_names_holding_a_newline_are_searched_correctly(kernel: SmallKernel) -> None:
    vmlinux = kernel.root / "sys/kernel/btf/vmlinux"
    blob = vmlinux.read_bytes()
    at = blob.index(b"\0__gnuc_va_list\0") + 1
    vmlinux.write_bytes(blob[:at] + b"\n" + blob[at + 1 :])  # a corrupt but parseable name
    async with open_bpf_mcp(kernel.config(), readers=kernel.readers()) as h:
        found = await call(h, "get_btf_types", {"pattern": "builtin_va"})
        exact = await call(h, "get_btf_types", {"pattern": "a", "case_sensitive": True})
    assert not found.is_error, found.text
    assert [t["name"] for t in found.payload["items"]] == ["__builtin_va_list"]
    assert not exact.is_error, exact.text
