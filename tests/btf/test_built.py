"""Blobs assembled in the test: big-endian, odd names, and shapes pahole does not emit."""

from __future__ import annotations

import pytest

from bpf_mcp.btf import Btf, EnumValue, IntInfo, Kind, Member, Param, parse_btf
from bpf_mcp.testing.btf import BtfBuilder, reencode, to_big_endian

from .conftest import blob
from .oracle import decode


def _sample() -> tuple[BtfBuilder, dict[str, int]]:
    b = BtfBuilder()
    ids: dict[str, int] = {}
    ids["int"] = b.int_("int", 4, 32, encoding=1)
    ids["char"] = b.int_("char", 1, 8, encoding=2)
    ids["ptr"] = b.ref(Kind.PTR, ids["char"])
    ids["s"] = b.members(
        Kind.STRUCT, "s", 8, [("f", ids["int"], 3 << 24 | 5), ("", ids["ptr"], 32)], kind_flag=True
    )
    ids["e"] = b.enum("e", [("NEG", -1), ("BIG", 0x80000000)], signed=True)
    ids["ue"] = b.enum("ue", [("TOP", 0xFFFFFFFF)])
    ids["e64"] = b.enum64("e64", [("M", -(1 << 63)), ("X", 0x1_0000_0001)], signed=True)
    ids["proto"] = b.func_proto(ids["int"], [("a", ids["int"])], variadic=True)
    ids["empty_proto"] = b.func_proto(0, [], variadic=False)
    ids["only_varargs"] = b.func_proto(0, [], variadic=True)
    ids["td"] = b.ref(Kind.TYPEDEF, ids["int"], "t\xe9st")  # UTF-8 in a name
    ids["bad_utf8"] = b.add(Kind.TYPEDEF, b"bad\xff\xfename", size_or_type=ids["int"])
    ids["user"] = b.ref(Kind.TYPE_TAG, ids["int"], "user")
    ids["tag"] = b.add(Kind.DECL_TAG, "t", size_or_type=ids["s"], trailer=[0])
    return b, ids


def _check(btf: Btf, ids: dict[str, int]) -> None:
    assert btf.int_info(ids["char"]) == IntInfo(2, 0, 8)
    assert btf.int_info(ids["char"]).char
    assert btf.members(ids["s"]) == (Member("f", ids["int"], 5, 3), Member("", ids["ptr"], 32, 0))
    assert btf.enum_values(ids["e"]) == (EnumValue("NEG", -1), EnumValue("BIG", -0x80000000))
    assert btf.enum_values(ids["ue"]) == (EnumValue("TOP", 0xFFFFFFFF),)
    assert btf.enum_values(ids["e64"]) == (EnumValue("M", -(1 << 63)), EnumValue("X", 0x100000001))
    assert btf.params(ids["proto"]) == (Param("a", ids["int"]),)
    assert btf.is_variadic(ids["proto"])
    assert btf.params(ids["empty_proto"]) == ()
    assert not btf.is_variadic(ids["empty_proto"])
    assert btf.params(ids["only_varargs"]) == ()
    assert btf.is_variadic(ids["only_varargs"])
    assert btf.name(ids["td"]) == "t\xe9st"
    assert btf.name(ids["bad_utf8"]) == "bad\ufffd\ufffdname"
    assert btf.find("t\xe9st") == (ids["td"],)
    assert btf.resolve(ids["user"]) == ids["int"]
    assert btf.decl_tags(ids["s"]) == (("t", 0),)


def test_little_endian() -> None:
    b, ids = _sample()
    btf = parse_btf(b.blob(), object_name="le")
    assert btf.byte_order == "little"
    _check(btf, ids)


def test_big_endian() -> None:
    b, ids = _sample()
    btf = parse_btf(b.blob(byte_order="big"), object_name="be")
    assert btf.byte_order == "big"
    _check(btf, ids)


def test_accepts_bytearray_and_memoryview_and_copies() -> None:
    b, ids = _sample()
    buffer = bytearray(b.blob())
    btf = parse_btf(memoryview(buffer))
    buffer[:] = b"\0" * len(buffer)  # the parsed object keeps its own copy
    _check(btf, ids)
    _check(parse_btf(bytearray(b.blob())), ids)


def test_longer_header_is_accepted() -> None:
    b, ids = _sample()
    _check(parse_btf(b.blob(hdr_len=32)), ids)


def test_empty_type_section() -> None:
    btf = parse_btf(BtfBuilder().blob())
    assert len(btf) == 0
    assert (btf.first_id, btf.last_id) == (1, 0)
    assert btf.named_ids() == ()
    assert btf.find("x") == ()


def test_reencode_round_trip(kinds: Btf) -> None:
    again = parse_btf(reencode(kinds, kinds.last_id), object_name="kinds")
    for tid in range(1, kinds.last_id + 1):
        assert again.kind(tid) == kinds.kind(tid)
        assert again.name(tid) == kinds.name(tid)
        assert again.size(tid) == kinds.size(tid)
        assert again.vlen(tid) == kinds.vlen(tid)
    assert again.members(kinds.find("bits")[0]) == kinds.members(kinds.find("bits")[0])


@pytest.mark.parametrize("name", ["kinds", "tags"])
def test_big_endian_real_blob_decodes_the_same(name: str) -> None:
    little = parse_btf(blob(name))
    big = parse_btf(to_big_endian(blob(name)))
    assert big.byte_order == "big"
    assert len(big) == len(little)
    for tid in range(little.last_id + 1):
        assert decode(big, tid) == decode(little, tid)
        assert big.decl_tags(tid) == little.decl_tags(tid)


@pytest.mark.live
def test_big_endian_vmlinux(vmlinux: Btf, vmlinux_bytes: bytes) -> None:
    big = parse_btf(to_big_endian(vmlinux_bytes))
    assert len(big) == len(vmlinux)
    for tid in range(0, vmlinux.last_id + 1, 97):
        assert decode(big, tid) == decode(vmlinux, tid)
