"""Several kernels: a snapshot of the running kernel (time and size), reading it back, and
comparing the two fixture kernels (fixtures/linux-6.18 and Debian's 6.12).

    .venv/bin/python bench/snapshot_bench.py [--runs 3] [--append BENCHMARKS.md]

Prints a Markdown bullet for the "Other benchmarks" section; `--append` adds it to the end
of the file (the report's other sections are left as they are). The snapshot part needs
the live kernel's files (run as root for tracefs) and is skipped where BTF is unreadable.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bpf_mcp.answers.compare import compare_btf, side_by_side
from bpf_mcp.btf import parse_btf
from bpf_mcp.index.indexes import BtfIndex
from bpf_mcp.results_compare import KernelComparison, TypeChange
from bpf_mcp.snapshot import capture, open_snapshot, read_manifest, write_snapshot
from bpf_mcp.testing.fixtures import unpack_fixture

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")
FIXTURE_6_18 = REPO / "fixtures/linux-6.18"
FIXTURE_6_12 = REPO / "fixtures/linux-6.12"


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - start) * 1000


def median_ms(fn: Callable[[], object], runs: int) -> float:
    return statistics.median(timed(fn)[1] for _ in range(runs))


def snapshot_rows(runs: int, work: Path) -> list[str]:
    if not os.access("/sys/kernel/btf/vmlinux", os.R_OK):
        return ["  Snapshot: skipped, /sys/kernel/btf/vmlinux is not readable here."]
    captures, writes, opens, manifests = [], [], [], []
    size = 0
    for run in range(runs):
        captured, ms = timed(functools.partial(capture, Path("/")))
        captures.append(ms)
        out = work / f"live-{run}.tar.xz"
        writes.append(timed(functools.partial(write_snapshot, out, captured))[1])
        size = out.stat().st_size
        manifests.append(timed(functools.partial(read_manifest, out))[1])
        opens.append(timed(functools.partial(open_snapshot, out, work / f"tree-{run}"))[1])
    manifest = captured.manifest
    total = statistics.median(c + w for c, w in zip(captures, writes, strict=True))
    return [
        f"  Snapshot of the running kernel ({manifest.release}, {len(manifest.files)} files,"
        f" {manifest.total_bytes / 1e6:.1f} MB uncompressed, {len(manifest.missed)} not"
        f" readable here), median of {runs} runs:",
        "",
        "  | what | median ms |",
        "  | --- | --- |",
        f"  | `bpf-mcp snapshot`: read every file (capture) | {statistics.median(captures):.0f} |",
        f"  | write the tar.xz (xz preset 0) | {statistics.median(writes):.0f} |",
        f"  | both: the snapshot, {size / 1e6:.2f} MB on disk | {total:.0f} |",
        f"  | `read_manifest` (manifest only) | {statistics.median(manifests):.1f} |",
        f"  | `open_snapshot`: verify and extract to a sysroot | {statistics.median(opens):.0f} |",
    ]


def load(vmlinux: Path) -> BtfIndex:
    return BtfIndex.build([parse_btf(vmlinux.read_bytes())])


def compare_rows(runs: int, work: Path) -> list[str]:
    vmlinux_6_12 = unpack_fixture(FIXTURE_6_12, work / "linux-6.12") / "sys/kernel/btf/vmlinux"
    vmlinux_6_18 = FIXTURE_6_18 / "sys/kernel/btf/vmlinux"
    old, load_old = timed(lambda: load(vmlinux_6_12))
    new, load_new = timed(lambda: load(vmlinux_6_18))
    rows = [
        "  Comparing the fixture kernels (Debian 6.12 as a, 6.18 as b; vmlinux BTF only), in"
        f" process; warm is the median of {runs} runs:",
        "",
        "  | what | cold ms | warm ms | result |",
        "  | --- | --- | --- | --- |",
        f"  | parse and index 6.12 / 6.18 BTF (not part of a comparison) | {load_old:.0f} /"
        f" {load_new:.0f} | — | — |",
    ]
    for what in ("types", "functions"):
        whole = functools.partial(compare_btf, old, new, what)
        page, cold = timed(whole)
        warm = median_ms(whole, runs)
        counts = ", ".join(f"{v} {k}" for k, v in sorted(page.counts.items()))
        rows.append(f"  | `compare_btf(..., {what!r})` | {cold:.0f} | {warm:.0f} | {counts} |")

    def one_struct() -> KernelComparison:
        return compare_btf(old, new, "types", "task_struct", kind="struct")

    page, cold = timed(one_struct)
    (item,) = [i for i in page.items if isinstance(i, TypeChange) and i.name == "task_struct"]
    rows.append(
        f"  | one struct's differences (`task_struct`) | {cold:.1f} |"
        f" {median_ms(one_struct, runs):.1f} | {len(item.members or ())} members differ |"
    )
    pair = [("6.12", old), ("6.18", new)]
    table, cold = timed(lambda: side_by_side("task_struct", pair, limit=1000))
    warm = median_ms(lambda: side_by_side("task_struct", pair, limit=1000), runs)
    rows.append(
        f"  | `side_by_side('task_struct')`, 2 kernels | {cold:.1f} | {warm:.1f} |"
        f" {table.total} rows, {table.differing} differ |"
    )
    ten = [(f"k{i}", load(vmlinux_6_12 if i % 2 else vmlinux_6_18)) for i in range(10)]
    table, cold = timed(lambda: side_by_side("task_struct", ten, limit=1000))
    warm = median_ms(lambda: side_by_side("task_struct", ten, limit=1000), runs)
    rows.append(
        f"  | `side_by_side('task_struct')`, 10 kernels (each indexed apart) | {cold:.1f} |"
        f" {warm:.1f} | {table.total} rows |"
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--append", type=Path, help="add the result to the end of this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bpf-mcp-bench-") as tmp:
        work = Path(tmp)
        body = [*snapshot_rows(args.runs, work), "", *compare_rows(args.runs, work)]
    day = time.strftime("%Y-%m-%d")
    text = "\n".join(
        [
            f"- `just bench-snapshot` (`bench/snapshot_bench.py`), measured {day} on"
            f" {os.uname().release}, 2 shared cores:",
            "",
            *body,
        ]
    )
    print(text)
    if args.append:
        with args.append.open("a") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
