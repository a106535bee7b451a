"""Memory stays flat under repeated queries: after a warm-up that fills every cache, 2,000
more tool calls leave the traced heap about where it was."""

from __future__ import annotations

import gc
import itertools
import tracemalloc
from collections.abc import Iterator
from typing import Any

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.tools import TOOLS

from .conftest import SmallKernel, base_arguments, call

WORDS = ["sched", "vfs", "read", "tcp", "bpf", "task", "irq", "sys_enter", "kmem", "zz-none"]
GROWTH_LIMIT = 512 << 10
"""Bytes the heap may grow over 2,000 calls: a leak of 256 bytes a call would pass it."""


def queries() -> Iterator[tuple[str, dict[str, Any]]]:
    """An endless, repeating mix of every tool with small pages and varied filters (about
    200 distinct calls)."""
    shapes: list[tuple[str, dict[str, Any]]] = []
    for tool in TOOLS:
        schema = tool.input_schema()
        properties = schema.get("properties", {})
        base = base_arguments(tool.name, schema)
        if "limit" in properties:
            base["limit"] = 5
        shapes.append((tool.name, base))
        if "pattern" in properties:
            for word, offset in itertools.product(WORDS, (0, 3)):
                arguments = {**base, "pattern": word}
                if "offset" in properties:
                    arguments["offset"] = offset
                shapes.append((tool.name, arguments))
    return itertools.cycle(shapes)


async def test_memory_is_flat_under_repeated_queries(kernel: SmallKernel) -> None:
    # A small answer cache, so that the 2,000 calls turn it over many times.
    config = kernel.config(refresh_interval=1000.0, answer_cache=32)
    mix = queries()
    async with open_bpf_mcp(config, readers=kernel.readers()) as handle:
        tracemalloc.start()
        try:
            for name, arguments in itertools.islice(mix, 600):
                await call(handle, name, arguments)
            gc.collect()
            before, _ = tracemalloc.get_traced_memory()
            for name, arguments in itertools.islice(mix, 2000):
                await call(handle, name, arguments)
            gc.collect()
            after, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert after - before < GROWTH_LIMIT, f"grew {after - before} bytes"
