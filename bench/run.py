"""bpf-mcp benchmarks, side by side with the tools a user would otherwise run.

Run with `just bench` (or `python bench/run.py --write BENCHMARKS.md`). Uses the live
kernel where its sources are readable, else the captured fixtures, and says which.
Everything is measured in the same run, because these machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bpf_mcp.testing.rawclient import RawClient, wait_ready

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "linux-6.18"
SERVER = [sys.executable, "-m", "bpf_mcp"]


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def live_readable() -> bool:
    return all(
        os.access(p, os.R_OK)
        for p in (
            "/sys/kernel/tracing/available_events",
            "/proc/kallsyms",
            "/sys/kernel/btf/vmlinux",
        )
    )


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, text: str = "") -> None:
        self.lines.append(text)
        print(text, flush=True)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.add("| " + " | ".join(header) + " |")
        self.add("|" + "|".join(" --- " for _ in header) + "|")
        for row in rows:
            self.add("| " + " | ".join(str(c) for c in row) + " |")
        self.add()


def server_command(sysroot: Path) -> list[str]:
    return [*SERVER, "--sysroot", str(sysroot)]


def cold_start(report: Report, sysroot: Path, runs: int) -> None:
    floor = median_ms(
        lambda: subprocess.run(
            [sys.executable, "-c", "import trio, mcp.server.lowlevel"], check=True
        ),
        runs,
    )
    first, ready, first_btf = [], [], []
    for _ in range(runs):
        client = RawClient(server_command(sysroot))
        client.initialize()
        client.call("get_server_status", {})
        first.append((time.perf_counter() - client.started) * 1000)
        client.call("get_btf_types", {"pattern": "task_struct", "kind": "struct"})
        first_btf.append((time.perf_counter() - client.started) * 1000)
        ready.append(max(wait_ready(client).values()) * 1000)
        client.close()
    report.add("## Cold start (process spawn to answers, over stdio)")
    report.add()
    report.table(
        ["what", "median ms", "vs floor"],
        [
            ["floor: `python -c 'import trio, mcp.server.lowlevel'`", f"{floor:.0f}", "—"],
            [
                "first answered tools/call (get_server_status)",
                f"{statistics.median(first):.0f}",
                f"floor + {statistics.median(first) - floor:.0f} ms",
            ],
            [
                "first answer needing BTF (waits for its load)",
                f"{statistics.median(first_btf):.0f}",
                f"floor + {statistics.median(first_btf) - floor:.0f} ms",
            ],
            [
                "every source indexed",
                f"{statistics.median(ready):.0f}",
                f"floor + {statistics.median(ready) - floor:.0f} ms",
            ],
        ],
    )


def read_floor(sysroot: Path) -> dict[str, float]:
    """Milliseconds to merely read each source's files (the physical floor)."""
    tracing = sysroot / "sys/kernel/tracing"
    if not (tracing / "available_events").exists():
        tracing = sysroot / "sys/kernel/debug/tracing"

    def tracefs() -> None:
        events = (tracing / "available_events").read_text().split()
        for line in events:
            category, event = line.split(":")
            (tracing / "events" / category / event / "format").read_bytes()

    return {
        "tracefs": median_ms(tracefs, 3),
        "kallsyms": median_ms(lambda: (sysroot / "proc/kallsyms").read_bytes(), 3),
        "btf": median_ms(lambda: (sysroot / "sys/kernel/btf/vmlinux").read_bytes(), 3),
    }


def warm_up(report: Report, sysroot: Path, runs: int) -> None:
    per_source: dict[str, list[float]] = {}
    for _ in range(runs):
        client = RawClient(server_command(sysroot))
        client.initialize()
        spawned_to_first = (time.perf_counter() - client.started) * 1000
        for source, seconds in wait_ready(client).items():
            per_source.setdefault(source, []).append(seconds * 1000 - spawned_to_first)
        client.close()
    floors = read_floor(sysroot)
    report.add("## Warm-up (time from the first answer until each source is indexed)")
    report.add()
    report.add(
        "Sources load in the background after the server starts answering; the floor is"
        " the time to merely read the source's files in one process."
    )
    report.add()
    rows = []
    for source, values in per_source.items():
        floor = floors.get(source)
        rows.append(
            [
                source,
                f"{statistics.median(values):.0f}",
                f"{floor:.0f}" if floor is not None else "—",
                f"{statistics.median(values) / floor:.1f}x" if floor else "—",
            ]
        )
    report.table(["source", "ready after (median ms)", "read floor ms", "ratio"], rows)


def questions(tools: set[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, tool, arguments) of the benchmark questions, with the best tool present."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if "describe_btf_type" in tools:
        out.append(("struct layout (task_struct)", "describe_btf_type", {"name": "task_struct"}))
    else:
        out.append(
            (
                "struct layout (task_struct)",
                "get_btf_types",
                {"pattern": "task_struct", "kind": "struct", "limit": 1},
            )
        )
    if "get_tracepoint" in tools:
        out.append(("tracepoint fields", "get_tracepoint", {"name": "sched:sched_switch"}))
    else:
        out.append(("tracepoint fields", "list_tracepoints", {"pattern": "sched:sched_switch"}))
    if "get_kernel_function" in tools:
        out.append(("function verdict (vfs_read)", "get_kernel_function", {"name": "vfs_read"}))
    else:
        out.append(("function (vfs_read)", "list_kernel_functions", {"pattern": "vfs_read"}))
    out.append(("BTF name search ('sock')", "get_btf_types", {"pattern": "sock", "limit": 100}))
    out.append(("page of 100 kernel functions", "list_kernel_functions", {"limit": 100}))
    return out


def warm_latency(
    report: Report, sysroot: Path, calls: int, *, cached: bool = True
) -> tuple[dict[str, float], float]:
    extra = [] if cached else ["--answer-cache", "0"]
    client = RawClient([*server_command(sysroot), *extra])
    client.initialize()
    wait_ready(client)
    tools = {t["name"] for t in client.request("tools/list")["result"]["tools"]}
    ping = client.timed("ping", None, calls)
    rows = [
        ["ping (protocol floor)", "ping", f"{pct(ping, 50):.2f}", f"{pct(ping, 99):.2f}", "1.0x"]
    ]
    p50s = {}
    for label, tool, arguments in questions(tools):
        client.call(tool, arguments)
        times = client.timed("tools/call", {"name": tool, "arguments": arguments}, calls)
        p50s[label] = pct(times, 50)
        rows.append(
            [
                label,
                f"`{tool}`",
                f"{pct(times, 50):.2f}",
                f"{pct(times, 99):.2f}",
                f"{pct(times, 50) / pct(ping, 50):.1f}x",
            ]
        )
    rss = client.rss_mb()
    client.close()
    mode = (
        "repeated questions, answer cache on (the default)"
        if cached
        else "every answer computed afresh, `--answer-cache 0`"
    )
    report.add(f"## Warm latency over stdio ({mode}; raw JSON-RPC client, {calls} calls each)")
    report.add()
    report.add(
        "Each call is timed from writing its request line to reading its reply line; the"
        " client parses and checks every reply after the clock stops."
    )
    report.add()
    report.table(["question", "tool", "p50 ms", "p99 ms", "p50 vs ping"], rows)
    report.add(
        f"RSS of the server with every source indexed, after these {calls * 6} calls: {rss:.0f} MB"
    )
    report.add()
    return p50s, rss


def sdk_latency(report: Report, sysroot: Path, calls: int) -> None:
    import trio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=SERVER[0], args=[*SERVER[1:], "--sysroot", str(sysroot)])
    rows = []

    async def main() -> None:
        async with Client(params, mode="legacy") as client:
            await client.call_tool("get_btf_types", {"pattern": "task_struct", "limit": 1})
            listed = {t.name for t in (await client.list_tools()).tools}
            ping = []
            for _ in range(calls):
                start = time.perf_counter_ns()
                await client.send_ping()
                ping.append((time.perf_counter_ns() - start) / 1e6)
            rows.append(["ping", f"{pct(ping, 50):.2f}", f"{pct(ping, 99):.2f}"])
            for label, tool, arguments in questions(listed):
                await client.call_tool(tool, arguments)
                times = []
                for _ in range(calls):
                    start = time.perf_counter_ns()
                    await client.call_tool(tool, arguments)
                    times.append((time.perf_counter_ns() - start) / 1e6)
                rows.append([label, f"{pct(times, 50):.2f}", f"{pct(times, 99):.2f}"])

    trio.run(main)
    report.add(f"## Through the mcp SDK client (what most clients cost; {calls} calls each)")
    report.add()
    report.table(["question", "p50 ms", "p99 ms"], rows)


def cli_comparison(
    report: Report, p50s: dict[str, float], fresh: dict[str, float], runs: int
) -> None:
    vmlinux = "/sys/kernel/btf/vmlinux"
    commands: list[tuple[str, str, str]] = []
    if shutil.which("pahole"):
        commands.append(
            ("struct layout (task_struct)", f"pahole -F btf -C task_struct {vmlinux}", "pahole")
        )
    if shutil.which("bpftrace") and os.access("/sys/kernel/tracing/available_events", os.R_OK):
        commands.append(
            ("tracepoint fields", "bpftrace -lv tracepoint:sched:sched_switch", "bpftrace")
        )
    if shutil.which("bpftool"):
        commands.append(
            (
                "BTF name search ('sock')",
                f"bpftool btf dump file {vmlinux} | grep -c sock",
                "bpftool | grep",
            )
        )
        commands.append(
            (
                "function verdict (vfs_read)",
                "grep -w vfs_read /proc/kallsyms;"
                f" bpftool btf dump file {vmlinux} | grep -w vfs_read",
                "grep + bpftool",
            )
        )
    rows = []
    for label, command, _tool in commands:
        ms = median_ms(
            lambda c=command: subprocess.run(  # type: ignore[misc]
                c, shell=True, capture_output=True, check=False
            ),
            runs,
        )
        key = label.split(" (")[0]
        ours = next((v for k, v in p50s.items() if k.split(" (")[0] == key), None)
        cold = next((v for k, v in fresh.items() if k.split(" (")[0] == key), None)
        rows.append(
            [
                label,
                f"`{command}`",
                f"{ms:.1f}",
                f"{ours:.2f} / {cold:.2f}" if ours is not None and cold is not None else "—",
                f"{ms / ours:.0f}x / {ms / cold:.0f}x" if ours and cold else "—",
            ]
        )
    report.add("## Against the command-line tools (same run, median of runs, warm)")
    report.add()
    if not rows:
        report.add("No oracle tool is installed here (apt-get install bpftool dwarves bpftrace).")
        report.add()
        return
    report.table(
        [
            "question",
            "command",
            "command ms",
            "bpf-mcp p50 ms (cached / fresh)",
            "bpf-mcp faster by (cached / fresh)",
        ],
        rows,
    )


def btf_prefix(blob: bytes, fraction: float) -> bytes:
    """A valid BTF blob holding the first `fraction` of the types (strings kept whole)."""
    _magic, _v, _f, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(
        "<HBBIIIII", blob
    )
    per_vlen = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
    fixed = {1: 4, 3: 12, 14: 4, 17: 4}
    positions = []
    pos, end = hdr_len + type_off, hdr_len + type_off + type_len
    while pos < end:
        positions.append(pos)
        info = struct.unpack_from("<I", blob, pos + 4)[0]
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        pos += 12 + fixed.get(kind, 0) + per_vlen.get(kind, 0) * vlen
    keep = int(len(positions) * fraction)
    cut = positions[keep] if keep < len(positions) else end
    types = blob[hdr_len + type_off : cut]
    strings = blob[hdr_len + str_off : hdr_len + str_off + str_len]
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return header + types + strings


def scaling(report: Report, sysroot: Path) -> None:
    from bpf_mcp.btf import parse_btf
    from bpf_mcp.index.indexes import KallsymsIndex
    from bpf_mcp.kallsyms import parse_kallsyms

    blob = (sysroot / "sys/kernel/btf/vmlinux").read_bytes()
    rows = []
    for fraction in (0.1, 0.25, 0.5, 1.0):
        part = btf_prefix(blob, fraction)
        index_ms = median_ms(lambda p=part: parse_btf(p).named_ids(), 3)  # type: ignore[misc]
        btf = parse_btf(part)
        btf.named_ids()
        search_ms = median_ms(lambda b=btf: b.search_names("sock", case_sensitive=False), 5)  # type: ignore[misc]
        rows.append(
            [f"BTF {fraction:.0%} ({len(btf)} types)", f"{index_ms:.1f}", f"{search_ms:.2f}"]
        )
    lines = (sysroot / "proc/kallsyms").read_text().splitlines(keepends=True)
    for fraction in (0.1, 0.25, 0.5, 1.0):
        text = "".join(lines[: int(len(lines) * fraction)])
        index_ms = median_ms(lambda t=text: KallsymsIndex.build([parse_kallsyms(t)]), 3)  # type: ignore[misc]
        rows.append(
            [
                f"kallsyms {fraction:.0%} ({int(len(lines) * fraction)} lines)",
                f"{index_ms:.1f}",
                "—",
            ]
        )
    report.add("## How cost grows with input size (in process)")
    report.add()
    report.table(["input", "parse + index ms", "substring search ms"], rows)


def environment(report: Report, sysroot: Path, live: bool, command: str) -> None:
    report.add("# bpf-mcp benchmarks")
    report.add()
    report.add(f"Reproduce with: `{command}`")
    report.add()
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    tools = []
    for tool, args in (("pahole", "--version"), ("bpftool", "version"), ("bpftrace", "--version")):
        if shutil.which(tool):
            out = subprocess.run([tool, args], capture_output=True, text=True, check=False)
            tools.append(f"{tool} {out.stdout.splitlines()[0] if out.stdout else '?'}")
    report.add(f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    report.add(f"- Machine: {os.cpu_count()} CPUs ({cpu}), kernel {platform.release()}")
    report.add(
        f"- Python {platform.python_version()}, bpf-mcp {version('bpf-mcp')}, mcp {version('mcp')},"
        f" trio {version('trio')}"
    )
    report.add(f"- Oracles: {', '.join(tools) or 'none installed'}")
    report.add(
        f"- Data: {'the live kernel' if live else 'the captured fixtures'} (sysroot {sysroot})"
    )
    report.add()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="also write the report to this file")
    parser.add_argument("--calls", type=int, default=1000, help="calls per latency figure")
    parser.add_argument("--runs", type=int, default=5, help="runs per start/CLI figure")
    parser.add_argument("--fixtures", action="store_true", help="use fixtures even if live")
    args = parser.parse_args()
    live = live_readable() and not args.fixtures
    sysroot = Path("/") if live else FIXTURES
    report = Report()
    command = "just bench" if args.write else "python bench/run.py"
    environment(report, sysroot, live, command)
    cold_start(report, sysroot, args.runs)
    warm_up(report, sysroot, args.runs)
    p50s, _ = warm_latency(report, sysroot, args.calls)
    fresh, _ = warm_latency(report, sysroot, args.calls, cached=False)
    sdk_latency(report, sysroot, max(200, args.calls // 5))
    if live:
        cli_comparison(report, p50s, fresh, args.runs)
    else:
        report.add(
            "## Against the command-line tools\n\nSkipped: the live kernel is not readable here.\n"
        )
    scaling(report, sysroot)
    if args.write:
        text = "\n".join(report.lines) + "\n"
        args.write.write_text(text + kept_section(args.write))
    return 0


KEPT_HEADING = "## Other benchmarks in this repository"


def kept_section(path: Path) -> str:
    """The hand-written section of an existing report (the other bench scripts' results,
    which this script does not measure), carried over so a rerun does not drop it."""
    try:
        old = path.read_text()
    except OSError:
        return ""
    start = old.find(KEPT_HEADING)
    return "\n" + old[start:].rstrip("\n") + "\n" if start >= 0 else ""


if __name__ == "__main__":
    sys.exit(main())
