"""Malformed blobs: each raises BtfError saying what is wrong and where."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bpf_mcp.btf import Btf, BtfError, Kind, parse_btf
from bpf_mcp.testing.btf import BtfBuilder, assemble, info

GOOD_STRINGS = b"\0int\0"


def ok_types() -> list[int]:
    """One INT named "int" (name offset 1)."""
    return [1, info(Kind.INT), 4, 32]


def built(**header: Any) -> bytes:
    return assemble(ok_types(), GOOD_STRINGS, **header)


def one_type(words: list[int], strings: bytes = GOOD_STRINGS) -> bytes:
    return assemble(words, strings)


HEADER_CASES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "header truncated: the blob has 0 bytes"),
    ("short header", built()[:10], "header truncated: the blob has 10 bytes"),
    ("bad magic", b"\x00\x00" + built()[2:], "bad BTF magic at byte 0 (expected 0xeb9f"),
    ("elf file", b"\x7fELF" + b"\0" * 40, "order) (it is an ELF file"),
    ("version 2", built(version=2), "unsupported BTF version 2 at byte 2"),
    ("version 0", built(version=0), "unsupported BTF version 0"),
    ("hdr_len too small", built(hdr_len=16), "header length 16 at byte 4 is shorter"),
    ("cut after the header", built()[:24], "type section [24, 40) runs past the end"),
    (
        "hdr_len beyond blob",
        assemble([], b"\0", hdr_len=24)[:4] + (1000).to_bytes(4, "little") + b"\0" * 17,
        "header length 1000 at byte 4 runs past the end of the blob (25 bytes)",
    ),
    ("type section outside", built(type_len=400), "type section [24, 424) runs past the end"),
    (
        "type offset huge",
        built(type_off=0xFFFFFFF0),
        "type section [4294967304, 4294967320) runs past the end",
    ),
    ("string section outside", built(str_len=99), "string section [40, 139) runs past the end"),
    ("unaligned type section", built(type_off=2, type_len=12), "is not 4-byte aligned"),
    ("type length not words", built(type_len=14), "length 14 at byte 12 is not a multiple of 4"),
    ("sections overlap", built(str_off=8, str_len=8), "overlap"),
    (
        "strings do not start with NUL",
        assemble(ok_types(), b"xint\0"),
        "string section at byte 40 does not start with NUL",
    ),
    (
        "strings do not end with NUL",
        assemble(ok_types(), b"\0int"),
        "string section does not end with NUL (byte 43)",
    ),
    ("no strings", assemble([], b""), "string section is empty"),
]

TYPE_CASES: list[tuple[str, bytes, str]] = [
    ("unknown kind 20", one_type([0, 20 << 24, 0]), "type id 1 at byte 24 has unknown kind 20"),
    ("unknown kind 31", one_type([0, 31 << 24, 0]), "unknown kind 31; valid kinds are 1..19"),
    ("kind 0 stored", one_type([0, 0, 0]), "unknown kind 0; void (0) cannot be stored"),
    (
        "unknown kind after a good one",
        one_type([*ok_types(), 0, 25 << 24, 0]),
        "type id 2 at byte 40 has unknown kind 25",
    ),
    (
        "struct vlen past end",
        one_type([0, info(Kind.STRUCT, 5), 8, 1, 1, 0]),
        "type id 1 at byte 24 (kind 4, vlen 5) runs 48 bytes past the end of the type section",
    ),
    ("int without trailer", one_type([1, info(Kind.INT), 4]), "type id 1 at byte 24 (kind 1"),
    ("half a record", one_type([*ok_types(), 0, 0]), "type id 2 at byte 40 is truncated"),
    (
        "enum64 trailer past end",
        one_type([0, info(Kind.ENUM64, 1), 8, 1, 5]),
        "runs 4 bytes past the end",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"),
    [pytest.param(d, m, id=name) for name, d, m in HEADER_CASES + TYPE_CASES],
)
def test_parse_rejects(data: bytes, message: str) -> None:
    with pytest.raises(BtfError, match=re.escape(message)):
        parse_btf(data, object_name="bad")


def test_message_names_the_object() -> None:
    with pytest.raises(BtfError, match=r"^my_mod: bad BTF magic"):
        parse_btf(b"\0" * 32, object_name="my_mod")


def test_big_endian_header_errors_read_fields_correctly() -> None:
    with pytest.raises(BtfError, match="unsupported BTF version 3"):
        parse_btf(built(byte_order="big", version=3))


def _access_cases() -> list[tuple[str, bytes, Callable[[Btf], object], str]]:
    b = BtfBuilder()
    good = b.int_("int", 4, 32)
    b.add(Kind.TYPEDEF, size_or_type=999)
    bad_name = b.next_id
    b.words += [5000, info(Kind.INT), 4, 32]
    b.next_id += 1
    bad_member_name = b.next_id
    b.words += [0, info(Kind.STRUCT, 1), 4, 7000, good, 0]
    b.next_id += 1
    bad_member = b.members(Kind.UNION, "u", 4, [("m", 77, 0)])
    bad_param = b.func_proto(good, [("p", 88)], variadic=False)
    bad_ret = b.func_proto(123, [], variadic=False)
    bad_array = b.add(Kind.ARRAY, trailer=[good, 55, 3])
    bad_entry = b.add(Kind.DATASEC, ".data", size_or_type=4, items=[(66, 0, 4)])
    bad_enum = b.next_id
    b.words += [0, info(Kind.ENUM, 1), 4, 9999, 0]
    b.next_id += 1
    data = b.blob()
    return [
        ("name offset", data, lambda btf: btf.name(bad_name), "type id 3 name: string offset 5000"),
        (
            "ref",
            data,
            lambda btf: btf.ref(2),
            "type id 2: the referenced type refers to type id 999",
        ),
        ("resolve", data, lambda btf: btf.resolve(2), "refers to type id 999"),
        ("member name", data, lambda btf: btf.members(bad_member_name), "member 0 name: string"),
        ("member type", data, lambda btf: btf.members(bad_member), "member 0 refers to type id 77"),
        ("param type", data, lambda btf: btf.params(bad_param), "parameter 0 refers to type id 88"),
        ("return type", data, lambda btf: btf.ref(bad_ret), "refers to type id 123"),
        ("array elem", data, lambda btf: btf.array(bad_array), "index type refers to type id 55"),
        ("datasec", data, lambda btf: btf.datasec_entries(bad_entry), "entry 0 refers to type"),
        ("enum name", data, lambda btf: btf.enum_values(bad_enum), "value 0 name: string offset"),
        ("find", data, lambda btf: btf.find("int"), "type id 3 name: string offset 5000"),
        ("search", data, lambda btf: btf.search_names("x"), "type id 3 name: string offset 5000"),
    ]


@pytest.mark.parametrize(
    ("data", "call", "message"),
    [pytest.param(d, c, m, id=name) for name, d, c, m in _access_cases()],
)
def test_access_rejects(data: bytes, call: Callable[[Btf], object], message: str) -> None:
    btf = parse_btf(data, object_name="bad")
    with pytest.raises(BtfError, match=re.escape(message)):
        call(btf)
