"""The embedding example runs: it queries the handle directly, then serves MCP over stdio
to a real client from the same process."""

from __future__ import annotations

import subprocess
import sys

import pytest
import trio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.support import FIXTURE_ROOT, REPO

EXAMPLE = [sys.executable, str(REPO / "examples" / "embed.py")]
FIXTURES = str(FIXTURE_ROOT)

pytestmark = pytest.mark.slow


def test_example_queries_the_handle() -> None:
    done = subprocess.run(
        [*EXAMPLE, "--sysroot", FIXTURES], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout == ""
    assert "sched tracepoints" in done.stderr
    assert "ring buffers (kernel-btf): ['ringbuf', 'user_ringbuf']" in done.stderr


async def test_example_serves_mcp_from_the_same_process() -> None:
    params = StdioServerParameters(
        command=EXAMPLE[0], args=[*EXAMPLE[1:], "--sysroot", FIXTURES, "--serve"]
    )
    with trio.fail_after(60):
        async with Client(params, mode="legacy") as client:
            result = await client.call_tool("list_bpf_program_types", {"pattern": "xdp"})
    assert not result.is_error
    assert result.structured_content["items"][0]["name"] == "xdp"
