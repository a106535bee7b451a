"""The five original tools (and status) answered over the captured kernel."""

from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import pytest

from bpf_mcp.answers import answer
from bpf_mcp.errors import InvalidArgument, SourceFailure
from bpf_mcp.index import Indexes, View
from bpf_mcp.index.indexes import KallsymsIndex
from bpf_mcp.kallsyms import parse_kallsyms
from bpf_mcp.queries import (
    GetBtfTypes,
    GetServerStatus,
    ListBpfMapTypes,
    ListBpfProgramTypes,
    ListKernelFunctions,
    ListTracepoints,
)
from bpf_mcp.sources import Source


def walk_all(view: View, query: Any, limit: int = 1000) -> list[object]:
    items: list[object] = []
    offset: int | None = 0
    while offset is not None:
        result = answer(attrs.evolve(query, offset=offset, limit=limit), view)
        items.extend(result.items)
        offset = result.next_offset
    return items


# -- list_tracepoints ---------------------------------------------------------------------


def test_tracepoint_total_equals_available_events(view: View, fixture_root: Path) -> None:
    lines = (fixture_root / "sys/kernel/tracing/available_events").read_text().split()
    result = answer(ListTracepoints(), view)
    assert result.total == len(lines) == 2305
    assert len(result.items) == 40
    assert result.next_offset == 40
    walked = walk_all(view, ListTracepoints())
    assert sorted(t.name for t in walked) == sorted(lines)  # type: ignore[attr-defined]


def test_tracepoints_exclude_internal_ftrace_formats(view: View) -> None:
    assert answer(ListTracepoints(category="ftrace"), view).total == 0


def test_category_filter_is_applied(view: View) -> None:
    result = answer(ListTracepoints(category="sched", limit=1000), view)
    assert result.total > 20
    assert all("sched" in t.category for t in result.items)
    assert result.total < answer(ListTracepoints(), view).total


def test_sched_switch_fields(view: View) -> None:
    (lean,) = answer(ListTracepoints(pattern="sched:sched_switch"), view).items
    assert lean.fields is None and lean.field_count == 7
    (tp,) = answer(ListTracepoints(pattern="sched:sched_switch", include_fields=True), view).items
    assert tp.category == "sched" and tp.event == "sched_switch"
    assert tp.id == 372
    assert tp.format is None and tp.fields is not None
    fields = {f.name: f for f in tp.fields}
    assert fields["common_pid"].common
    assert (fields["prev_comm"].type, fields["prev_comm"].offset, fields["prev_comm"].size) == (
        "char[16]",
        8,
        16,
    )
    assert fields["next_pid"].signed and not fields["next_pid"].common


def test_include_format_returns_the_raw_file(view: View, fixture_root: Path) -> None:
    (tp,) = answer(ListTracepoints(pattern="sched:sched_switch", include_format=True), view).items
    raw = (fixture_root / "sys/kernel/tracing/events/sched/sched_switch/format").read_text()
    assert tp.format == raw


# -- list_kernel_functions ----------------------------------------------------------------


def _text_symbols(fixture_root: Path) -> list[str]:
    names = []
    for line in (fixture_root / "proc/kallsyms").read_text().splitlines():
        parts = line.split()
        if parts[1] in "tTwW":
            names.append(parts[2])
    return names


def test_kernel_function_totals(view: View, fixture_root: Path) -> None:
    names = _text_symbols(fixture_root)
    padding = [n for n in names if n.startswith("__pfx_")]
    assert answer(ListKernelFunctions(), view).total == len(names) - len(padding)
    assert answer(ListKernelFunctions(include_padding=True), view).total == len(names)
    assert not any(
        f.name.startswith("__pfx_")  # type: ignore[attr-defined]
        for f in walk_all(view, ListKernelFunctions(pattern="vfs_"))
    )


def test_kernel_function_items(view: View) -> None:
    result = answer(ListKernelFunctions(pattern="VFS_READ"), view)
    names = [f.name for f in result.items]
    assert "vfs_read" in names
    assert names == sorted(names)
    vfs_read = next(f for f in result.items if f.name == "vfs_read")
    assert vfs_read.address is not None and vfs_read.address.startswith("0xffffffff")
    assert vfs_read.module is None and vfs_read.symbol_type in "tT"
    assert not result.addresses_hidden and result.note is None


def test_hidden_addresses_are_null_with_a_reason(view: View) -> None:
    table = parse_kallsyms(
        "0000000000000000 T vfs_read\n0000000000000000 t helper\n0000000000000000 D data\n"
    )
    hidden = attrs.evolve(view, indexes=Indexes(kallsyms=KallsymsIndex.build([table])))
    result = answer(ListKernelFunctions(), hidden)
    assert result.total == 2
    assert all(f.address is None for f in result.items)
    assert result.addresses_hidden
    assert result.note is not None and "kptr_restrict" in result.note


# -- get_btf_types ------------------------------------------------------------------------


def count_named_types(blob: bytes) -> tuple[int, int, Counter[int]]:
    """(all types, named types, named types per kind number) by an independent minimal
    walk of the type section."""
    magic, _version, _flags, hdr_len, type_off, type_len, str_off, _ = struct.unpack_from(
        "<HBBIIIII", blob
    )
    assert magic == 0xEB9F
    strings = blob[hdr_len + str_off :]
    pos, end = hdr_len + type_off, hdr_len + type_off + type_len
    per_vlen = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
    fixed = {1: 4, 3: 12, 14: 4, 17: 4}
    total = named = 0
    per_kind: Counter[int] = Counter()
    while pos < end:
        name_off, info = struct.unpack_from("<II", blob, pos)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        pos += 12 + fixed.get(kind, 0) + per_vlen.get(kind, 0) * vlen
        total += 1
        if strings[name_off] != 0:
            named += 1
            per_kind[kind] += 1
    return total, named, per_kind


def test_btf_types_cover_every_named_id(view: View, fixture_root: Path) -> None:
    all_types, named, _ = count_named_types((fixture_root / "sys/kernel/btf/vmlinux").read_bytes())
    assert all_types == 126_699
    result = answer(GetBtfTypes(), view)
    assert result.total == named
    last = answer(GetBtfTypes(offset=named - 1), view)
    assert last.next_offset is None and last.items[0].id > 100_000


def test_vfs_read_is_found_past_id_100000(view: View) -> None:
    result = answer(GetBtfTypes(pattern="vfs_read", kind="func"), view)
    ids = {t.name: t.id for t in result.items}
    assert "vfs_read" in ids and ids["vfs_read"] > 100_000
    assert all(t.kind == "func" for t in result.items)


def test_struct_summary(view: View) -> None:
    result = answer(GetBtfTypes(pattern="task_struct", kind="struct", include_members=True), view)
    task = next(t for t in result.items if t.name == "task_struct")
    assert task.size == 3264 and task.members is not None
    assert task.vlen == len(task.members) and "pid" in task.members
    assert task.object == "vmlinux"


def test_kind_filter_alone(view: View, fixture_root: Path) -> None:
    _, _, per_kind = count_named_types((fixture_root / "sys/kernel/btf/vmlinux").read_bytes())
    for label, number in (("struct", 4), ("func", 12), ("typedef", 8)):
        assert answer(GetBtfTypes(kind=label, limit=1), view).total == per_kind[number]
    enums = answer(GetBtfTypes(kind="enum64", limit=1000), view)
    assert enums.total == per_kind[19] == 4  # 9 ENUM64 in all; 5 are anonymous
    assert all(t.kind == "enum64" and t.members is None for t in enums.items)


def test_unknown_kind_is_an_invalid_argument(view: View) -> None:
    with pytest.raises(InvalidArgument, match="valid kinds are: int, ptr"):
        answer(GetBtfTypes(kind="structure"), view)


# -- program and map types ----------------------------------------------------------------


def test_program_types_from_btf(view: View) -> None:
    result = answer(ListBpfProgramTypes(limit=1000), view)
    assert result.source == "kernel-btf" and result.note is None
    assert result.total == 33  # 34 enumerators minus __MAX_BPF_PROG_TYPE
    names = [e.name for e in result.items]
    assert "kprobe" in names and "netfilter" in names
    assert not any(e.constant.startswith("__") for e in result.items)
    assert all(e.description for e in result.items)


def test_map_types_from_btf(view: View) -> None:
    result = answer(ListBpfMapTypes(pattern="ring"), view)
    assert [e.name for e in result.items] == ["ringbuf", "user_ringbuf"]
    assert answer(ListBpfMapTypes(), view).total == 36


def test_builtin_table_when_btf_failed(view: View) -> None:
    failure = SourceFailure("btf", "/sys/kernel/btf/vmlinux", "missing", "gone", "fix it")
    indexes = attrs.evolve(view.indexes, btf=None)
    statuses = dict(view.statuses)
    statuses[Source.BTF] = attrs.evolve(statuses[Source.BTF], state="failed", failure=failure)
    degraded = attrs.evolve(view, indexes=indexes, statuses=statuses)
    result = answer(ListBpfProgramTypes(pattern="xdp"), degraded)
    assert result.source == "builtin"
    assert result.note is not None and "/sys/kernel/btf/vmlinux" in result.note
    assert [e.name for e in result.items] == ["xdp"]


def test_server_status_lists_every_source(view: View) -> None:
    status = answer(GetServerStatus(), view)
    assert [s.source for s in status.sources] == [s.value for s in Source]
    assert all(s.state == "ready" and s.last_error is None for s in status.sources)
