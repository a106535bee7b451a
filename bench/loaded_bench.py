"""Loaded-BPF benchmark: one full scan of the kernel's programs, maps, links and BTF
objects, next to `bpftool -j prog show` (and `map show`) over the same objects.

    sudo .venv/bin/python bench/loaded_bench.py [--progs 200] [--maps 400] [--runs 20]

As root with clang and bpftool, it first loads `--progs` socket filter programs using
`--maps` hash maps between them (one generated object, `bpftool prog loadall` into a
temporary bpffs directory, removed at the end), so the scan has that many objects. With
`--progs 0`, or without root, it measures whatever is loaded now and says so. Prints a
Markdown table of medians and minima: the whole snapshot(), its parts (listing ids only, reading
every object, owners from /proc, pins from bpffs), and the bpftool commands.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bpf_mcp.loaded import Kind
from bpf_mcp.readers.loaded.procfs import find_owners, find_pins, mounts_of
from bpf_mcp.readers.loaded.scan import list_ids, snapshot
from bpf_mcp.readers.loaded.syscall import LibcBpf

PIN_DIR = Path("/sys/fs/bpf/bpf-mcp-bench")


def timed_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """The median and the least wall time of `fn` in milliseconds (the least is what a
    quiet machine gives; these machines are shared and noisy)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def generated_source(progs: int, maps: int) -> str:
    """C for `progs` socket filters that between them use `maps` hash maps."""
    lines = [
        "typedef unsigned int u32;",
        "#define SEC(n) __attribute__((section(n), used))",
        "static void *(*lookup)(void *map, const void *key) = (void *)1;",
        "struct def { int (*type)[1]; int (*max_entries)[16]; u32 *key; u32 *value; };",
    ]
    lines += [f'struct def m{i} SEC(".maps");' for i in range(maps)]
    per = max(1, -(-maps // max(progs, 1)))
    for p in range(progs):
        used = [f"m{(p * per + j) % maps}" for j in range(per)] if maps else []
        body = " ".join(f"if (lookup(&{m}, &k)) n++;" for m in used)
        lines.append(
            f'SEC("socket") int p{p}(void *skb) {{ u32 k = 0; int n = 0; {body} return n; }}'
        )
    lines.append('char LICENSE[] SEC("license") = "GPL";')
    return "\n".join(lines) + "\n"


def load(progs: int, maps: int, bpftool: str, clang: str) -> None:
    with tempfile.TemporaryDirectory() as work:
        src = Path(work) / "many.bpf.c"
        obj = Path(work) / "many.bpf.o"
        src.write_text(generated_source(progs, maps))
        subprocess.run(
            [clang, "-target", "bpf", "-O2", "-g", "-c", str(src), "-o", str(obj)], check=True
        )
        subprocess.run([bpftool, "prog", "loadall", str(obj), str(PIN_DIR)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--progs", type=int, default=200)
    parser.add_argument("--maps", type=int, default=400)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    clang = shutil.which("clang")
    created = False
    if args.progs and os.geteuid() == 0 and clang and Path(bpftool).exists():
        if not mounts_of(Path("/proc"), "bpf"):
            subprocess.run(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"], check=True)
        shutil.rmtree(PIN_DIR, ignore_errors=True)
        start = time.perf_counter()
        load(args.progs, args.maps, bpftool, clang)
        created = True
        print(
            f"loaded {args.progs} programs and {args.maps} maps in "
            f"{time.perf_counter() - start:.1f} s (compile + bpftool prog loadall)\n"
        )
    elif args.progs:
        print(
            "not loading test objects (needs root, clang and bpftool): measuring what is loaded\n"
        )
    try:
        calls = LibcBpf()
        snap = snapshot(calls)
        counts = ", ".join(f"{len(snap.of(k))} {k.value}" for k in Kind)
        print(f"objects scanned: {counts}; left out: {snap.left_out or 'none'}\n")
        bpffs = mounts_of(Path("/proc"), "bpf")
        rows = [
            ("snapshot(): everything", timed_ms(lambda: snapshot(calls), args.runs)),
            (
                "  listing ids only (4 kinds)",
                timed_ms(lambda: [list_ids(calls, k) for k in Kind], args.runs),
            ),
            (
                "  owners from /proc/*/fdinfo",
                timed_ms(lambda: find_owners(Path("/proc")), args.runs),
            ),
            ("  pins under bpffs", timed_ms(lambda: find_pins(calls, bpffs), args.runs)),
        ]
        oracle = [
            (
                f"`bpftool -j {what} show`",
                timed_ms(
                    functools.partial(
                        subprocess.run,
                        [bpftool, "-j", what, "show"],
                        check=True,
                        capture_output=True,
                    ),
                    args.runs,
                ),
            )
            for what in ("prog", "map")
        ]
        print("| what | median ms | least ms |")
        print("| --- | --- | --- |")
        for name, (median, least) in rows + oracle:
            print(f"| {name} | {median:.1f} | {least:.1f} |")
        ratio = rows[0][1][0] / oracle[0][1][0]
        print(f"\nratio of medians, snapshot / `bpftool -j prog show`: {ratio:.2f}")
    finally:
        if created:
            shutil.rmtree(PIN_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
