"""How long each source takes to load and index, in process and through the real server.

    python bench/warmup.py                 # every source together, in process
    python bench/warmup.py --alone         # each source by itself (no contention)
    python bench/warmup.py --server        # the real server over stdio, as bench/run.py

In process, the router is asked for its status every `--poll` ms (default 2) and the time
each source first reads `ready` is recorded, with the CPU time of the process and its RSS
once everything is indexed. Through the server, status is asked every `--poll` ms (default
50) and each source's ready time is the reply's time less the age of its data, so the
polls neither compete much with the loads nor round the figures to the poll interval.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Hashable
from pathlib import Path

import trio

from bpf_mcp import Config, open_bpf_mcp
from bpf_mcp.api import default_readers
from bpf_mcp.readers.base import Emit, Loaded, Reader
from bpf_mcp.testing.rawclient import RawClient, wait_ready


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Timed:
    """A real reader that notes when its load starts and when it has sent its last chunk."""

    def __init__(self, reader: Reader, marks: dict[str, float]) -> None:
        self.reader = reader
        self.source = reader.source
        self.marks = marks

    async def signature(self, config: Config) -> Hashable:
        return await self.reader.signature(config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        name = self.source.value
        self.marks.setdefault(f"{name} start", time.perf_counter())
        loaded = await self.reader.load(config, emit)
        self.marks.setdefault(f"{name} sent", time.perf_counter())
        return loaded


async def _in_process(sysroot: Path, only: str | None, poll: float) -> dict[str, float]:
    marks: dict[str, float] = {}
    readers = [Timed(r, marks) for r in default_readers() if only is None or r.source.value == only]
    seen: dict[str, float] = {}
    cpu0 = time.process_time()
    start = time.perf_counter()
    async with open_bpf_mcp(Config(sysroot=sysroot), readers=readers) as server:
        await server.status()
        first = time.perf_counter()
        while True:
            status = await server.status()
            now = (time.perf_counter() - first) * 1000
            for source in status.sources:
                if only is not None and source.source != only:
                    continue
                if source.state in ("ready", "failed"):
                    seen.setdefault(source.source, now)
            if len(seen) == len(readers):
                break
            await trio.sleep(poll / 1000)
    seen["(first answer)"] = (first - start) * 1000
    for key, when in sorted(marks.items(), key=lambda item: item[1]):
        seen[f"({key})"] = (when - first) * 1000
    seen["(cpu ms)"] = (time.process_time() - cpu0) * 1000
    seen["(rss MB)"] = rss_mb()
    return seen


def in_process(sysroot: Path, only: str | None, poll: float) -> dict[str, float]:
    return trio.run(_in_process, sysroot, only, poll)


def server(sysroot: Path, poll: float) -> dict[str, float]:
    client = RawClient([sys.executable, "-m", "bpf_mcp", "--sysroot", str(sysroot)])
    client.initialize()
    first = time.perf_counter() - client.started
    ready = wait_ready(client, poll=poll / 1000)
    seen = {source: (at - first) * 1000 for source, at in ready.items()}
    seen["(rss MB)"] = client.rss_mb()
    client.close()
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sysroot", type=Path, default=Path("/"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--poll", type=float, help="ms between status polls (2 in process, 50 --server)"
    )
    parser.add_argument("--alone", action="store_true", help="load each source by itself")
    parser.add_argument("--server", action="store_true", help="time the real server process")
    args = parser.parse_args()
    if args.poll is None:
        args.poll = 50.0 if args.server else 2.0
    runs: list[dict[str, float]] = []
    for _ in range(args.runs):
        if args.server:
            runs.append(server(args.sysroot, args.poll))
        elif args.alone:
            merged: dict[str, float] = {}
            for reader in default_readers():
                name = reader.source.value
                merged[name] = in_process(args.sysroot, name, args.poll)[name]
            runs.append(merged)
        else:
            runs.append(in_process(args.sysroot, None, args.poll))
        print("  ".join(f"{k} {v:.0f}" for k, v in runs[-1].items()), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")
    print("median:")
    for key in runs[0]:
        print(f"  {key:16} {statistics.median(r[key] for r in runs):8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
