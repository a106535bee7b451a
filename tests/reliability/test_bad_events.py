"""One tracepoint whose format file is garbage, a FIFO, oversized or gone fails only
itself: every other event is served, the bad one is named and counted in
get_server_status, and asking for it says why rather than that it is not listed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.readers.tracefs import FORMAT_BYTES
from bpf_mcp.sources import Source

from .conftest import EVENTS, SmallKernel, call, server_status, status_of

BAD = "sched:sched_switch"


def garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff this is not what the kernel writes\n" * 4)


def fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def oversized(path: Path) -> None:
    text = path.read_text()
    path.write_text(text + " " * (FORMAT_BYTES + 1 - len(text)))


def deleted(path: Path) -> None:
    path.unlink()


def directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage": (garbage, "it cannot be parsed: line 1: expected 'name:'"),
    "fifo": (fifo, "it is not a regular file but mode p"),
    "oversized": (oversized, f"it is larger than {FORMAT_BYTES} bytes"),
    "deleted": (deleted, "the file does not exist"),
    "directory": (directory, "read failed (Is a directory)"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_one_bad_format_fails_only_its_event(kernel: SmallKernel, case: str) -> None:
    spoil, reason = CASES[case]
    path = kernel.root / "sys/kernel/tracing/events" / BAD.replace(":", "/") / "format"
    spoil(path)
    config = kernel.config(refresh_interval=1000.0)
    async with open_bpf_mcp(config, readers=kernel.readers()) as handle:
        listed = await call(handle, "list_tracepoints", {"limit": 100})
        assert not listed.is_error, listed.text
        names = {item["name"] for item in listed.payload["items"]}
        assert names == {f"{c}:{e}" for c, e in EVENTS} - {BAD}
        for good in names:
            assert not (await call(handle, "get_tracepoint", {"name": good})).is_error

        asked = await call(handle, "get_tracepoint", {"name": BAD})
        assert asked.is_error
        assert "listed in tracefs available_events" in asked.text
        assert "not in tracefs available_events" not in asked.text
        assert str(path) in asked.text and reason in asked.text

        status = status_of(await server_status(handle), Source.TRACEFS)
        assert status["state"] == "ready"
        assert status["summary"].startswith(f"{len(EVENTS) - 1} events; 1 listed event left out")
        named = status["summary"].partition(f"{BAD} (")[2]
        assert reason in named


async def test_many_bad_formats_are_counted_and_a_few_named(kernel: SmallKernel) -> None:
    for category, event in EVENTS:
        garbage(kernel.root / "sys/kernel/tracing/events" / category / event / "format")
    config = kernel.config(refresh_interval=1000.0)
    async with open_bpf_mcp(config, readers=kernel.readers()) as handle:
        listed = await call(handle, "list_tracepoints", {})
        assert not listed.is_error and listed.payload["total"] == 0
        status = status_of(await server_status(handle), Source.TRACEFS)
    assert status["state"] == "ready"
    assert f"0 events; {len(EVENTS)} listed events left out" in status["summary"]
    assert status["summary"].count("cannot be parsed") == len(EVENTS)
