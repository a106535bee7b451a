"""The running kernel: counts agree with its own files and with bpftool. Skipped, with the
reason, where the sources cannot be read or the oracle is not installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bpf_mcp.answers import answer
from bpf_mcp.index import View
from bpf_mcp.queries import GetBtfTypes, ListBpfMapTypes, ListBpfProgramTypes, ListTracepoints

pytestmark = pytest.mark.live


def test_tracepoints_equal_available_events(live_view: View) -> None:
    lines = Path("/sys/kernel/tracing/available_events").read_text().split()
    assert answer(ListTracepoints(), live_view).total == len(lines)


@pytest.fixture(scope="module")
def bpftool_types() -> list[dict[str, object]]:
    if shutil.which("bpftool") is None:
        pytest.skip("bpftool is not installed (apt-get install bpftool)")
    out = subprocess.run(
        ["bpftool", "-j", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
        capture_output=True,
        check=True,
        timeout=300,
    ).stdout
    types: list[dict[str, object]] = json.loads(out)["types"]
    return types


@pytest.mark.oracle
def test_btf_named_total_equals_bpftool(
    live_view: View, bpftool_types: list[dict[str, object]]
) -> None:
    named = [t for t in bpftool_types if t["name"] != "(anon)"]
    assert answer(GetBtfTypes(), live_view).total == len(named)


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("query", "enum"),
    [
        (ListBpfProgramTypes(limit=1000), "bpf_prog_type"),
        (ListBpfMapTypes(limit=1000), "bpf_map_type"),
    ],
)
def test_enums_equal_bpftool_minus_sentinels(
    live_view: View,
    bpftool_types: list[dict[str, object]],
    query: Any,
    enum: str,
) -> None:
    (found,) = [t for t in bpftool_types if t["kind"] == "ENUM" and t["name"] == enum]
    expected = [
        (v["name"], v["val"])
        for v in found["values"]  # type: ignore[attr-defined]
        if not v["name"].startswith("__")
    ]
    result = answer(query, live_view)
    assert result.source == "kernel-btf"
    assert [(e.constant, e.value) for e in result.items] == expected
