"""Embedding bpf-mcp in a trio application.

The application owns the event loop, logging and signals; bpf-mcp runs inside its
nursery. This example asks a few questions directly through the handle, prints the
answers to stderr, and then (with --serve) also serves MCP over stdio from the same
process, so an MCP client and the application share one set of indexes.

    python examples/embed.py --sysroot fixtures/linux-6.18            # just query
    python examples/embed.py --sysroot fixtures/linux-6.18 --serve    # query, then serve
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import trio

from bpf_mcp import Config, open_bpf_mcp, queries, serve_stdio


async def main(sysroot: Path, serve: bool) -> None:
    async with open_bpf_mcp(Config(sysroot=sysroot)) as handle:
        # Direct queries: typed values in, typed values out; no MCP involved.
        tracepoints = await handle.query(queries.ListTracepoints(category="sched", limit=3))
        print(f"{tracepoints.total} sched tracepoints, e.g.:", file=sys.stderr)
        for tp in tracepoints.items:
            print(f"  {tp.name} (id {tp.id}, {tp.field_count} fields)", file=sys.stderr)
        maps = await handle.query(queries.ListBpfMapTypes(pattern="ringbuf"))
        print(f"ring buffers ({maps.source}):", [m.name for m in maps.items], file=sys.stderr)
        status = await handle.status()
        print("sources:", {s.source: s.state for s in status.sources}, file=sys.stderr)
        if serve:
            # Serve MCP over this process's stdio until stdin ends; the application's
            # other tasks (none here) would keep running beside it in the same nursery.
            await serve_stdio(handle)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Embed bpf-mcp in a trio program.")
    parser.add_argument("--sysroot", type=Path, default=Path("/"))
    parser.add_argument("--serve", action="store_true", help="then serve MCP over stdio")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    trio.run(main, args.sysroot.resolve(), args.serve)
