"""A source that becomes good again is served again within one refresh interval, however
long its backoff; and each source's change check sees the changes that matter (for
kallsyms: a file replaced, grown by a BPF program's symbols, truncated or emptied).
Virtual time: the refresh interval is 1 s of trio's autojump clock."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from bpf_mcp.api import BpfMcp, open_bpf_mcp
from bpf_mcp.config import Backoff, Config
from bpf_mcp.readers.btf import BtfReader
from bpf_mcp.readers.kallsyms import KallsymsReader
from bpf_mcp.sources import Source

from .conftest import (
    FAULT_SOURCES,
    FIXTURE,
    SmallKernel,
    arguments_of,
    call,
    server_status,
    status_of,
    tools_needing,
)

REFRESH = 1.0
GIVES_UP = Backoff(initial=0.5, factor=2.0, cap=30.0, jitter=0.2, max_failures=2, recheck=60)


def _config(kernel: SmallKernel, backoff: Backoff = GIVES_UP) -> Config:
    return kernel.config(refresh_interval=REFRESH, backoff=backoff, read_timeout=1e6, load_wait=1e6)


async def _status(handle: BpfMcp, source: Source) -> dict[str, Any]:
    return status_of(await server_status(handle), source)


async def _until(handle: BpfMcp, source: Source, state: str, **fields: Any) -> dict[str, Any]:
    """The source's status once it is in `state` (with `fields`), asked as a client would."""
    with trio.fail_after(600):
        while True:
            status = await _status(handle, source)
            if status["state"] == state and all(status[k] == v for k, v in fields.items()):
                return status
            await trio.sleep(0.05)


async def _served_within_a_refresh(handle: BpfMcp, source: Source) -> None:
    """After one refresh interval (and a little for the reload), every tool that needs
    `source` answers from it."""
    await trio.sleep(REFRESH * 1.5)
    status = await _status(handle, source)
    assert status["state"] == "ready", status
    for name in tools_needing(source):
        out = await call(handle, name, arguments_of(name))
        assert "source could not be read" not in out.text, (name, out.text)


@pytest.mark.parametrize("source", FAULT_SOURCES, ids=str)
async def test_a_source_that_gave_up_is_back_within_a_refresh_interval(
    kernel: SmallKernel, source: Source, autojump: trio.testing.MockClock
) -> None:
    path = kernel.path(source)
    saved = path.read_bytes()
    path.unlink()
    async with open_bpf_mcp(_config(kernel), readers=kernel.readers()) as handle:
        status = await _until(handle, source, "failed", gave_up=True)
        assert status["next_attempt_in"] == GIVES_UP.recheck
        path.write_bytes(saved)
        await _served_within_a_refresh(handle, source)


async def test_missing_then_truncated_then_restored_btf_is_back_at_once(
    kernel: SmallKernel, autojump: trio.testing.MockClock
) -> None:
    """The issue's sequence with the default backoff: six failures in ten seconds used
    to stop fast retries, and answers failed for a minute after the file was good."""
    path = kernel.path(Source.BTF)
    good = path.read_bytes()
    async with open_bpf_mcp(_config(kernel, Backoff()), readers=kernel.readers()) as handle:
        await _until(handle, Source.BTF, "ready")
        for _ in range(3):
            path.unlink()
            await trio.sleep(4)
            path.write_bytes(good[: len(good) // 3])
            await trio.sleep(4)
            path.write_bytes(good)
            await _served_within_a_refresh(handle, Source.BTF)
        assert (await _status(handle, Source.BTF))["restarts"] >= 6


# -- what each change check sees ----------------------------------------------------------

BPF_PROG = "ffffffffa0001000 t bpf_prog_6deef7357e7b4530_handle_exec\t[bpf]\n"


async def _functions(handle: BpfMcp) -> tuple[int, list[str]]:
    """How many functions kallsyms lists, and those named like the BPF program added."""
    every = await call(handle, "list_kernel_functions", {"limit": 1})
    progs = await call(handle, "list_kernel_functions", {"pattern": "bpf_prog_6deef"})
    assert not every.is_error and not progs.is_error, (every.text, progs.text)
    return every.payload["total"], [item["name"] for item in progs.payload["items"]]


@pytest.mark.parametrize("change", ["grown", "replaced", "shrunk"])
async def test_a_changed_kallsyms_is_reloaded_within_a_refresh_interval(
    kernel: SmallKernel, autojump: trio.testing.MockClock, change: str
) -> None:
    path = kernel.path(Source.KALLSYMS)
    lines = path.read_text().splitlines(keepends=True)
    async with open_bpf_mcp(_config(kernel), readers=kernel.readers()) as handle:
        await _until(handle, Source.KALLSYMS, "ready")
        total, progs = await _functions(handle)
        assert not progs
        match change:
            case "grown":  # a BPF program loaded: its symbol appears at the end
                path.write_text("".join([*lines, BPF_PROG]))
            case "replaced":  # another kernel's file put in its place
                replacement = path.with_name("kallsyms.new")
                replacement.write_text("".join(lines[: len(lines) // 2]))
                replacement.rename(path)
            case "shrunk":  # rewritten in place, shorter
                path.write_text("".join(lines[len(lines) // 2 :]))
        await trio.sleep(REFRESH * 1.5)
        after, progs = await _functions(handle)
    if change == "grown":
        assert (after, progs) == (total + 1, ["bpf_prog_6deef7357e7b4530_handle_exec"])
    else:
        assert after < total


async def test_an_emptied_kallsyms_is_an_error_not_ready(
    kernel: SmallKernel, autojump: trio.testing.MockClock
) -> None:
    path = kernel.path(Source.KALLSYMS)
    async with open_bpf_mcp(_config(kernel), readers=kernel.readers()) as handle:
        await _until(handle, Source.KALLSYMS, "ready")
        path.write_bytes(b"")
        await trio.sleep(REFRESH * 1.5)
        status = await _status(handle, Source.KALLSYMS)
        out = await call(handle, "list_kernel_functions", {})
    assert status["state"] != "ready", status
    assert status["last_error"]["cause"] == "corrupt"
    assert "the file is empty" in status["last_error"]["detail"]
    assert out.is_error and "the file is empty" in out.text


async def test_an_empty_kallsyms_never_becomes_ready(tmp_path: Path) -> None:
    kernel = SmallKernel.build(tmp_path / "root")
    kernel.path(Source.KALLSYMS).write_bytes(b"")
    async with open_bpf_mcp(kernel.config(), readers=kernel.readers()) as handle:
        out = await call(handle, "list_kernel_functions", {})
        assert out.is_error and "the file is empty" in out.text


def test_a_module_reloaded_under_the_same_name_changes_the_btf_signature(
    tmp_path: Path,
) -> None:
    btf = tmp_path / "sys/kernel/btf"
    btf.mkdir(parents=True)
    shutil.copyfile(FIXTURE.parent / "btf/base.btf", btf / "vmlinux")
    shutil.copyfile(FIXTURE.parent / "btf/module.btf", btf / "mod")
    config = Config(sysroot=tmp_path)
    before = trio.run(BtfReader().signature, config)
    assert trio.run(BtfReader().signature, config) == before
    # Unloaded and loaded again: sysfs makes a new file (a new inode) of the same name.
    shutil.copyfile(FIXTURE.parent / "btf/module.btf", btf / "mod.new")
    (btf / "mod.new").rename(btf / "mod")
    assert trio.run(BtfReader().signature, config) != before


@pytest.mark.live
def test_a_bpf_program_loaded_on_the_live_kernel_changes_the_kallsyms_signature() -> None:
    """bpftrace loads one program: its `bpf_prog_*` symbol changes /proc/kallsyms."""
    bpftrace = shutil.which("bpftrace")
    if bpftrace is None or os.geteuid() != 0:
        pytest.skip("needs root and bpftrace to load a BPF program")
    if Path("/proc/sys/net/core/bpf_jit_kallsyms").read_text().strip() != "1":
        pytest.skip("net.core.bpf_jit_kallsyms is off: BPF programs are not in kallsyms")
    live = Config()
    before = trio.run(KallsymsReader().signature, live)
    program = "interval:s:1 { @ticks = count(); }"
    with subprocess.Popen(
        [bpftrace, "-e", program], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as tracer:
        watchdog = threading.Timer(30.0, tracer.kill)  # a bpftrace that hangs ends the loop
        watchdog.start()
        try:
            assert tracer.stdout is not None
            for line in tracer.stdout:  # bpftrace says so once its program is loaded
                if line.startswith("Attaching"):
                    break
            loaded = trio.run(KallsymsReader().signature, live)
        finally:
            watchdog.cancel()
            tracer.terminate()
            tracer.wait(timeout=30)
    assert loaded != before
