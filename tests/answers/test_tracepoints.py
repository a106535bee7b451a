"""get_tracepoint and list_raw_tracepoints over the captured kernel; the context structs
compiled by clang against the fixture's vmlinux.h; fields compared with bpftrace live."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import attrs
import pytest

from bpf_mcp.answers import answer
from bpf_mcp.errors import InvalidArgument, NotFound
from bpf_mcp.index import View
from bpf_mcp.index.indexes import TracefsIndex
from bpf_mcp.queries import GetTracepoint, ListRawTracepoints
from bpf_mcp.results import TracepointDetail
from tests.support import live_readable


def tracepoint(view: View, name: str) -> TracepointDetail:
    result = answer(GetTracepoint(name=name), view)
    assert isinstance(result, TracepointDetail)
    return result


def test_sched_switch(view: View) -> None:
    tp = tracepoint(view, "sched:sched_switch")
    assert (tp.category, tp.event, tp.id) == ("sched", "sched_switch", 372)
    assert [f.name for f in tp.common_fields] == [
        "common_type",
        "common_flags",
        "common_preempt_count",
        "common_pid",
    ]
    fields = {f.name: f for f in tp.fields}
    assert (fields["prev_comm"].type, fields["prev_comm"].offset) == ("char[16]", 8)
    assert fields["prev_pid"].resolved_type == "int"
    assert fields["prev_prio"].resolved_type is None
    assert tp.section == 'SEC("tp/sched/sched_switch")'
    assert "prev_comm=%s" in tp.print_fmt
    assert "pid_t prev_pid; /* offset 24, size 4 */" in tp.context_struct
    raw = tp.raw_tracepoint
    assert raw is not None and raw.typedef == "btf_trace_sched_switch"
    assert raw.args is not None
    assert [a.type for a in raw.args] == [
        "bool",
        "struct task_struct *",
        "struct task_struct *",
        "unsigned int",
    ]
    assert raw.event == "sched:sched_switch"
    assert raw.program.startswith('SEC("tp_btf/sched_switch")\nint BPF_PROG(handle_sched_switch,')
    assert "events/sched/sched_switch/format" in tp.source and "btf/vmlinux" in tp.source


def test_syscall_slots_and_raw_syscalls(view: View) -> None:
    tp = tracepoint(view, "syscalls:sys_enter_openat")
    fields = {f.name: f for f in tp.fields}
    assert fields["dfd"].size == 8 and fields["dfd"].note and "8-byte slot" in fields["dfd"].note
    assert fields["filename"].note is None  # a pointer fills its slot
    assert fields["mode"].resolved_type == "short unsigned int"
    assert tp.raw_tracepoint is None
    assert any("8-byte slots" in n for n in tp.notes)
    assert any("sys_enter" in n and "raw_syscalls" in n for n in tp.notes)
    assert "int dfd; /* offset 16, size 8; 4 bytes of slot after it */" in tp.context_struct
    assert "char __pad_20[4];" in tp.context_struct


def test_data_loc_is_explained(view: View) -> None:
    tp = tracepoint(view, "sched:sched_process_exec")
    (filename,) = [f for f in tp.fields if f.name == "filename"]
    assert filename.type == "__data_loc char[]"
    assert filename.note and "(length << 16) | offset" in filename.note
    assert "__u32 filename;" in tp.context_struct
    assert any("__data_loc" in n for n in tp.notes)


@pytest.mark.parametrize(
    "name", ["sched/sched_switch", "../../etc:passwd", "sched:", ":x", "a:b:c", "sched: x"]
)
def test_malformed_names_are_refused(view: View, name: str) -> None:
    with pytest.raises(InvalidArgument, match="category:event"):
        answer(GetTracepoint(name=name), view)


def test_unknown_names_get_near_matches(view: View) -> None:
    with pytest.raises(NotFound, match=r"Did you mean: sched:sched_switch"):
        answer(GetTracepoint(name="sched:sched_swich"), view)


def test_without_btf_the_answer_still_stands(view: View) -> None:
    bare = attrs.evolve(view, indexes=attrs.evolve(view.indexes, btf=None))
    tp = tracepoint(bare, "sched:sched_switch")
    assert tp.raw_tracepoint is None
    assert all(f.resolved_type is None for f in tp.fields)
    assert any("BTF is not loaded" in n for n in tp.notes)
    # pid_t is unknown without BTF: declared as an integer of its recorded size.
    assert "__s32 prev_pid; /* offset 24, size 4; declared pid_t */" in tp.context_struct


def test_raw_tracepoints(view: View) -> None:
    first = answer(ListRawTracepoints(limit=1000), view)
    second = answer(ListRawTracepoints(limit=1000, offset=1000), view)
    assert first.total == 1601 and first.without_event == 16
    names = [r.name for r in (*first.items, *second.items)]
    assert len(names) == len(set(names)) == 1601
    assert sum(1 for r in (*first.items, *second.items) if r.event is None) == 16
    (lean,) = answer(ListRawTracepoints(pattern="sched_switch"), view).items
    assert lean.args is None and "struct task_struct *arg1" in lean.program
    (switch,) = answer(ListRawTracepoints(pattern="sched_switch", include_args=True), view).items
    assert switch.event == "sched:sched_switch"
    assert switch.args is not None and len(switch.args) == 4


# -- oracles ------------------------------------------------------------------------------


@pytest.mark.oracle
def test_context_structs_compile_with_the_recorded_offsets(
    view: View, fixture_root: Path, tmp_path: Path
) -> None:
    """Every tracepoint's context struct, compiled by clang for BPF against a vmlinux.h of
    the same kernel, puts every field at the offset its format file gives."""
    clang, bpftool = shutil.which("clang"), shutil.which("bpftool")
    if clang is None or bpftool is None:
        pytest.skip("clang and bpftool are needed (apt-get install clang bpftool)")
    header = subprocess.run(
        [
            bpftool,
            "btf",
            "dump",
            "file",
            str(fixture_root / "sys/kernel/btf/vmlinux"),
            "format",
            "c",
        ],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    (tmp_path / "vmlinux.h").write_text(header)
    lines = ['#include "vmlinux.h"']
    index: TracefsIndex = view.tracefs
    for record in index.records:
        tp = tracepoint(view, record.name)
        lines.append(tp.context_struct)
        struct = re.search(r"struct (\w+) \{", tp.context_struct)
        assert struct is not None
        for f in record.format.fields:
            lines.append(
                f"_Static_assert(__builtin_offsetof(struct {struct.group(1)}, {f.name})"
                f' == {f.offset}, "{record.name} {f.name}");'
            )
    source = tmp_path / "tracepoints.c"
    source.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [
            clang,
            "-target",
            "bpf",
            "-c",
            "-o",
            str(tmp_path / "out.o"),
            "-I",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[:4000]


def _bpftrace_fields() -> dict[str, list[str]]:
    listing = subprocess.run(
        ["bpftrace", "-lv", "tracepoint:*"], capture_output=True, text=True, check=False
    ).stdout
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in listing.splitlines():
        if line.startswith("tracepoint:"):
            current = out.setdefault(line.removeprefix("tracepoint:"), [])
        elif current is not None and line.strip():
            current.append(line.strip())
    return out


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.live
@pytest.mark.oracle
def test_fields_equal_bpftrace(live_view: View) -> None:
    if shutil.which("bpftrace") is None:
        pytest.skip("bpftrace is not installed (apt-get install bpftrace)")
    reason = live_readable("/sys/kernel/tracing/available_events")
    if reason:
        pytest.skip(f"tracefs is not readable: {reason}")
    expected = _bpftrace_fields()
    if not expected:
        pytest.skip("bpftrace listed no tracepoints (it needs root and tracefs)")
    index: TracefsIndex = live_view.tracefs
    compared = 0
    for record in index.records:
        if record.name not in expected:
            continue
        tp = tracepoint(live_view, record.name)
        ours = []
        for f in tp.fields:
            if "[" in f.type and not f.type.startswith("__data_loc"):
                base, dims = f.type.split("[", 1)
                ours.append(_compact(f"{base}{f.name}[{dims}"))
            else:
                ours.append(_compact(f"{f.type}{f.name}"))
        assert ours == [_compact(line) for line in expected[record.name]], record.name
        compared += 1
    assert compared == len(index.records)
