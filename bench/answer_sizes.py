"""Answer sizes: how many bytes each tool's answer takes on the wire, by default and at worst.

    .venv/bin/python bench/answer_sizes.py [--sysroot PATH]

Each answer is measured as a client receives it: the whole JSON-RPC message
(`{"jsonrpc", "id", "result"}` with the CallToolResult dumped by alias, nulls left out), so
the structured content and its JSON text copy both count. Tokens are estimated as bytes / 4
(no tokenizer here; JSON with short keys runs about 3-4 bytes per token). Beside them, what
`pahole` and `bpftrace -lv` print for the same questions, when they are installed. The
cases (default arguments, and the largest valid arguments: limit 1000, every include_*
flag, the largest struct and enum, 64 names for a header) are shared with the tests
(bpf_mcp.testing.answer_sizes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import trio

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.testing.answer_sizes import (
    PROMPTS,
    RESOURCES,
    Case,
    default_cases,
    message_size,
    worst_cases,
)
from bpf_mcp.transports import catalog
from bpf_mcp.transports.server import call_tool


async def measure(sysroot: Path, cases: list[Case]) -> list[int]:
    """The message size of each tool call in `cases` on the kernel under `sysroot`."""
    sizes = []
    async with open_bpf_mcp(Config(sysroot=sysroot)) as handle:
        for name, arguments in cases:
            sizes.append(message_size(await call_tool(handle, name, arguments)))
    return sizes


async def measure_catalog(sysroot: Path, names: set[str]) -> list[tuple[str, int]]:
    """Message sizes of the resource reads and prompts (with typical arguments)."""
    out = []
    async with open_bpf_mcp(Config(sysroot=sysroot)) as handle:
        for uri in RESOURCES:
            out.append((uri, message_size(await catalog.read_resource(handle, uri, names))))
        for prompt, value in PROMPTS:
            spec = next(p for p in catalog.PROMPTS if p.name == prompt)
            result = await catalog.get_prompt(handle, prompt, {spec.argument: value}, names)
            out.append((f"prompt {prompt}", message_size(result)))
    return out


def _kib(size: int) -> str:
    return f"{size / 1024:.1f}"


def _tokens(size: int) -> str:
    return f"~{round(size / 4, -2):,.0f}"


def _command_bytes(command: list[str]) -> int | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return len(done.stdout) if done.returncode == 0 and done.stdout else None


BEFORE: dict[str, float] = {
    "list_tracepoints": 228.1,
    "list_kernel_functions": 27.5,
    "get_btf_types": 31.8,
    "describe_btf_type": 114.9,
    "generate_c_header": 38.7,
    "list_bpf_program_types": 16.9,
    "list_bpf_map_types": 10.7,
    "get_server_status": 2.9,
    "get_tracepoint": 7.2,
    "list_raw_tracepoints": 84.7,
    "get_kernel_function": 3.5,
    "list_kfuncs": 73.3,
    "list_bpf_helpers": 42.4,
    "list_bpf_attach_types": 22.8,
    "list_bpf_hooks": 42.8,
    "get_kernel_info": 26.5,
}
"""KiB of each default answer on the live kernel before answers were budgeted (issue 13)."""


def table(sysroot: Path) -> str:
    """The Markdown answer-size table of the kernel under `sysroot`."""
    from bpf_mcp.tools import TOOLS

    names = [t.name for t in TOOLS]
    defaults = default_cases(names)
    worst = worst_cases(sysroot)
    default_sizes = trio.run(measure, sysroot, defaults)
    worst_sizes = trio.run(measure, sysroot, worst)
    worst_by_tool: dict[str, tuple[int, dict[str, Any]]] = {}
    for (name, arguments), size in zip(worst, worst_sizes, strict=True):
        if size > worst_by_tool.get(name, (-1, {}))[0]:
            worst_by_tool[name] = (size, arguments)
    lines = [
        "| tool | default KiB | default tokens | worst KiB | worst tokens | worst arguments"
        " | default before (KiB) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (name, typical), size in zip(defaults, default_sizes, strict=True):
        top, arguments = max(
            worst_by_tool.get(name, (size, typical)), (size, typical), key=lambda pair: pair[0]
        )
        shown = json.dumps(arguments)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        before = BEFORE.get(name)
        lines.append(
            f"| `{name}` | {_kib(size)} | {_tokens(size)} | {_kib(top)} | {_tokens(top)}"
            f" | `{shown}` | {before if before is not None else '—'} |"
        )
    lines.append("")
    lines.append("| resource read or prompt | KiB | tokens |")
    lines.append("| --- | --- | --- |")
    for what, size in trio.run(measure_catalog, sysroot, set(names)):
        lines.append(f"| `{what}` | {_kib(size)} | {_tokens(size)} |")
    lines.append("")
    lines.append("| the same question elsewhere | bytes | tokens |")
    lines.append("| --- | --- | --- |")
    vmlinux = str(sysroot / "sys/kernel/btf/vmlinux")
    for label, command in (
        ("`pahole -C task_struct` (layout text)", ["pahole", "-C", "task_struct", vmlinux]),
        ("`bpftrace -lv 'tracepoint:sched:*'`", ["bpftrace", "-lv", "tracepoint:sched:*"]),
    ):
        if "bpftrace" in command[0] and sysroot != Path("/"):
            continue
        printed = _command_bytes(command)
        shown = f"{printed:,} | {_tokens(printed)}" if printed is not None else "unavailable | —"
        lines.append(f"| {label} | {shown} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sysroot", type=Path, default=Path("/"), help="kernel root (default /)")
    args = parser.parse_args()
    print(f"Answer sizes on {args.sysroot} (tokens ~ bytes / 4, an approximation)\n")
    print(table(args.sysroot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
