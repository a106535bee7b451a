"""Many kernels in one server: first-use load time and resident memory.

Registers N kernels (copies of one BTF file, or of the fixture sysroot with --sysroots),
asks each one question once, and prints the first-use time of each and the process RSS
with 1, 10 and 50 registered, loading at most --max-loaded of them at a time.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import trio

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config, KernelSpec
from bpf_mcp.queries import DescribeBtfType

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "fixtures" / "linux-6.18"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def run(count: int, max_loaded: int, btf: Path, scratch: Path) -> tuple[list[float], float]:
    specs = []
    for i in range(count):
        copy = scratch / f"k{i}.btf"
        if not copy.exists():
            shutil.copy(btf, copy)
        specs.append(KernelSpec(f"k{i}", copy, "btf"))
    config = Config(sysroot=FIXTURE, kernels=tuple(specs), max_loaded_kernels=max_loaded)
    firsts = []
    async with open_bpf_mcp(config) as handle:
        await handle.query(DescribeBtfType(name="list_head"))
        for spec in specs:
            start = time.perf_counter()
            await handle.query(DescribeBtfType(name="task_struct"), spec.name)
            firsts.append((time.perf_counter() - start) * 1000)
        return firsts, rss_mb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-loaded", type=int, default=3)
    parser.add_argument("--btf", type=Path, default=FIXTURE / "sys/kernel/btf/vmlinux")
    args = parser.parse_args()
    print("| kernels registered | first use ms (median / max) | RSS MB after one question each |")
    print("| --- | --- | --- |")
    with tempfile.TemporaryDirectory() as scratch:
        for count in (1, 10, 50):
            firsts, rss = trio.run(run, count, args.max_loaded, args.btf, Path(scratch))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            median, most = statistics.median(firsts), max(firsts)
            print(f"| {count} | {median:.0f} / {most:.0f} | {rss:.0f} (peak {peak:.0f}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
