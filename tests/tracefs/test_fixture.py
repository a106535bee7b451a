"""The parsers against every tracefs file captured from a real 6.18 kernel."""

from __future__ import annotations

import json

from bpf_mcp.tracefs import EventFormat, parse_available_events, parse_format

from .conftest import FIXTURE, FIXTURE_TRACEFS, fixture_format_files, read_fixture_format


def fixture_fields(category: str, event: str) -> tuple[EventFormat, dict[str, object]]:
    fmt = parse_format(read_fixture_format(category, event))
    return fmt, {field.name: field for field in fmt.fields}


def test_every_format_file_parses() -> None:
    files = fixture_format_files()
    manifest = json.loads((FIXTURE / "CAPTURE.json").read_text())
    assert len(files) == manifest["counts"]["event_format_files"]
    formats = [parse_format(path.read_text()) for path in files]
    for path, fmt in zip(files, formats, strict=True):
        assert fmt.name == path.parent.name
        assert [f.name for f in fmt.fields[:4]] == [
            "common_type",
            "common_flags",
            "common_preempt_count",
            "common_pid",
        ]
        assert fmt.print_fmt
    assert len({fmt.id for fmt in formats}) == len(formats)


def test_sched_switch() -> None:
    fmt = parse_format(read_fixture_format("sched", "sched_switch"))
    assert fmt.name == "sched_switch"
    assert fmt.id == 372
    fields = {field.name: field for field in fmt.fields}
    prev_comm = fields["prev_comm"]
    assert (prev_comm.c_type, prev_comm.offset, prev_comm.size) == ("char[16]", 8, 16)
    assert prev_comm.array_len == 16
    assert fields["prev_pid"].c_type == "pid_t"
    assert fields["prev_pid"].signed
    assert fmt.print_fmt.startswith('"prev_comm=%s prev_pid=%d')


def test_sys_enter_openat() -> None:
    fmt = parse_format(read_fixture_format("syscalls", "sys_enter_openat"))
    fields = {field.name: field for field in fmt.fields}
    assert (fields["dfd"].c_type, fields["dfd"].offset, fields["dfd"].size) == ("int", 16, 8)
    assert fields["filename"].c_type == "const char *"
    assert [f.name for f in fmt.fields if not f.common] == [
        "__syscall_nr",
        "dfd",
        "filename",
        "flags",
        "mode",
    ]


def test_ftrace_internal_formats() -> None:
    function = parse_format(read_fixture_format("ftrace", "function"))
    args = function.fields[-1]
    assert (args.name, args.c_type, args.size, args.array_len) == ("args", "unsigned long[]", 0, 0)
    stack = parse_format(read_fixture_format("ftrace", "kernel_stack"))
    caller = stack.fields[-1]
    assert (caller.c_type, caller.size, caller.array_len) == ("unsigned long[8]", 64, 8)


def test_data_loc_fields_in_the_fixture() -> None:
    data_loc = [
        field
        for path in fixture_format_files()
        for field in parse_format(path.read_text()).fields
        if field.data_loc
    ]
    assert data_loc
    assert all(field.size == 4 and field.array_len is None for field in data_loc)
    assert all(field.c_type.startswith(("__data_loc ", "__rel_loc ")) for field in data_loc)


def test_multi_line_print_fmt() -> None:
    fmt = parse_format(read_fixture_format("ext4", "ext4_fsmap_mapping"))
    assert "\n" in fmt.print_fmt
    assert fmt.print_fmt.endswith("REC->owner")


def test_available_events_count_equals_lines() -> None:
    text = (FIXTURE_TRACEFS / "available_events").read_text()
    events = parse_available_events(text)
    assert len(events) == len(text.splitlines())
    assert len(set(events)) == len(events)
    assert ("sched", "sched_switch") in events


def test_every_available_event_has_a_format_file() -> None:
    events = parse_available_events((FIXTURE_TRACEFS / "available_events").read_text())
    on_disk = {(path.parent.parent.name, path.parent.name) for path in fixture_format_files()}
    assert set(events) <= on_disk
    # The formats that are not attach points are the internal ftrace ones.
    assert {category for category, _ in on_disk - set(events)} == {"ftrace"}
