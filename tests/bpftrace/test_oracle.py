"""Tracepoint args as bpftrace itself lists them (`bpftrace -lv`), on the running kernel,
against the fields check_bpftrace_script accepts for `args.x`."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from bpf_mcp.answers import answer
from bpf_mcp.index import View
from bpf_mcp.queries import CheckBpftraceScript

pytestmark = [pytest.mark.live, pytest.mark.oracle]

CATEGORIES = ("sched", "syscalls", "irq", "signal", "block")


def bpftrace_args(category: str) -> dict[str, set[str]]:
    """tracepoint name -> the arg names `bpftrace -lv` prints for it."""
    tool = shutil.which("bpftrace")
    if tool is None:
        pytest.skip("bpftrace is not installed")
    run = subprocess.run(
        [tool, "-lv", f"tracepoint:{category}:*"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    found: dict[str, set[str]] = {}
    current = None
    for line in run.stdout.splitlines():
        if line.startswith("tracepoint:"):
            current = line.removeprefix("tracepoint:")
            found[current] = set()
        elif current is not None and line.startswith("    "):
            name = re.search(r"(\w+)(\[\d*\])?\s*$", line.strip())
            if name:
                found[current].add(name.group(1))
    if not found:
        pytest.skip(
            f"bpftrace lists no tracepoints here (tracefs not mounted?): {run.stderr[:200]}"
        )
    return found


@pytest.mark.parametrize("category", CATEGORIES)
def test_tracepoint_args_match_bpftrace(category: str, live_view: View) -> None:
    theirs = bpftrace_args(category)
    blocks = [
        f"tracepoint:{name} {{ {' '.join(f'@[args.{a}] = count();' for a in sorted(args))} }}"
        for name, args in theirs.items()
    ]
    scripts, current = [], ""
    for block in blocks:  # scripts under the tool's 64 KiB bound
        if len(current) + len(block) > 60 * 1024:
            scripts.append(current)
            current = ""
        current += block + "\n"
    scripts.append(current)
    checked = 0
    for script in scripts:
        for probe in answer(CheckBpftraceScript(script=script), live_view).probes:
            for arg in probe.args:
                assert arg.verdict == "yes", (probe.probe, arg)
                checked += 1
    assert checked > 0
