"""A source that becomes good again is served again within one refresh interval, however
long its backoff. Virtual time: the refresh interval is 1 s of trio's autojump clock."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from bpf_mcp.api import BpfMcp, open_bpf_mcp
from bpf_mcp.config import Backoff, Config
from bpf_mcp.sources import Source

from .conftest import (
    FAULT_SOURCES,
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
