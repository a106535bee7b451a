"""BTF benchmarks: bpf-mcp's index and queries side by side with pahole and bpftool.

    .venv/bin/python bench/btf_bench.py [--btf PATH] [--runs N]

Measured in one run, because these machines are noisy: the time until the BTF index is
ready (parse, name lookups, substring index), describe_btf_type("task_struct") and a
substring search over every name in process, each next to what a user would otherwise
run (`pahole -C task_struct`, `bpftool btf dump file ... | grep`), as ratios; the RSS the
index adds, measured in a fresh process. Prints a Markdown table; numbers are medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
LIVE = Path("/sys/kernel/btf/vmlinux")
FIXTURE = REPO / "fixtures" / "linux-6.18" / "sys" / "kernel" / "btf" / "vmlinux"
NEEDLES = ("sock", "task_struct", "bpf_", "xyzzy")


def median_ms(fn: Callable[[], object], runs: int) -> float:
    """The median wall time of `fn` in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def first_call_ms(make: Callable[[], T], call: Callable[[T], object], runs: int) -> float:
    """The median time in milliseconds of `call` on fresh objects from `make`."""
    objects = [make() for _ in range(runs)]
    times = []
    for obj in objects:
        start = time.perf_counter()
        call(obj)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def command_ms(command: str, runs: int) -> float | None:
    """The median wall time of a shell command in milliseconds; None if it fails."""

    def run() -> None:
        subprocess.run(command, shell=True, check=True, capture_output=True)

    try:
        run()  # warm the page cache and the binary
    except (subprocess.CalledProcessError, OSError):
        return None
    return median_ms(run, runs)


RSS_PROBE = """
import sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
import bpf_mcp.btf, bpf_mcp.index.indexes, bpf_mcp.answers.btf
from bpf_mcp.btf import parse_btf
from bpf_mcp.index.indexes import BtfIndex
before = rss()
data = open(sys.argv[1], "rb").read()
index = BtfIndex.build([parse_btf(data)])
del data
print(rss() - before)
"""


def index_rss(btf_file: Path) -> int:
    """Bytes of RSS a fresh process gains by building the BTF index (blob read, parsed,
    name lookups warmed; the read buffer freed)."""
    done = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(btf_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--btf", type=Path, default=None, help="BTF file (default: live)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print JSON instead")
    args = parser.parse_args()
    btf_file = args.btf or (LIVE if os.access(LIVE, os.R_OK) else FIXTURE)
    runs = args.runs

    from bpf_mcp.answers.btf import describe_btf_type, generate_c_header, get_btf_types
    from bpf_mcp.btf import parse_btf
    from bpf_mcp.index.indexes import BtfIndex
    from bpf_mcp.queries import DescribeBtfType, GenerateCHeader, GetBtfTypes

    data = btf_file.read_bytes()
    parse_ms = median_ms(lambda: parse_btf(data), runs)
    ready_ms = median_ms(lambda: BtfIndex.build([parse_btf(data)]), runs)
    first_named = first_call_ms(lambda: parse_btf(data), lambda b: b.named_ids(), runs)
    first_find = first_call_ms(lambda: parse_btf(data), lambda b: b.find("task_struct"), runs)
    describe = DescribeBtfType(name="task_struct")
    describe_cold = first_call_ms(
        lambda: BtfIndex.build([parse_btf(data)]),
        lambda i: describe_btf_type(describe, i),
        max(3, runs // 3),
    )
    index = BtfIndex.build([parse_btf(data)])
    btf = index.btf
    describe_btf_type(describe, index)
    describe_ms = median_ms(lambda: describe_btf_type(describe, index), runs * 4)
    search_ms = {}
    for needle in NEEDLES:

        def search(needle: str = needle) -> object:
            return btf.search_names(needle, case_sensitive=False)

        search_ms[needle] = median_ms(search, runs * 4)
    tool_search = GetBtfTypes(pattern="sock", limit=100)
    tool_search_ms = median_ms(lambda: get_btf_types(tool_search, index), runs * 4)
    glob_search = GetBtfTypes(pattern="bpf_*_ops", match="glob", limit=100)
    glob_ms = median_ms(lambda: get_btf_types(glob_search, index), runs * 4)
    header = GenerateCHeader(names=("task_struct",))
    header_ms = median_ms(lambda: generate_c_header(header, index), runs)

    pahole = shutil.which("pahole")
    bpftool = shutil.which("bpftool")
    pahole_ms = command_ms(f"{pahole} -F btf -C task_struct {btf_file}", runs) if pahole else None
    grep_ms = (
        command_ms(f"{bpftool} btf dump file {btf_file} | grep -i sock", runs) if bpftool else None
    )
    vmlinux_h_ms = (
        command_ms(f"{bpftool} btf dump file {btf_file} format c", max(3, runs // 3))
        if bpftool
        else None
    )
    rss = index_rss(btf_file)

    results = {
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "btf": f"{btf_file} ({len(data):,} bytes, {len(btf):,} types)",
        "parse_ms": parse_ms,
        "index_ready_ms": ready_ms,
        "first_named_ids_ms": first_named,
        "first_find_ms": first_find,
        "describe_task_struct_cold_ms": describe_cold,
        "describe_task_struct_ms": describe_ms,
        "search_ms": search_ms,
        "get_btf_types_sock_ms": tool_search_ms,
        "get_btf_types_glob_ms": glob_ms,
        "generate_c_header_task_struct_ms": header_ms,
        "pahole_task_struct_ms": pahole_ms,
        "bpftool_grep_ms": grep_ms,
        "bpftool_format_c_ms": vmlinux_h_ms,
        "index_rss_bytes": rss,
    }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(report(results))
    return 0


def _ratio(slow: float | None, fast: float) -> str:
    return f"{slow / fast:,.0f}x" if slow else "n/a"


def _ms(value: float | None) -> str:
    return f"{value:,.2f} ms" if value is not None else "not installed"


def report(r: dict[str, Any]) -> str:
    """The results as a Markdown section."""
    search = r["search_ms"]
    describe = float(r["describe_task_struct_ms"])
    sock = float(search["sock"])
    pahole = r["pahole_task_struct_ms"]
    grep = r["bpftool_grep_ms"]
    fmt_c = r["bpftool_format_c_ms"]
    header = float(r["generate_c_header_task_struct_ms"])
    lines = [
        "## BTF (bench/btf_bench.py)",
        "",
        f"{r['machine']}; {r['btf']}. Medians; side-by-side numbers from the same run.",
        "",
        "| measure | bpf-mcp | other tool | ratio |",
        "| --- | --- | --- | --- |",
        f"| index ready (parse + name lookups + substring index) | "
        f"{_ms(r['index_ready_ms'])} (parse alone {_ms(r['parse_ms'])}) | | |",
        f"| first `named_ids()` / first `find()` after parse (no warm-up) | "
        f"{_ms(r['first_named_ids_ms'])} / {_ms(r['first_find_ms'])} | | |",
        f'| describe_btf_type("task_struct"), in process, warm | {_ms(describe)} | '
        f"`pahole -C task_struct`: {_ms(pahole)} | {_ratio(pahole, describe)} |",
        f'| describe_btf_type("task_struct"), first query on a fresh index | '
        f"{_ms(r['describe_task_struct_cold_ms'])} | `pahole -C task_struct`: {_ms(pahole)} | "
        f"{_ratio(pahole, float(r['describe_task_struct_cold_ms']))} |",
        f'| substring search "sock" over all names | {_ms(sock)} | '
        f"`bpftool btf dump file | grep -i sock`: {_ms(grep)} | {_ratio(grep, sock)} |",
        f'| get_btf_types(pattern="sock", limit 100), in process | '
        f"{_ms(r['get_btf_types_sock_ms'])} | | |",
        f'| get_btf_types("bpf_*_ops", match=glob) | {_ms(r["get_btf_types_glob_ms"])} | | |',
        f'| generate_c_header(["task_struct"]) | {_ms(header)} | '
        f"`bpftool btf dump file ... format c` (all of vmlinux.h): {_ms(fmt_c)} | "
        f"{_ratio(fmt_c, header)} |",
        f"| RSS added by the index | {int(r['index_rss_bytes']) / 2**20:.1f} MiB | | |",
        "",
        "Substring search by needle: "
        + ", ".join(f'"{n}" {v:.2f} ms' for n, v in search.items())
        + ".",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
