"""The comparison of Debian's 6.12 with 6.18 against pahole and bpftool: struct
differences as pahole lays each struct out in each kernel, type and function sets as
bpftool dumps each kernel's BTF."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from bpf_mcp.answers.compare import compare_btf
from bpf_mcp.index.indexes import BtfIndex
from bpf_mcp.results_compare import FunctionChange, TypeChange

from ...support import FIXTURE_ROOT
from . import pahole_members
from .conftest import vmlinux_path

pytestmark = pytest.mark.oracle

STRUCTS = ("task_struct", "sk_buff", "bpf_prog", "file", "bpf_map", "sock", "bpf_prog_aux")
FAMILY = {"STRUCT": "struct", "UNION": "union", "ENUM": "enum", "ENUM64": "enum"}
FAMILY |= {"TYPEDEF": "typedef", "INT": "int", "FLOAT": "float"}


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")


@pytest.mark.parametrize("name", STRUCTS)
def test_struct_differences_equal_pahole(
    name: str, linux_6_12_root: Path, btf_6_12: BtfIndex, btf_6_18: BtfIndex
) -> None:
    _need("pahole")
    old = pahole_members.members(pahole_members.run(vmlinux_path(linux_6_12_root), name))
    new = pahole_members.members(pahole_members.run(vmlinux_path(FIXTURE_ROOT), name))
    expected = pahole_members.differences(old, new)
    assert expected, f"pahole sees no difference in {name}: pick a struct that differs"
    page = compare_btf(btf_6_12, btf_6_18, "types", name, kind="struct", limit=1000)
    (item,) = [i for i in page.items if isinstance(i, TypeChange) and i.name == name]
    assert item.change == "changed"
    assert item.members is not None
    assert {(m.member, m.change) for m in item.members} == expected
    for m in item.members:
        if m.offset_a is not None:
            assert m.offset_a == old[m.member][0]
        if m.offset_b is not None:
            assert m.offset_b == new[m.member][0]


@cache
def _bpftool_names(path: Path) -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
    """(family, name) of every named type we compare, and every FUNC name, as bpftool
    dumps the BTF file."""
    done = subprocess.run(
        ["bpftool", "-j", "btf", "dump", "file", str(path)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    types = json.loads(done.stdout)["types"]
    named = [t for t in types if t["name"] != "(anon)"]
    return (
        frozenset((FAMILY[t["kind"]], t["name"]) for t in named if t["kind"] in FAMILY),
        frozenset(t["name"] for t in named if t["kind"] == "FUNC"),
    )


def test_type_sets_equal_bpftool(
    linux_6_12_root: Path, btf_6_12: BtfIndex, btf_6_18: BtfIndex
) -> None:
    _need("bpftool")
    old, _ = _bpftool_names(vmlinux_path(linux_6_12_root))
    new, _ = _bpftool_names(vmlinux_path(FIXTURE_ROOT))
    page = compare_btf(btf_6_12, btf_6_18, "types", limit=100_000)
    assert page.next_offset is None
    found: dict[str, set[tuple[str, str]]] = {"added": set(), "removed": set(), "changed": set()}
    for item in page.items:
        assert isinstance(item, TypeChange)
        family = "enum" if item.kind == "enum64" else item.kind
        found[item.change].add((family, item.name))
    assert found["added"] == new - old
    assert found["removed"] == old - new
    assert page.counts["added"] == len(new - old)
    assert page.counts["changed"] + page.counts["same"] == len(old & new)


def test_function_sets_equal_bpftool(
    linux_6_12_root: Path, btf_6_12: BtfIndex, btf_6_18: BtfIndex
) -> None:
    _need("bpftool")
    _, old = _bpftool_names(vmlinux_path(linux_6_12_root))
    _, new = _bpftool_names(vmlinux_path(FIXTURE_ROOT))
    page = compare_btf(btf_6_12, btf_6_18, "functions", limit=100_000)
    by_change: dict[str, set[str]] = {}
    for item in page.items:
        assert isinstance(item, FunctionChange)
        by_change.setdefault(item.change, set()).add(item.name)
    assert by_change["added"] == new - old
    assert by_change["removed"] == old - new
    assert page.counts["prototype"] + page.counts["same"] == len(old & new)
