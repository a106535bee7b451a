"""The calls whose answer sizes are bounded: each tool with default arguments and with the
largest valid ones, the resource reads and the prompts; and an answer's size as a client
receives it. Shared by tests/transports/test_answer_sizes.py (the bounds) and
bench/answer_sizes.py (the table in BENCHMARKS.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from bpf_mcp.btf import Btf, Kind, parse_btf
from bpf_mcp.queries import LOADED_KINDS

Case = tuple[str, dict[str, Any]]

TYPICAL: dict[str, dict[str, Any]] = {
    "describe_btf_type": {"name": "task_struct"},
    "get_tracepoint": {"name": "sched:sched_switch"},
    "get_kernel_function": {"name": "vfs_read"},
    "generate_c_header": {"names": ["task_struct"]},
    # BTF object 1 is vmlinux's on a running kernel; a captured tree lists no object.
    "get_loaded_bpf": {"kind": "btf", "id": 1},
    # Only the local kernel is registered where sizes are measured: compared with itself.
    "compare_kernels": {"a": "local", "b": "local"},
    "compare_type_across": {"name": "task_struct", "kernels": ["local", "local"]},
    "check_bpftrace_script": {
        "script": "tracepoint:syscalls:sys_enter_openat { @[str(args.filename)] = count(); }"
    },
}
"""Arguments of a typical call, for the tools that require some; the others take none."""

OBJECTS = Path(__file__).resolve().parents[3] / "tests" / "preflight" / "objects"
"""The compiled test corpus of check_bpf_object (in a source checkout)."""


def object_argument(name: str) -> str:
    """A corpus object in base64, as check_bpf_object's data_base64."""
    return base64.b64encode((OBJECTS / name).read_bytes()).decode()


def _many_probes() -> str:
    """A script of nearly 64 KiB of probes that cannot attach (no such tracepoints)."""
    lines: list[str] = []
    size = 0
    while size < 60 * 1024:
        line = f"t:sched:no_such_{len(lines)} {{ @[args.x] = count(); }}"
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def message_size(result: Any, request_id: int = 1) -> int:
    """Bytes (UTF-8) of the JSON-RPC message carrying `result` (an MCP result model)."""
    dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
    message = {"jsonrpc": "2.0", "id": request_id, "result": dumped}
    return len(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode())


def default_cases(tool_names: list[str]) -> list[Case]:
    """One call per tool with default arguments (typical values where some are required)."""
    typical = {**TYPICAL, "check_bpf_object": {"data_base64": object_argument("maps.bpf.o")}}
    return [(name, dict(typical.get(name, {}))) for name in tool_names]


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
        (
            "check_bpf_object",
            {"data_base64": object_argument("many_relocations.bpf.o"), "relocations": "all"},
        ),
        ("check_bpftrace_script", {"script": _many_probes()}),
    ]


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
