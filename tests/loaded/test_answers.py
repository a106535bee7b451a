"""list_loaded_bpf and get_loaded_bpf over the fake kernel's scan: lean items, filters,
pages, one object in full, kernel function names from the BTF source, small answers."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.answers import answer
from bpf_mcp.btf import parse_btf
from bpf_mcp.convert import unstructure
from bpf_mcp.errors import NotFound
from bpf_mcp.index import BtfIndex, Indexes, LoadedIndex, View
from bpf_mcp.loaded import LoadedBpf, Owner, Program
from bpf_mcp.queries import GetLoadedBpf, ListLoadedBpf
from bpf_mcp.readers.loaded.scan import snapshot
from bpf_mcp.results import LoadedLinkItem, LoadedProgramItem
from bpf_mcp.sources import Source
from bpf_mcp.status import SourceStatus

from .conftest import KINDS_BTF, World

STATS = "proc/sys/kernel/bpf_stats_enabled"


def _btf() -> BtfIndex:
    return BtfIndex.build([parse_btf(KINDS_BTF, object_name="vmlinux")])


def view_of(scan: LoadedBpf, btf: BtfIndex | None = None) -> View:
    now = time.time()
    statuses = {s: SourceStatus(s, "ready", now, loaded_at=now) for s in Source}
    return View(Indexes(btf=btf, loaded=LoadedIndex.build([scan])), statuses)


@pytest.fixture
def scan(world: World) -> LoadedBpf:
    return snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)


def test_programs_list_lean_items(scan: LoadedBpf, world: World) -> None:
    page = answer(ListLoadedBpf(), view_of(scan, _btf()))
    assert (page.kind, page.total, page.next_offset) == ("programs", 2, None)
    first = page.items[0]
    assert isinstance(first, LoadedProgramItem)
    assert (first.id, first.name, first.type, first.tag) == (
        5,
        "on_switch",
        "raw_tracepoint",
        "0001020304050607",
    )
    assert (first.memlock, first.btf_id, first.owners) == (4096, 40, ("loader[100]",))
    assert first.pins == (str(world.bpffs / "app" / "prog"),)
    assert first.run_cnt == 0 and first.run_time_ns == 0  # stats are on in this world
    assert first.loaded_at is not None and first.loaded_at.endswith("+00:00")
    assert page.stats_enabled is True and page.notes == () and page.left_out == ()
    assert page.data_age_seconds >= 0


def test_run_stats_are_null_and_explained_while_stats_are_off(world: World) -> None:
    (world.proc / "sys" / "kernel" / "bpf_stats_enabled").write_text("0\n")
    scan = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    page = answer(ListLoadedBpf(), view_of(scan, _btf()))
    assert all(isinstance(i, LoadedProgramItem) and i.run_cnt is None for i in page.items)
    assert any("kernel.bpf_stats_enabled is 0" in note for note in page.notes)
    # The note is about programs only.
    assert answer(ListLoadedBpf(kind="maps"), view_of(scan, _btf())).notes == ()


def test_link_targets_in_a_few_words(scan: LoadedBpf, world: World) -> None:
    page = answer(ListLoadedBpf(kind="links"), view_of(scan, _btf()))
    targets = {i.id: i.target for i in page.items if isinstance(i, LoadedLinkItem)}
    assert targets == {
        1: "tracepoint sched_switch",
        2: f"cgroup {world.cgroup / 'svc'}",
        3: "netdev eth9 (ifindex 9)",
        4: "function helper",
    }
    item = page.items[3]
    assert isinstance(item, LoadedLinkItem) and item.attach_type == "trace_fentry"


def test_without_btf_functions_are_named_by_id_and_the_answer_says_why(scan: LoadedBpf) -> None:
    page = answer(ListLoadedBpf(kind="links"), view_of(scan, None))
    item = page.items[3]
    assert isinstance(item, LoadedLinkItem) and item.target == "function (BTF type 57)"
    assert any("BTF is not loaded" in note for note in page.notes)
    detail = answer(GetLoadedBpf(kind="programs", id=6), view_of(scan, None))
    assert detail.program is not None
    assert detail.program.attach_to == "BTF type 57 of BTF object 1"


@pytest.mark.parametrize(
    ("kind", "pattern", "ids"),
    [
        ("programs", "LOADER", (5,)),  # an owner's comm, any case
        ("programs", "tracing", (6,)),  # a type
        ("programs", "app/prog", (5,)),  # a pin
        ("maps", "cfg", (31,)),
        ("links", "sched_switch", (1,)),
        ("links", "eth9", (3,)),
        ("links", "fentry", (4,)),  # the attach type
        ("btf", "vmlinux", (1,)),
        ("maps", "nothing-like-this", ()),
    ],
)
def test_pattern_narrows(scan: LoadedBpf, kind: str, pattern: str, ids: tuple[int, ...]) -> None:
    page = answer(ListLoadedBpf(kind=kind, pattern=pattern), view_of(scan, _btf()))  # type: ignore[arg-type]
    assert tuple(i.id for i in page.items) == ids


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5))
def test_pages_concatenate_to_the_whole(limit: int) -> None:
    scan = _many_programs(13)
    view = view_of(scan)
    whole = answer(ListLoadedBpf(limit=1000), view).items
    pages: list[object] = []
    offset: int | None = 0
    while offset is not None:
        page = answer(ListLoadedBpf(limit=limit, offset=offset), view)
        pages.extend(page.items)
        offset = page.next_offset
    assert tuple(pages) == whole


def test_one_program_in_full(scan: LoadedBpf) -> None:
    obj = answer(GetLoadedBpf(kind="programs", id=5), view_of(scan, _btf()))
    p = obj.program
    assert p is not None and (obj.map, obj.link, obj.btf) == (None, None, None)
    assert [(m.id, m.name, m.type) for m in p.maps] == [
        (30, "counts", "hash"),
        (31, "cfg", "array"),
    ]
    assert p.functions == ("use_all", "scale")
    assert [(lk.id, lk.name, lk.type) for lk in p.links] == [
        (1, "tracepoint sched_switch", "raw_tracepoint")
    ]
    assert (p.gpl_compatible, p.attach_to, p.memlock) == (True, None, 4096)
    assert [(o.pid, o.comm) for o in p.owners] == [(100, "loader")]
    traced = answer(GetLoadedBpf(kind="programs", id=6), view_of(scan, _btf())).program
    assert traced is not None and traced.attach_to == "helper"


def test_a_map_a_link_and_a_btf_object_in_full(scan: LoadedBpf) -> None:
    view = view_of(scan, _btf())
    m = answer(GetLoadedBpf(kind="maps", id=30), view).map
    assert m is not None
    assert (m.key_size, m.value_size, m.max_entries, m.frozen) == (4, 8, 64, False)
    assert [(r.id, r.name) for r in m.used_by] == [(5, "on_switch")]
    lk = answer(GetLoadedBpf(kind="links", id=4), view).link
    assert lk is not None and lk.program is not None and lk.program.name == "on_read"
    assert (lk.target.kind, lk.target.name, lk.target.btf_type_id) == ("function", "helper", 57)
    b = answer(GetLoadedBpf(kind="btf", id=40), view).btf
    assert b is not None and (b.kernel, [r.id for r in b.programs]) == (False, [5])
    assert [r.id for r in b.maps] == [30, 31]


def test_an_unknown_id_lists_the_loaded_ones(scan: LoadedBpf) -> None:
    with pytest.raises(
        NotFound, match=r"No map with id 99 .*the loaded ids are 30, 31 \(list_loaded_bpf"
    ):
        answer(GetLoadedBpf(kind="maps", id=99), view_of(scan))
    empty = LoadedBpf((), (), (), (), (), False, time.time())
    with pytest.raises(NotFound, match="none are loaded"):
        answer(GetLoadedBpf(kind="links", id=1), view_of(empty))


def test_left_out_entries_are_reported(world: World) -> None:
    import errno

    from bpf_mcp.loaded import Kind

    world.kernel.faults[("fd_by_id", Kind.MAPS, 31)] = errno.ENOENT
    scan = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    page = answer(ListLoadedBpf(kind="maps"), view_of(scan))
    assert [(x.kind, x.reason, x.count) for x in page.left_out] == [("maps", "vanished", 1)]


def _many_programs(count: int) -> LoadedBpf:
    now = time.time()
    programs = tuple(
        Program(
            id=1000 + i,
            type="tracing",
            type_code=26,
            name=f"handle_sys_{i:04d}"[:15],
            tag=f"{i:016x}",
            gpl_compatible=True,
            load_time_ns=10**9,
            created_by_uid=0,
            xlated_len=4096,
            jited_len=2300,
            verified_insns=10_000,
            nr_map_ids=3,
            nr_func_info=4,
            btf_id=400 + i // 10,
            ifindex=0,
            netns_dev=0,
            netns_ino=0,
            run_time_ns=123_456_789_012,
            run_cnt=98_765_432,
            recursion_misses=0,
            attach_btf_obj_id=1,
            attach_btf_id=60_000 + i,
            loaded_at=now - 3600,
            map_ids=(1, 2, 3),
            memlock=8192,
            owners=(Owner(12345, "systemd"), Owner(23456, "cilium-agent")),
            pins=(f"/sys/fs/bpf/cilium/programs/tracing/handle_sys_{i:04d}",),
        )
        for i in range(count)
    )
    return LoadedBpf(programs, (), (), (), (), True, now)


def test_a_default_answer_stays_well_under_16_kib() -> None:
    """200 programs, each with two owners and a long pin: the first page's JSON."""
    page = answer(ListLoadedBpf(), view_of(_many_programs(200)))
    size = len(json.dumps(unstructure(page)))
    assert page.total == 200 and page.next_offset == len(page.items)
    assert size < 12 * 1024, size


def test_captured_trees_say_why_nothing_is_listed() -> None:
    from bpf_mcp.readers.loaded import CAPTURED_NOTE

    empty = LoadedBpf((), (), (), (), (), None, time.time(), notes=(CAPTURED_NOTE,))
    page = answer(ListLoadedBpf(), view_of(empty))
    assert page.items == () and page.notes == (CAPTURED_NOTE,)
