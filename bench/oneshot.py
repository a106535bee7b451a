"""One question, one process: `bpf-mcp call` beside pahole, bpftrace and grep.

What a person at a shell waits for: each command runs from a fresh process, start-up and
source loading included. Prints a Markdown table of median wall-clock ms over --runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

VMLINUX = "/sys/kernel/btf/vmlinux"


def median_ms(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bpf_mcp = [sys.executable, "-m", "bpf_mcp", "call"]
    tracefs = os.access("/sys/kernel/tracing/available_events", os.R_OK)
    questions: list[tuple[str, list[str], list[str] | None]] = [
        (
            "struct layout (task_struct)",
            [*bpf_mcp, "describe_btf_type", "name=task_struct"],
            ["pahole", "-C", "task_struct", VMLINUX] if shutil.which("pahole") else None,
        ),
        (
            "tracepoint fields (sched:sched_switch)",
            [*bpf_mcp, "get_tracepoint", "name=sched:sched_switch"],
            ["bpftrace", "-lv", "tracepoint:sched:sched_switch"]
            if shutil.which("bpftrace") and tracefs
            else None,
        ),
        (
            "function exists (vfs_read)",
            [*bpf_mcp, "get_kernel_function", "name=vfs_read"],
            ["grep", "-w", "vfs_read", "/proc/kallsyms"],
        ),
    ]
    print("| question | `bpf-mcp call` ms | other command | its ms | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for label, ours, theirs in questions:
        mine = median_ms(ours, args.runs)
        if theirs is None:
            print(f"| {label} | {mine:.0f} | (not installed) | — | — |")
            continue
        other = median_ms(theirs, args.runs)
        shown = " ".join(theirs)
        print(f"| {label} | {mine:.0f} | `{shown}` | {other:.0f} | {mine / other:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
