"""check_bpf_object on an object with about 100 CO-RE relocations, once the kernel is indexed,
beside `bpftool gen min_core_btf` (libbpf's CO-RE matching, offline) on the same object.

Three timings, median ms over --runs:
- the pure check (`preflight.check_object`) against the kernel's BTF alone, parsed once;
- the whole query through a running bpf-mcp (`handle.query(CheckBpfObject(...))`), base64
  decoding and the router included, the answer cache off (the query is uncached anyway);
- `bpftool gen min_core_btf BTF out.btf OBJECT` as a subprocess (it parses the whole BTF
  on every run, so the comparison is warm-vs-cold: say so when quoting the ratio).
Defaults to the captured kernel under fixtures/; `--sysroot /` for the live one.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trio

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.btf import parse_btf
from bpf_mcp.config import Config
from bpf_mcp.preflight import KernelFacts, check_object
from bpf_mcp.queries import CheckBpfObject, GetServerStatus

REPO = Path(__file__).resolve().parent.parent
OBJECT = REPO / "tests" / "preflight" / "objects" / "many_relocations.bpf.o"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def handle_ms(config: Config, data: bytes, runs: int) -> tuple[float, int]:
    """Median ms of check_bpf_object through a running bpf-mcp, every source indexed
    first, and the number of relocations it reports."""
    text = base64.b64encode(data).decode()
    async with open_bpf_mcp(config) as handle:
        while True:  # every source indexed, so no timing includes loading
            status = await handle.query(GetServerStatus())
            if all(s.state == "ready" for s in status.sources):
                break
            await trio.sleep(0.05)
        query = CheckBpfObject(data_base64=text, path=OBJECT.name)
        first = await handle.query(query)
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            await handle.query(query)
            samples.append(time.perf_counter() - start)
    return median_ms(samples), first.relocations.total


def pure_ms(btf_path: Path, data: bytes, runs: int) -> float:
    """Median ms of the pure check against the kernel's BTF alone (already parsed, its
    lazily built name lookups warmed by one run)."""
    facts = KernelFacts(btf=parse_btf(btf_path.read_bytes()))
    check_object(data, facts, name=OBJECT.name)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        check_object(data, facts, name=OBJECT.name)
        samples.append(time.perf_counter() - start)
    return median_ms(samples)


def bpftool_ms(btf: Path, obj: Path, runs: int) -> float | None:
    tool = shutil.which("bpftool")
    if tool is None:
        return None
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(
                [tool, "gen", "min_core_btf", str(btf), f"{tmp}/out.btf", str(obj)],
                capture_output=True,
                check=True,
            )
            samples.append(time.perf_counter() - start)
    return median_ms(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--sysroot", type=Path, default=REPO / "fixtures" / "linux-6.18")
    args = parser.parse_args()
    data = OBJECT.read_bytes()
    config = Config(sysroot=args.sysroot.resolve(), answer_cache=0)
    through, relocations = trio.run(handle_ms, config, data, args.runs)
    btf = config.path("sys/kernel/btf/vmlinux")
    pure = pure_ms(btf, data, args.runs)
    tool = bpftool_ms(btf, OBJECT, max(5, args.runs // 5))
    print(f"object: {OBJECT.name}, {len(data):,} bytes, {relocations} relocations")
    print(f"kernel: {args.sysroot}")
    print("| what | median ms |")
    print("| --- | --- |")
    print(f"| pure check against the BTF alone | {pure:.2f} |")
    print(f"| check_bpf_object through the handle | {through:.2f} |")
    if tool is not None:
        print(f"| bpftool gen min_core_btf (cold, parses BTF each run) | {tool:.1f} |")
        print(f"| ratio bpftool / through the handle | {tool / through:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
