"""Struct layouts against pahole on the running kernel: offsets, sizes, holes, padding."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpf_mcp.btf import Btf, Kind
from bpf_mcp.btf.layout import Layouts
from bpf_mcp.btf.members import describe_members
from bpf_mcp.testing import pahole

from .conftest import LIVE_VMLINUX

pytestmark = [pytest.mark.live, pytest.mark.oracle]


@pytest.fixture(scope="module")
def pahole_tool(vmlinux: Btf) -> str:
    found = pahole.pahole()
    if found is None:
        pytest.skip("pahole is not installed (Debian: apt-get install dwarves)")
    return found


def _the(btf: Btf, name: str, kind: Kind) -> int | None:
    found = [t for t in btf.find(name) if btf.kind(t) is kind]
    return found[0] if len(found) == 1 else None


def test_large_structs_match_pahole(vmlinux: Btf, pahole_tool: str) -> None:
    names = list(pahole.LAYOUT_STRUCTS)
    blocks = pahole.split(pahole.run(pahole_tool, LIVE_VMLINUX, names))
    problems = []
    compared = 0
    for name in names:
        tid = _the(vmlinux, name, Kind.STRUCT)
        if tid is None or name not in blocks:
            continue  # a kernel built without this struct
        items, summary = describe_members(vmlinux, tid)
        got = pahole.mine(items, summary)
        problems += pahole.differences(
            name, pahole.parse(blocks[name]), got, align=summary.alignment
        )
        compared += 1
    assert compared >= 20
    assert problems == []


@pytest.mark.exhaustive
def test_every_named_struct_and_union_matches_pahole(vmlinux: Btf, pahole_tool: str) -> None:
    """Every struct and union pahole prints whose name is unique in BTF. Alignment is
    left out: where no member shows it, it is a guess, and pahole guesses differently
    for a handful of structs."""
    blocks = pahole.split(pahole.run_all(pahole_tool, LIVE_VMLINUX))
    layouts = Layouts(vmlinux)
    problems: list[str] = []
    compared = 0
    for name, lines in blocks.items():
        kind = Kind.STRUCT if lines[0].startswith("struct") else Kind.UNION
        tid = _the(vmlinux, name, kind)
        if tid is None:
            continue
        items, summary = describe_members(vmlinux, tid, layouts)
        problems += pahole.differences(
            name, pahole.parse(lines), pahole.mine(items, summary), align=None
        )
        compared += 1
    assert compared > len(vmlinux.ids_of_kind(Kind.STRUCT)) // 2
    assert problems[:20] == []


def test_pahole_output_parses(pahole_tool: str) -> None:
    """The parser reads pahole's own text: a guard against a pahole whose format moved."""
    blocks = pahole.split(pahole.run(pahole_tool, Path(LIVE_VMLINUX), ["list_head"]))
    layout = pahole.parse(blocks["list_head"])
    assert layout["members"] == [[0, 0, None, 8, 0, 0], [0, 8, None, 8, 0, 0]]
    assert layout["summary"]["size"] == 16
