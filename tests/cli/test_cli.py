"""The command line: `--help` names every option with its environment variable, `--tools`
offers a subset, `bpf-mcp call` runs one tool."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import FIXTURE_ROOT

FIXTURES = str(FIXTURE_ROOT)
BPF_MCP = [sys.executable, "-m", "bpf_mcp"]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BPF_MCP, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_help_lists_every_option_with_its_environment_variable() -> None:
    done = run("--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for option, env in [
        ("--sysroot", "BPF_MCP_SYSROOT"),
        ("--refresh-interval", "BPF_MCP_REFRESH_INTERVAL"),
        ("--log-level", "BPF_MCP_LOG_LEVEL"),
        ("--tools", "BPF_MCP_TOOLS"),
        ("--answer-cache", "BPF_MCP_ANSWER_CACHE"),
        ("--read-timeout", "BPF_MCP_READ_TIMEOUT"),
        ("--max-answer-bytes", "BPF_MCP_MAX_ANSWER_BYTES"),
        ("--http", "BPF_MCP_HTTP"),
        ("--bind", "BPF_MCP_BIND"),
        ("--token-file", "BPF_MCP_TOKEN"),
    ]:
        assert option in text and env in text, option
    assert run("--version").stdout.startswith("bpf-mcp ")


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--read-timeout", "0"], {}, "--read-timeout must be positive"),
        (["--refresh-interval", "-1"], {}, "--refresh-interval must be positive"),
        ([], {"BPF_MCP_READ_TIMEOUT": "soon"}, "argument --read-timeout: invalid float value"),
        ([], {"BPF_MCP_ANSWER_CACHE": "lots"}, "argument --answer-cache: invalid int value"),
        (["--max-answer-bytes", "1000"], {}, "--max-answer-bytes must be 16384-1048576"),
        ([], {"BPF_MCP_MAX_ANSWER_BYTES": "2000000"}, "--max-answer-bytes must be 16384-1048576"),
        ([], {"BPF_MCP_MAX_ANSWER_BYTES": "big"}, "argument --max-answer-bytes: invalid int"),
    ],
)
def test_bad_numbers_are_refused_with_a_sentence(
    args: list[str], env: dict[str, str], words: str
) -> None:
    done = subprocess.run(
        [*BPF_MCP, "--sysroot", FIXTURES, *args],
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_tools_subset_over_stdio() -> None:
    lines = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    done = run(
        "--sysroot",
        FIXTURES,
        "--tools",
        "list_bpf_map_types,get_btf_types",
        stdin="".join(json.dumps(line) + "\n" for line in lines),
    )
    replies = {r["id"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert [t["name"] for t in replies[2]["result"]["tools"]] == [
        "get_btf_types",
        "list_bpf_map_types",
    ]
    bad = run("--tools", "nope")
    assert bad.returncode == 2 and "unknown tool(s): nope" in bad.stderr


@pytest.mark.slow
def test_call_prints_a_table_json_and_errors() -> None:
    table = run("call", "list_bpf_map_types", "pattern=ring", "--sysroot", FIXTURES)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["name", "constant", "value", "description"]
    as_json = run("call", "--json", "list_bpf_map_types", "pattern=ring", "--sysroot", FIXTURES)
    assert json.loads(as_json.stdout)["total"] == 2
    error = run("call", "get_btf_types", "limit=0", "--sysroot", FIXTURES)
    assert error.returncode == 1 and "limit must be >= 1" in error.stderr
    usage = run("call", "get_btf_types", "oops", "--sysroot", FIXTURES)
    assert usage.returncode == 2 and "expected key=value" in usage.stderr


def test_table_cells_wrap_and_are_never_cut() -> None:
    from bpf_mcp.calltool import MAX_CELL, render_table

    reason = " ".join(f"word{i}" for i in range(60))
    payload = {
        "items": [{"name": "vfs_read", "reason": reason}],
        "total": 1,
        "offset": 0,
        "next_offset": None,
        "verdicts": [{"mechanism": "fentry", "reasons": [reason]}],
    }
    table = render_table(payload)
    assert "..." not in table
    words = table.split()
    assert all(f"word{i}" in words for i in range(60))
    item_lines = table.split("---")[-1].splitlines()
    assert all(len(line) <= len("vfs_read") + 2 + MAX_CELL for line in item_lines[:6])


def test_a_one_shot_call_reads_only_its_sources_and_no_mcp_sdk() -> None:
    code = (
        "import sys, functools, trio\n"
        "from bpf_mcp.calltool import call, readers_for\n"
        "from bpf_mcp.config import Config\n"
        f"config = Config(sysroot=__import__('pathlib').Path({FIXTURES!r}))\n"
        "assert [r.source.value for r in readers_for('describe_btf_type', {'name': 'x'})]"
        " == ['btf']\n"
        "assert readers_for('get_server_status', {}) is None\n"
        "rc = trio.run(functools.partial(call, config, 'describe_btf_type',"
        " {'name': 'list_head'}, as_json=True))\n"
        "print('SDK' if 'mcp' in sys.modules else 'NO-SDK', rc, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "list_head"
    assert done.stderr.strip().endswith("NO-SDK 0")
