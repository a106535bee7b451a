"""Answer sizes: how many bytes each tool's answer takes on the wire, by default and at worst.

    .venv/bin/python bench/answer_sizes.py [--sysroot PATH]

Each answer is measured as a client receives it: the whole JSON-RPC message
(`{"jsonrpc", "id", "result"}` with the CallToolResult dumped by alias, nulls left out), so
the structured content and its JSON text copy both count. Tokens are estimated as bytes / 4
(no tokenizer here; JSON with short keys runs about 3-4 bytes per token). Beside them, what
`pahole` and `bpftrace -lv` print for the same questions, when they are installed. The
cases (default arguments, and the largest valid arguments: limit 1000, every include_*
flag, the largest struct and enum, 64 names for a header) are shared with the tests.
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
from bpf_mcp.btf import Btf, Kind, parse_btf
from bpf_mcp.config import Config
from bpf_mcp.queries import LOADED_KINDS
from bpf_mcp.transports import catalog
from bpf_mcp.transports.server import call_tool

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "linux-6.18"

Case = tuple[str, dict[str, Any]]

TYPICAL: dict[str, dict[str, Any]] = {
    "describe_btf_type": {"name": "task_struct"},
    "get_tracepoint": {"name": "sched:sched_switch"},
    "get_kernel_function": {"name": "vfs_read"},
    "generate_c_header": {"names": ["task_struct"]},
    # BTF object 1 is vmlinux's on a running kernel; a captured tree lists no object.
    "get_loaded_bpf": {"kind": "btf", "id": 1},
}
"""Arguments of a typical call, for the tools that require some; the others take none."""


def message_size(result: Any, request_id: int = 1) -> int:
    """Bytes (UTF-8) of the JSON-RPC message carrying `result` (an MCP result model)."""
    dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
    message = {"jsonrpc": "2.0", "id": request_id, "result": dumped}
    return len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode())


def default_cases(tool_names: list[str]) -> list[Case]:
    """One call per tool with default arguments (typical values where some are required)."""
    return [(name, dict(TYPICAL.get(name, {}))) for name in tool_names]


def largest(
    btf: Btf, kinds: tuple[Kind, ...], count: int = 1, *, by_size: bool = False
) -> list[str]:
    """Names of the `count` named types of `kinds` with the most members or values (or,
    `by_size`, the most bytes: a header of those is the longest)."""
    ids = [tid for kind in kinds for tid in btf.ids_of_kind(kind) if btf.name(tid)]
    ids.sort(key=lambda tid: (-((btf.size(tid) or 0) if by_size else btf.vlen(tid)), btf.name(tid)))
    return list(dict.fromkeys(btf.name(tid) for tid in ids))[:count]


def worst_cases(sysroot: Path) -> list[Case]:
    """The largest answers valid arguments can ask for, per tool."""
    btf = parse_btf((sysroot / "sys/kernel/btf/vmlinux").read_bytes())
    (struct,) = largest(btf, (Kind.STRUCT, Kind.UNION))
    (enum,) = largest(btf, (Kind.ENUM, Kind.ENUM64))
    most = {"limit": 1000}
    return [
        ("list_tracepoints", {**most, "include_fields": True, "include_format": True}),
        ("list_kernel_functions", {**most, "attachable": "kprobe"}),
        ("list_kernel_functions", {**most, "include_padding": True}),
        ("get_btf_types", {**most, "include_members": True}),
        ("get_btf_types", {**most, "kind": "struct", "include_members": True}),
        ("describe_btf_type", {"name": "task_struct", "member_limit": 1000, "include_c": True}),
        ("describe_btf_type", {"name": struct, "member_limit": 1000, "include_c": True}),
        ("describe_btf_type", {"name": enum, "value_limit": 10000, "include_c": True}),
        (
            "generate_c_header",
            {"names": largest(btf, (Kind.STRUCT,), 64, by_size=True), "max_bytes": 24 * 1024},
        ),
        ("list_bpf_program_types", most),
        ("list_bpf_map_types", most),
        ("get_server_status", {}),
        ("get_tracepoint", {"name": "syscalls:sys_enter_openat"}),
        ("list_raw_tracepoints", {**most, "include_args": True}),
        ("get_kernel_function", {"name": "vfs_read"}),
        ("list_kfuncs", {**most, "include_params": True}),
        ("list_bpf_helpers", most),
        ("list_bpf_attach_types", most),
        ("list_bpf_hooks", {**most, "include_details": True}),
        ("list_bpf_hooks", {**most, "kind": "struct_ops", "include_details": True}),
        ("get_kernel_info", {"sections": ["all"]}),
        *(("list_loaded_bpf", {**most, "kind": kind}) for kind in LOADED_KINDS),
        ("get_loaded_bpf", {"kind": "btf", "id": 1}),
    ]


async def measure(sysroot: Path, cases: list[Case]) -> list[int]:
    """The message size of each tool call in `cases` on the kernel under `sysroot`."""
    sizes = []
    async with open_bpf_mcp(Config(sysroot=sysroot)) as handle:
        for name, arguments in cases:
            sizes.append(message_size(await call_tool(handle, name, arguments)))
    return sizes


RESOURCES = (
    "bpf-mcp://status",
    "bpf-mcp://kernel",
    "btf://vmlinux/struct/task_struct",
    "btf-c://vmlinux/struct/task_struct",
    "tracepoint://sched/sched_switch",
    "ksym://vfs_read",
    "kfunc://bpf_dynptr_slice",
)
PROMPTS = (
    ("trace_tracepoint", "sched:sched_switch"),
    ("attach_to_function", "vfs_read"),
    ("explain_struct", "task_struct"),
)


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
