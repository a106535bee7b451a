"""parse_format on hand-written format files: every field shape, and every way to be wrong."""

from __future__ import annotations

import pytest

from bpf_mcp.tracefs import EventFormat, Field, FormatError, parse_format

from .conftest import format_text


def event_fields(fmt: EventFormat) -> dict[str, Field]:
    return {field.name: field for field in fmt.fields if not field.common}


def test_header_common_fields_and_print_fmt() -> None:
    text = format_text("sample", 42, ["int value;8;4;1"], '"value=%d", REC->value')
    fmt = parse_format(text)
    assert fmt.name == "sample"
    assert fmt.id == 42
    assert fmt.print_fmt == '"value=%d", REC->value'
    assert [f.name for f in fmt.fields] == [
        "common_type",
        "common_flags",
        "common_preempt_count",
        "common_pid",
        "value",
    ]
    assert [f.common for f in fmt.fields] == [True, True, True, True, False]
    assert fmt.fields[0] == Field(
        name="common_type",
        c_type="unsigned short",
        declaration="unsigned short common_type",
        offset=0,
        size=2,
        signed=False,
        common=True,
        array_len=None,
        data_loc=False,
    )
    assert fmt.fields[3].signed
    assert fmt.fields[4].signed


@pytest.mark.parametrize(
    ("spec", "name", "c_type", "array_len", "data_loc"),
    [
        ("char prev_comm[16];8;16;0", "prev_comm", "char[16]", 16, False),
        ("u8 saddr[4];8;4;0", "saddr", "u8[4]", 4, False),
        ("unsigned long caller[8];16;64;0", "caller", "unsigned long[8]", 8, False),
        ("unsigned long args[];24;0;0", "args", "unsigned long[]", 0, False),
        ("unsigned long[] caller;24;0;0", "caller", "unsigned long[]", 0, False),
        ("u32 grid[2][3];8;24;0", "grid", "u32[2][3]", 6, False),
        ("char comm[TASK_COMM_LEN];8;16;0", "comm", "char[TASK_COMM_LEN]", None, False),
        ("char hexdim[0x10];8;16;0", "hexdim", "char[0x10]", 16, False),
        ("__data_loc char[] name;8;4;0", "name", "__data_loc char[]", None, True),
        ("__data_loc u64[] phys_addrs;8;4;0", "phys_addrs", "__data_loc u64[]", None, True),
        ("__rel_loc char[] msg;8;4;0", "msg", "__rel_loc char[]", None, True),
        ("const char * filename;8;8;0", "filename", "const char *", None, False),
        ("char *buf;8;8;0", "buf", "char *", None, False),
        ("struct mm_struct * mm;8;8;0", "mm", "struct mm_struct *", None, False),
        ("pid_t pid;8;4;1", "pid", "pid_t", None, False),
    ],
)
def test_declarations(
    spec: str, name: str, c_type: str, array_len: int | None, data_loc: bool
) -> None:
    fmt = parse_format(format_text("e", 1, [spec]))
    field = fmt.fields[-1]
    assert (field.name, field.c_type, field.array_len, field.data_loc) == (
        name,
        c_type,
        array_len,
        data_loc,
    )
    assert field.declaration == spec.split(";")[0]
    assert not field.common


def test_syscall_arguments_occupy_8_byte_slots() -> None:
    text = format_text(
        "sys_enter_openat",
        782,
        [
            "int __syscall_nr;8;4;1",
            "int dfd;16;8;0",
            "const char * filename;24;8;0",
            "int flags;32;8;0",
            "umode_t mode;40;8;0",
        ],
    )
    fields = event_fields(parse_format(text))
    assert (fields["dfd"].c_type, fields["dfd"].offset, fields["dfd"].size) == ("int", 16, 8)
    assert not fields["dfd"].signed
    assert fields["__syscall_nr"].signed
    assert fields["__syscall_nr"].size == 4


def test_print_fmt_may_span_lines_and_keeps_its_text() -> None:
    print_fmt = '"a %d\nb %s", REC->a, REC->b'
    fmt = parse_format(format_text("e", 1, ["int a;8;4;1"], print_fmt))
    assert fmt.print_fmt == print_fmt


def test_event_without_own_fields() -> None:
    fmt = parse_format(format_text("bare", 7, []))
    assert all(field.common for field in fmt.fields)
    assert len(fmt.fields) == 4


def test_forgiving_spacing_and_unknown_keys() -> None:
    text = (
        "name: e\nID: 3\nformat:\n"
        "  field:int a ;  offset: 8;size:4 ;  signed:1; future:yes;\n"
        '\nprint fmt: ""\n'
    )
    field = parse_format(text).fields[0]
    assert (field.name, field.c_type, field.offset, field.size, field.signed) == (
        "a",
        "int",
        8,
        4,
        True,
    )


def test_no_trailing_newline() -> None:
    text = format_text("e", 1, ["int a;8;4;1"]).removesuffix("\n")
    assert parse_format(text).print_fmt == '"x"'


def test_values_are_frozen_and_hashable() -> None:
    fmt = parse_format(format_text("e", 1, ["int a;8;4;1"]))
    with pytest.raises(AttributeError):
        fmt.name = "other"  # type: ignore[misc]
    assert hash(fmt) == hash(parse_format(format_text("e", 1, ["int a;8;4;1"])))


GOOD = format_text("e", 1, ["int a;8;4;1"])
FIELD = "\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "expected 'name:'"),
        ("nam: e\n", 1, "expected 'name:'"),
        ("name:\nID: 1\n", 1, "event name"),
        ("name: two words\nID: 1\n", 1, "event name"),
        ("name: e\n", 2, "expected 'ID:'"),
        ("name: e\nID: x\n", 2, "decimal number"),
        ("name: e\nID: -1\n", 2, "decimal number"),
        ("name: e\nID: 1_0\n", 2, "decimal number"),
        ("name: e\nID: \u0661\n", 2, "decimal number"),
        ("name: e\nID: 1", 3, "expected 'format:'"),
        ("name: e\nID: 1\nfields:\n", 3, "expected 'format:'"),
        ("name: e\nID: 1\nformat:\n", 4, "expected 'print fmt:'"),
        ("name: e\nID: 1\nformat:\nbogus\n", 4, "'field:' line or 'print fmt:'"),
        (GOOD.replace("print fmt:", "print format:"), 11, "'field:' line or 'print fmt:'"),
        (GOOD.replace(FIELD, "\tfield:int a;\toffset:8;\tsize:4;\tsigned:1"), 9, "end with ';'"),
        (GOOD.replace(FIELD, "\tfield:int a;\toffset:8;\tsize:4;"), 9, "'signed:'"),
        (GOOD.replace(FIELD, "\tfield:int a;\tsize:4;\tsigned:1;"), 9, "'offset:'"),
        (GOOD.replace(FIELD, "\tfield:int a;\toffset:8;\tsize:;\tsigned:1;"), 9, "'size'"),
        (GOOD.replace(FIELD, "\tfield:int a;\toffset:-8;\tsize:4;\tsigned:1;"), 9, "'offset'"),
        (GOOD.replace(FIELD, "\tfield:int a;\toffset:8;\tsize:4;\tsigned:2;"), 9, "0 or 1"),
        (GOOD.replace(FIELD, "\tfield:int a;\toffset:8;\toffset:8;\tsigned:1;"), 9, "twice"),
        (GOOD.replace(FIELD, "\tfield:int a;\toffset 8;\tsize:4;\tsigned:1;"), 9, "key:value"),
        (GOOD.replace(FIELD, "\tfield:int;\toffset:8;\tsize:4;\tsigned:1;"), 9, "declaration"),
        (GOOD.replace(FIELD, "\tfield:a;\toffset:8;\tsize:4;\tsigned:1;"), 9, "declaration"),
        (GOOD.replace(FIELD, "\tfield:;\toffset:8;\tsize:4;\tsigned:1;"), 9, "declaration"),
        (GOOD.replace(FIELD, "\tfield:int a[;\toffset:8;\tsize:4;\tsigned:1;"), 9, "declaration"),
    ],
)
def test_malformed(text: str, line: int, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        parse_format(text)
    assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"line {line}: ")
