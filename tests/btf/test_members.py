"""Member layouts with holes and padding, on fixtures and on built blobs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bpf_mcp.btf import Btf, BtfError, Kind, parse_btf
from bpf_mcp.btf.members import describe_members
from bpf_mcp.testing import pahole
from bpf_mcp.testing.btf import BtfBuilder

from .conftest import BLOBS, FIXTURE_VMLINUX


@pytest.fixture(scope="module")
def kernel() -> Btf:
    return parse_btf(FIXTURE_VMLINUX.read_bytes())


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    """pahole's layouts of fixtures/linux-6.18, by scripts/record_pahole_layouts.py."""
    data = json.loads((BLOBS / "pahole_layouts.json").read_text())
    layouts: dict[str, Any] = data["layouts"]
    return layouts


def one(btf: Btf, name: str, kind: Kind) -> int:
    (tid,) = [t for t in btf.find(name) if btf.kind(t) is kind]
    return tid


def test_recorded_pahole_layouts(kernel: Btf, recorded: dict[str, Any]) -> None:
    assert len(recorded) >= 20
    problems = []
    for name, want in recorded.items():
        items, summary = describe_members(kernel, one(kernel, name, Kind.STRUCT))
        got = pahole.mine(items, summary)
        problems += pahole.differences(name, want, got, align=summary.alignment)
    assert problems == []


def test_anonymous_members_are_expanded_with_paths(kernel: Btf) -> None:
    items, _ = describe_members(kernel, one(kernel, "sk_buff", Kind.STRUCT))
    by_path = {m.path: m for m in items if m.path}
    assert by_path["next"].depth == 2
    assert by_path["dev"].offset == 16
    assert by_path["headers"].expanded
    assert by_path["headers.csum_start"].offset == by_path["csum_start"].offset
    anonymous = [m for m in items if not m.name]
    assert anonymous and all(m.expanded for m in anonymous)
    assert all(items[m.parent].expanded for m in items if m.parent >= 0)
    top_level = [m for m in items if m.depth == 0]
    assert len(top_level) == len(kernel.members(one(kernel, "sk_buff", Kind.STRUCT)))


def test_arrays_of_anonymous_structs_expand_their_first_element(kernel: Btf) -> None:
    items, _ = describe_members(kernel, one(kernel, "net_device_path_ctx", Kind.STRUCT))
    assert [m.path for m in items if m.depth == 1] == ["vlan[0].id", "vlan[0].proto"]


def test_bitfields_and_holes(kinds: Btf) -> None:
    items, summary = describe_members(kinds, one(kinds, "bits", Kind.STRUCT))
    rows = [(m.name, m.offset, m.bit_in_unit, m.size, m.bitfield_size) for m in items]
    assert rows == [
        ("a", 0, 0, 4, 3),
        ("b", 0, 3, 4, 5),
        ("c", 0, 8, 4, 7),
        ("d", 8, 0, 8, 0),
        ("e", 16, 0, 1, 1),
    ]
    c = items[2]
    assert (c.bit_hole_after, c.hole_after) == (17, 4)
    assert (summary.size, summary.alignment, summary.padding) == (24, 8, 7)
    assert (summary.holes, summary.sum_holes, summary.bit_holes) == (1, 4, 1)


def test_hole_before_the_first_member() -> None:
    b = BtfBuilder()
    u32 = b.int_("unsigned int", 4, 32)
    tid = b.members(Kind.STRUCT, "leaf", 4, [("invalid", u32, 1 << 24 | 31)], kind_flag=True)
    btf = parse_btf(b.blob())
    _, summary = describe_members(btf, tid)
    assert (summary.bit_hole_at_start, summary.bit_holes, summary.sum_bit_holes) == (31, 1, 31)


def test_union_padding(kinds: Btf) -> None:
    items, summary = describe_members(kinds, one(kinds, "number", Kind.UNION))
    assert {m.offset for m in items} == {0}
    assert (summary.size, summary.alignment, summary.holes, summary.padding) == (16, 16, 0, 0)


def test_not_a_struct(kinds: Btf) -> None:
    with pytest.raises(BtfError, match="not a struct or union"):
        describe_members(kinds, one(kinds, "color", Kind.ENUM))
