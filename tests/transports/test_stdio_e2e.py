"""End to end: the real `bpf-mcp` process over stdio, driven by the mcp SDK client on both
protocol eras, and by raw JSON-RPC lines."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import trio
from mcp import Client, MCPError
from mcp.client.stdio import StdioServerParameters

from bpf_mcp.tools import TOOLS
from tests.support import FIXTURE_ROOT

pytestmark = pytest.mark.slow

SERVER = [sys.executable, "-m", "bpf_mcp", "--sysroot", str(FIXTURE_ROOT)]

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_tracepoints", {}),
    ("list_tracepoints", {"category": "sched", "pattern": "switch", "limit": 5}),
    ("list_kernel_functions", {}),
    ("list_kernel_functions", {"pattern": "vfs_read", "limit": 3, "include_padding": True}),
    ("get_btf_types", {}),
    ("get_btf_types", {"pattern": "task_struct", "kind": "struct"}),
    ("get_btf_types", {"pattern": "bpf_*_ops", "match": "glob", "case_sensitive": True}),
    ("describe_btf_type", {"name": "sk_buff"}),
    ("describe_btf_type", {"name": "vfs_read"}),
    ("generate_c_header", {"names": ["task_struct", "sock"]}),
    ("list_bpf_program_types", {}),
    ("list_bpf_program_types", {"pattern": "kprobe"}),
    ("list_bpf_map_types", {}),
    ("list_bpf_map_types", {"pattern": "hash", "limit": 2, "offset": 1}),
    ("get_server_status", {}),
    ("get_tracepoint", {"name": "sched:sched_switch"}),
    ("get_kernel_function", {"name": "vfs_read"}),
    ("list_kfuncs", {"pattern": "dynptr", "limit": 3}),
    ("list_bpf_hooks", {"kind": "iterator"}),
    ("get_kernel_info", {}),
]


def params() -> StdioServerParameters:
    return StdioServerParameters(command=SERVER[0], args=SERVER[1:])


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_every_tool_over_stdio(mode: str) -> None:
    with trio.fail_after(60):
        async with Client(params(), mode=mode) as client:
            listed = await client.list_tools()
            assert [t.name for t in listed.tools] == [t.name for t in TOOLS]
            schemas = {t.name: t for t in listed.tools}
            for tool in listed.tools:
                assert tool.annotations is not None and tool.annotations.read_only_hint
                assert tool.annotations.idempotent_hint and not tool.annotations.open_world_hint
                assert tool.title and tool.description and tool.output_schema
            for name, arguments in CALLS:
                result = await client.call_tool(name, arguments)
                assert not result.is_error, (name, result.content)
                payload = result.structured_content
                jsonschema.validate(payload, schemas[name].output_schema or {})
                assert json.loads(result.content[0].text) == payload  # type: ignore[union-attr]
                if "items" in payload:
                    assert payload["total"] >= len(payload["items"]) > 0


async def test_pagination_walk_and_errors_over_stdio() -> None:
    with trio.fail_after(60):
        async with Client(params(), mode="legacy") as client:
            names: list[str] = []
            offset: int | None = 0
            while offset is not None:
                result = await client.call_tool(
                    "list_tracepoints", {"category": "syscalls", "limit": 200, "offset": offset}
                )
                page = result.structured_content
                names += [t["name"] for t in page["items"]]
                offset = page["next_offset"]
            assert len(names) == len(set(names)) == page["total"] > 600

            bad = await client.call_tool("list_tracepoints", {"limit": 5000})
            assert bad.is_error and "limit must be <= 1000" in bad.content[0].text  # type: ignore[union-attr]
            bad = await client.call_tool("get_btf_types", {"colour": "red"})
            assert bad.is_error and "unknown argument(s): colour" in bad.content[0].text  # type: ignore[union-attr]
            with pytest.raises(MCPError, match="Unknown tool"):
                await client.call_tool("no_such_tool", {})
            # The server is still answering after errors.
            ok = await client.call_tool("list_bpf_map_types", {"pattern": "ringbuf"})
            assert not ok.is_error


def _requests() -> str:
    lines = [
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]
    for n in range(1, 41):
        name, arguments = CALLS[n % len(CALLS)]
        lines.append(
            {
                "jsonrpc": "2.0",
                "id": n,
                "method": "tools/call",
                "params": {"name": name, "arguments": arguments},
            }
        )
    return "".join(json.dumps(line) + "\n" for line in lines)


def test_piped_requests_are_all_answered_and_stdout_is_only_protocol() -> None:
    done = subprocess.run(
        SERVER, input=_requests(), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(r["id"] for r in replies) == list(range(41))
    assert all(r["jsonrpc"] == "2.0" and "result" in r for r in replies)


def test_requests_from_a_regular_file(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(_requests())
    out = tmp_path / "out.jsonl"
    with requests.open() as stdin, out.open("w") as stdout:
        code = subprocess.run(SERVER, stdin=stdin, stdout=stdout, timeout=120, check=False)
    assert code.returncode == 0
    assert len(out.read_text().splitlines()) == 41


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_signals_stop_the_server_with_stdin_open(signum: int) -> None:
    proc = await trio.lowlevel.open_process(
        SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    await proc.stdin.send_all(_requests().splitlines(keepends=True)[0].encode())
    with trio.fail_after(30):
        first = await proc.stdout.receive_some(65536)
    assert b'"id":0' in first
    proc.send_signal(signum)
    with trio.fail_after(10):
        code = await proc.wait()
    assert code == 0
    await proc.stdin.aclose()
