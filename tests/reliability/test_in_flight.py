"""Queries in flight are bounded: past `Config.max_in_flight` a query waits its turn before
it reaches the router, so a flood costs waiting tasks, not router work."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.errors import SourceLoadTimeout
from bpf_mcp.queries import ListKernelFunctions

from .test_stdio_framing import Parked


async def test_at_most_max_in_flight_queries_reach_the_router(
    autojump: trio.testing.MockClock,
) -> None:
    config = Config(max_in_flight=2, load_wait=5.0, read_timeout=1e6)
    finished: list[float] = []

    async def ask() -> None:
        with pytest.raises(SourceLoadTimeout):
            await handle.query(ListKernelFunctions())
        finished.append(trio.current_time())

    async with open_bpf_mcp(config, readers=[Parked()]) as handle, trio.open_nursery() as nursery:
        for _ in range(6):
            nursery.start_soon(ask)
    # Two at a time, each waiting out its load_wait: done at 5, 10 and 15 s.
    assert finished == pytest.approx([5.0, 5.0, 10.0, 10.0, 15.0, 15.0])
