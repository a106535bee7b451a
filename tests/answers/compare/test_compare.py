"""Kernel comparisons on kernels built to differ in known ways, and on the two fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpf_mcp.answers.compare import (
    KernelSide,
    compare_btf,
    compare_kernels,
    compare_tracepoints,
    side_by_side,
)
from bpf_mcp.btf import Kind, parse_btf
from bpf_mcp.errors import InvalidArgument, NotFound, SourceUnavailable
from bpf_mcp.index import View
from bpf_mcp.index.indexes import BtfIndex, KallsymsIndex, TracefsIndex
from bpf_mcp.kallsyms import parse_kallsyms
from bpf_mcp.results_compare import (
    Cell,
    EnumValueChange,
    FieldChange,
    FunctionChange,
    MemberChange,
    TracepointChange,
    TypeChange,
)
from bpf_mcp.testing.btf import BtfBuilder
from bpf_mcp.tracefs import TracefsChunk

from ...support import FIXTURE_ROOT


def _kernel(new: bool) -> BtfIndex:
    """A small kernel; the new one differs from the old in known ways."""
    b = BtfBuilder()
    int_ = b.int_("int", 4, 32, encoding=1)
    long_ = b.int_("long", 8, 64, encoding=1)
    if not new:
        union = b.members(Kind.UNION, "", 8, [("u1", int_, 0), ("u2", long_, 0)])
        b.members(Kind.STRUCT, "s", 16, [("a", int_, 0), ("b", int_, 32), ("", union, 64)])
        b.enum("e", [("X", 1), ("Y", 2), ("Z", 3)])
        b.ref(Kind.TYPEDEF, int_, "t")
        b.members(Kind.STRUCT, "gone", 4, [("a", int_, 0)])
    else:
        union = b.members(Kind.UNION, "", 4, [("u1", int_, 0), ("u3", int_, 0)])
        members = [("a", int_, 0), ("c", long_, 64), ("b", int_, 128), ("", union, 192)]
        b.members(Kind.STRUCT, "s", 32, members)
        b.enum("e", [("X", 1), ("Y", 5), ("W", 4)])
        b.ref(Kind.TYPEDEF, long_, "t")
        b.members(Kind.STRUCT, "fresh", 4, [("a", int_, 0)])
    b.members(Kind.STRUCT, "same", 4, [("a", int_, 0)])
    f_proto = b.func_proto(int_, [("x", long_ if new else int_)], variadic=False)
    b.add(Kind.FUNC, "f", size_or_type=f_proto)
    g_proto = b.func_proto(int_, [("y" if new else "x", int_)], variadic=False)
    b.add(Kind.FUNC, "g", size_or_type=g_proto)
    b.add(Kind.FUNC, "only_b" if new else "only_a", size_or_type=g_proto)
    return BtfIndex.build([parse_btf(b.blob())])


OLD, NEW = _kernel(False), _kernel(True)


def test_types_differ_as_built() -> None:
    page = compare_btf(OLD, NEW, "types", names=("old", "new"))
    assert page.counts == {"added": 1, "removed": 1, "changed": 3, "same": 3}
    by_name = {(i.name, i.kind): i for i in page.items if isinstance(i, TypeChange)}
    assert sorted(by_name) == [
        ("e", "enum"),
        ("fresh", "struct"),
        ("gone", "struct"),
        ("s", "struct"),
        ("t", "typedef"),
    ]
    s = by_name["s", "struct"]
    assert (s.change, s.size_a, s.size_b) == ("changed", 16, 32)
    # In offset order: b's offset, or a's for a removed member.
    assert s.members == (
        MemberChange("c", "added", None, "long", None, 8, None, 64),
        MemberChange("u2", "removed", "long", None, 8, None, 64, None),
        MemberChange("b", "moved", "int", "int", 4, 16, 32, 128),
        MemberChange("u1", "moved", "int", "int", 8, 24, 64, 192),
        MemberChange("u3", "added", None, "int", None, 24, None, 192),
    )
    assert by_name["e", "enum"].values == (
        EnumValueChange("Y", "changed", 2, 5),
        EnumValueChange("Z", "removed", 3, None),
        EnumValueChange("W", "added", None, 4),
    )
    t = by_name["t", "typedef"]
    assert (t.type_a, t.type_b) == ("int", "long")
    assert by_name["fresh", "struct"].change == "added"
    assert by_name["fresh", "struct"].object_b == "vmlinux"
    assert by_name["gone", "struct"].members is None


def test_functions_differ_by_types_not_parameter_names() -> None:
    page = compare_btf(OLD, NEW, "functions")
    assert page.counts == {"added": 1, "removed": 1, "prototype": 1, "same": 1}
    assert [(i.name, i.change) for i in page.items] == [
        ("f", "prototype"),
        ("only_a", "removed"),
        ("only_b", "added"),
    ]
    (f,) = [i for i in page.items if isinstance(i, FunctionChange) and i.name == "f"]
    assert (f.prototype_a, f.prototype_b) == ("int f(int x)", "int f(long x)")
    assert page.note is not None and "'a' and 'b' not loaded" in page.note


def test_filters_keep_counts_of_all_that_matched() -> None:
    changed = compare_btf(OLD, NEW, "types", change="changed")
    assert [i.name for i in changed.items] == ["e", "s", "t"]
    assert changed.counts["added"] == 1
    structs = compare_btf(OLD, NEW, "types", kind="struct", pattern="S")
    assert structs.counts == {"added": 1, "changed": 1, "same": 1}  # fresh, s, same
    with pytest.raises(InvalidArgument, match="kind 'func' is not compared"):
        compare_btf(OLD, NEW, "types", kind="func")
    with pytest.raises(InvalidArgument, match="change 'moved' is not one of"):
        compare_btf(OLD, NEW, "functions", change="moved")


def test_a_kernel_compared_with_itself_has_no_differences(btf_6_18: BtfIndex) -> None:
    for what in ("types", "functions"):
        page = compare_btf(btf_6_18, btf_6_18, what)
        assert page.items == ()
        assert set(page.counts) == {"same"}


@pytest.fixture(scope="module")
def paged_pair(btf_6_12: BtfIndex, btf_6_18: BtfIndex) -> tuple[BtfIndex, BtfIndex]:
    return btf_6_12, btf_6_18


@settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(offset=st.integers(0, 60), limit=st.integers(1, 25))
def test_pages_are_slices_of_the_whole(
    paged_pair: tuple[BtfIndex, BtfIndex], offset: int, limit: int
) -> None:
    whole = compare_btf(*paged_pair, "types", "bpf_prog", limit=10_000).items
    part = compare_btf(*paged_pair, "types", "bpf_prog", offset=offset, limit=limit)
    assert part.items == whole[offset : offset + limit]
    assert part.total == len(whole)
    assert part.next_offset == (offset + limit if offset + limit < len(whole) else None)


def test_module_types_name_their_module(btf_6_12_modules: BtfIndex, btf_6_18: BtfIndex) -> None:
    # sch_fq is a module in Debian's 6.12 and not built into the 6.18 fixture; veth is
    # built into both.
    page = compare_btf(btf_6_12_modules, btf_6_18, "types", kind="struct", limit=100_000)
    from_fq = [i for i in page.items if isinstance(i, TypeChange) and i.object_a == "sch_fq"]
    assert from_fq and {i.change for i in from_fq} == {"removed"}
    (veth_rq,) = [i for i in page.items if isinstance(i, TypeChange) and i.name == "veth_rq"]
    assert (veth_rq.object_a, veth_rq.object_b, veth_rq.change) == ("veth", "vmlinux", "changed")
    vmlinux_only = BtfIndex.build([btf_6_12_modules.btf])
    without = compare_btf(vmlinux_only, btf_6_18, "types", "veth_rq", kind="struct")
    assert [(i.name, i.change) for i in without.items if i.name == "veth_rq"] == [
        ("veth_rq", "added")
    ]


# -- clones, with kallsyms ------------------------------------------------------------------


@pytest.fixture(scope="module")
def kallsyms_pair() -> tuple[KallsymsIndex, KallsymsIndex]:
    text = (FIXTURE_ROOT / "proc/kallsyms").read_text()
    cloned, count = re.subn(r" vfs_read\n", " vfs_read.isra.0\n", text)
    assert count == 1
    return (
        KallsymsIndex.build([parse_kallsyms(text)]),
        KallsymsIndex.build([parse_kallsyms(cloned)]),
    )


def test_a_function_left_only_as_a_clone_is_a_clones_change(
    btf_6_18: BtfIndex, kallsyms_pair: tuple[KallsymsIndex, KallsymsIndex]
) -> None:
    page = compare_btf(btf_6_18, btf_6_18, "functions", kallsyms=kallsyms_pair)
    assert page.note is None
    assert [(i.name, i.change) for i in page.items] == [("vfs_read", "clones")]
    (item,) = page.items
    assert isinstance(item, FunctionChange)
    assert (item.only_clones_a, item.only_clones_b) == (False, True)
    assert page.counts["only_clones_in_b"] == page.counts["only_clones_in_a"] + 1
    assert page.counts["only_clones_in_a"] > 100  # the fixture's own clone-only functions


# -- tracepoints ----------------------------------------------------------------------------


def test_tracepoints_differ_as_edited(view: View) -> None:
    old = view.indexes.tracefs
    assert old is not None
    records = {r.name: r for r in old.records}
    switch = records["sched:sched_switch"]
    fields = list(switch.format.fields)
    fields[-1] = attrs.evolve(fields[-1], offset=fields[-1].offset + 8)
    fields.append(attrs.evolve(fields[-1], name="next_cpu", c_type="int", offset=80, size=4))
    records["sched:sched_switch"] = attrs.evolve(
        switch, format=attrs.evolve(switch.format, fields=tuple(fields))
    )
    del records["sched:sched_wakeup"]
    records["sched:sched_new"] = attrs.evolve(switch, event="sched_new")
    new = TracefsIndex.build([TracefsChunk(old.mount, tuple(records.values()))])
    page = compare_tracepoints(old, new, "sched:", names=("6.18", "edited"))
    assert page.counts == {
        "added": 1,
        "changed": 1,
        "removed": 1,
        "same": len([n for n in old.by_name if "sched:" in n]) - 2,
    }
    assert [(i.name, i.change) for i in page.items] == [
        ("sched:sched_new", "added"),
        ("sched:sched_switch", "changed"),
        ("sched:sched_wakeup", "removed"),
    ]
    item = page.items[1]
    assert isinstance(item, TracepointChange) and item.fields is not None
    last = switch.format.fields[-1]
    assert item.fields == (
        FieldChange(
            last.name,
            "moved",
            last.c_type,
            last.c_type,
            last.offset,
            last.offset + 8,
            last.size,
            last.size,
        ),
        FieldChange("next_cpu", "added", None, "int", None, 80, None, 4),
    )


def test_a_kernel_without_a_source_is_refused_by_name(view: View, btf_6_18: BtfIndex) -> None:
    local = KernelSide.of("local", view.indexes)
    with pytest.raises(SourceUnavailable, match="Kernel 'debian' has no tracefs loaded"):
        compare_kernels(local, KernelSide("debian", btf_6_18), "tracepoints")
    same = compare_kernels(local, local, "tracepoints", "sched:")
    assert same.items == () and same.counts["same"] > 20
    with pytest.raises(SourceUnavailable, match="Kernel 'bare' has no BTF loaded"):
        compare_kernels(KernelSide("bare"), KernelSide("local", btf_6_18), "types")
    page = compare_kernels(KernelSide("x", OLD), KernelSide("y", NEW), "types", kind="enum")
    assert (page.a, page.b, page.what, page.total) == ("x", "y", "types", 1)


# -- side by side ---------------------------------------------------------------------------


def test_a_struct_side_by_side(btf_6_12: BtfIndex, btf_6_18: BtfIndex) -> None:
    kernels = [("6.12", btf_6_12), ("6.18", btf_6_18), ("again", btf_6_18)]
    table = side_by_side("bpf_prog", kernels, limit=1000)
    assert [(c.kernel, c.kind, c.object) for c in table.kernels] == [
        ("6.12", "struct", "vmlinux"),
        ("6.18", "struct", "vmlinux"),
        ("again", "struct", "vmlinux"),
    ]
    rows = {r.row: r for r in table.items}
    assert rows["digest"].cells[0] is None  # new in 6.18
    assert rows["digest"].cells[1] == rows["digest"].cells[2] == Cell("u8[32]", 20, 160)
    assert rows["len"].same
    assert table.differing == sum(1 for r in table.items if not r.same) > 0
    assert list(rows)[:3] == ["pages", "jited", "jit_requested"]
    only = side_by_side("bpf_prog", kernels, only_differences=True, limit=1000)
    assert [r.row for r in only.items] == [r.row for r in table.items if not r.same]


def test_functions_enums_and_absences_side_by_side(btf_6_12: BtfIndex) -> None:
    table = side_by_side("f", [("old", OLD), ("new", NEW), ("debian", btf_6_12)])
    assert [r.row for r in table.items] == ["return", "#0 x"]
    assert table.items[1].cells == (Cell("int", None, None), Cell("long", None, None), None)
    assert table.note == "Absent from: debian."
    enum = side_by_side("e", [("old", OLD), ("new", NEW)])
    assert [(r.row, r.same) for r in enum.items] == [
        ("X", True),
        ("Y", False),
        ("W", False),
        ("Z", False),
    ]
    with pytest.raises(NotFound, match="No kernel of old, new has a type or function"):
        side_by_side("nothing_named_so", [("old", OLD), ("new", NEW)])
    with pytest.raises(InvalidArgument):
        side_by_side("s", [])


def test_a_typedef_side_by_side_shows_what_it_names(linux_6_12_root: Path) -> None:
    index = BtfIndex.build([parse_btf((linux_6_12_root / "sys/kernel/btf/vmlinux").read_bytes())])
    table = side_by_side("atomic_t", [("6.12", index)])
    assert [(r.row, r.cells[0]) for r in table.items] == [("counter", Cell("int", 0, 0))]
