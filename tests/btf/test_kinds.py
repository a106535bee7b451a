"""Decoding every kind from blobs made by gcc/clang + pahole (fixtures/btf/src/*.c)."""

from __future__ import annotations

import pytest

from bpf_mcp.btf import (
    ArrayInfo,
    Btf,
    BtfError,
    DatasecEntry,
    EnumValue,
    IntInfo,
    Kind,
    Member,
    Param,
)


def one(btf: Btf, name: str, kind: Kind) -> int:
    """The single id named `name` of `kind`."""
    found = [tid for tid in btf.find(name) if btf.kind(tid) is kind]
    assert len(found) == 1, (name, kind, found)
    return found[0]


def test_header_facts(kinds: Btf) -> None:
    assert kinds.object_name == "kinds"
    assert kinds.base is None
    assert kinds.first_id == 1
    assert kinds.byte_order == "little"
    assert len(kinds) == kinds.last_id
    assert {kinds.kind(t) for t in range(1, kinds.last_id + 1)} >= {
        Kind.INT, Kind.PTR, Kind.ARRAY, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.FWD,
        Kind.TYPEDEF, Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.FUNC, Kind.FUNC_PROTO,
        Kind.VAR, Kind.DATASEC, Kind.FLOAT, Kind.ENUM64,
    }  # fmt: skip


def test_void(kinds: Btf) -> None:
    assert kinds.kind(0) is Kind.UNKN
    assert kinds.name(0) == ""
    assert kinds.size(0) is None
    assert kinds.vlen(0) == 0
    assert not kinds.kind_flag(0)
    assert kinds.object_of(0) == "kinds"
    with pytest.raises(BtfError, match="void"):
        kinds.ref(0)


def test_int(kinds: Btf) -> None:
    tid = one(kinds, "int", Kind.INT)
    assert kinds.size(tid) == 4
    assert kinds.int_info(tid) == IntInfo(encoding=1, bit_offset=0, bits=32)
    assert kinds.int_info(tid).signed
    uchar = kinds.int_info(one(kinds, "unsigned char", Kind.INT))
    assert (uchar.signed, uchar.bits) == (False, 8)
    flag = kinds.int_info(one(kinds, "_Bool", Kind.INT))
    assert flag.bool
    assert not flag.signed
    assert not flag.char
    assert kinds.size(one(kinds, "long int", Kind.INT)) == 8


def test_bitfields(kinds: Btf) -> None:
    tid = one(kinds, "bits", Kind.STRUCT)
    assert kinds.kind_flag(tid)
    assert kinds.size(tid) == 24
    uint = one(kinds, "unsigned int", Kind.INT)
    sint = one(kinds, "int", Kind.INT)
    members = kinds.members(tid)
    assert [m.name for m in members] == ["a", "b", "c", "d", "e"]
    assert members[0] == Member("a", uint, bit_offset=0, bitfield_size=3)
    assert members[1] == Member("b", uint, bit_offset=3, bitfield_size=5)
    assert members[2] == Member("c", sint, bit_offset=8, bitfield_size=7)
    assert (members[3].bit_offset, members[3].bitfield_size) == (64, 0)
    assert (members[4].bit_offset, members[4].bitfield_size) == (128, 1)


def test_struct_with_anonymous_members(kinds: Btf) -> None:
    tid = one(kinds, "outer", Kind.STRUCT)
    assert not kinds.kind_flag(tid)
    members = {m.name or f"anon@{m.bit_offset}": m for m in kinds.members(tid)}
    assert list(members)[:3] == ["tag", "anon@32", "anon@64"]
    anon_union = members["anon@32"].type_id
    assert kinds.kind(anon_union) is Kind.UNION
    assert kinds.name(anon_union) == ""
    assert [m.name for m in kinds.members(anon_union)] == ["as_int", "as_bytes"]
    anon_struct = members["anon@64"].type_id
    assert kinds.kind(anon_struct) is Kind.STRUCT
    assert [(m.name, m.bit_offset) for m in kinds.members(anon_struct)] == [("x", 0), ("y", 16)]
    assert all(m.bitfield_size == 0 for m in members.values())
    assert members["callback"].bit_offset == 832


def test_union(kinds: Btf) -> None:
    tid = one(kinds, "number", Kind.UNION)
    assert kinds.size(tid) == 16
    members = kinds.members(tid)
    assert [m.name for m in members] == ["i", "f", "d", "ld"]
    assert {m.bit_offset for m in members} == {0}
    assert [kinds.kind(m.type_id) for m in members[1:]] == [Kind.FLOAT] * 3


def test_float(kinds: Btf) -> None:
    assert kinds.size(one(kinds, "float", Kind.FLOAT)) == 4
    assert kinds.size(one(kinds, "double", Kind.FLOAT)) == 8
    assert kinds.size(one(kinds, "long double", Kind.FLOAT)) == 16


def test_enums(kinds: Btf) -> None:
    color = one(kinds, "color", Kind.ENUM)
    assert not kinds.kind_flag(color)
    assert kinds.size(color) == 4
    assert kinds.enum_values(color) == (
        EnumValue("RED", 0), EnumValue("GREEN", 1), EnumValue("BLUE", 7),
    )  # fmt: skip
    delta = one(kinds, "delta", Kind.ENUM)
    assert kinds.kind_flag(delta)
    assert [v.value for v in kinds.enum_values(delta)] == [-2, 0, 3]


def test_enum64(kinds: Btf) -> None:
    wide = one(kinds, "wide", Kind.ENUM64)
    assert kinds.size(wide) == 8
    assert kinds.vlen(wide) == 3
    assert [v.value for v in kinds.enum_values(wide)] == [1, 0x123456789A, 0xFEDCBA9876543210]
    wide_neg = one(kinds, "wide_neg", Kind.ENUM64)
    assert kinds.kind_flag(wide_neg)
    assert kinds.enum_values(wide_neg) == (
        EnumValue("WN_MIN", -0x100000000),
        EnumValue("WN_ONE", 1),
    )


def test_arrays(kinds: Btf) -> None:
    outer = {m.name: m.type_id for m in kinds.members(one(kinds, "outer", Kind.STRUCT))}
    sint = one(kinds, "int", Kind.INT)
    char = one(kinds, "char", Kind.INT)
    # gcc flattens int[2][3] into one array of 6 ints in BTF.
    assert kinds.array(outer["matrix"]) == ArrayInfo(sint, sint, 6)
    assert kinds.array(outer["name"]) == ArrayInfo(char, sint, 16)
    assert kinds.size(outer["name"]) is None


def test_pointers_and_modifiers(kinds: Btf) -> None:
    outer_id = one(kinds, "outer", Kind.STRUCT)
    outer = {m.name: m.type_id for m in kinds.members(outer_id)}
    assert kinds.kind(outer["next"]) is Kind.PTR
    assert kinds.ref(outer["next"]) == outer_id
    # const volatile int *cv: PTR -> VOLATILE -> CONST -> int
    volatile = kinds.ref(outer["cv"])
    assert kinds.kind(volatile) is Kind.VOLATILE
    assert kinds.kind(kinds.ref(volatile)) is Kind.CONST
    assert kinds.resolve(volatile) == one(kinds, "int", Kind.INT)
    assert kinds.kind(outer["rp"]) is Kind.RESTRICT
    assert kinds.kind(kinds.resolve(outer["rp"])) is Kind.PTR


def test_typedef_chain(kinds: Btf) -> None:
    chained = one(kinds, "chained_u32", Kind.TYPEDEF)
    my_u32 = one(kinds, "my_u32", Kind.TYPEDEF)
    assert kinds.ref(chained) == my_u32
    assert kinds.ref(my_u32) == one(kinds, "u32", Kind.TYPEDEF)
    assert kinds.resolve(chained) == one(kinds, "unsigned int", Kind.INT)
    assert kinds.resolve(kinds.resolve(chained)) == kinds.resolve(chained)
    assert kinds.size(chained) is None


def test_fwd(kinds: Btf) -> None:
    assert not kinds.kind_flag(one(kinds, "opaque", Kind.FWD))
    assert kinds.kind_flag(one(kinds, "later", Kind.FWD))  # a union forward


def test_funcs_and_protos(kinds: Btf) -> None:
    func = one(kinds, "log_message", Kind.FUNC)
    proto = kinds.ref(func)
    assert kinds.kind(proto) is Kind.FUNC_PROTO
    assert kinds.linkage(func) == kinds.vlen(func)
    assert kinds.is_variadic(proto)
    assert kinds.vlen(proto) == 3  # the varargs marker counts in vlen...
    params = kinds.params(proto)  # ...but is not a parameter
    assert [p.name for p in params] == ["level", "fmt"]
    sint = one(kinds, "int", Kind.INT)
    assert params[0] == Param("level", sint)
    assert kinds.ref(proto) == sint

    scale = kinds.ref(one(kinds, "scale", Kind.FUNC))
    assert not kinds.is_variadic(scale)
    assert kinds.kind(kinds.ref(scale)) is Kind.FLOAT
    use_all = kinds.params(kinds.ref(one(kinds, "use_all", Kind.FUNC)))
    assert len(use_all) == 10


def test_anonymous_variadic_proto(kinds: Btf) -> None:
    outer = {m.name: m.type_id for m in kinds.members(one(kinds, "outer", Kind.STRUCT))}
    proto = kinds.ref(outer["callback"])
    assert kinds.is_variadic(proto)
    assert [p.name for p in kinds.params(proto)] == ["", ""]
    assert kinds.ref(proto) == 0  # returns void


def test_var_and_datasec(kinds: Btf) -> None:
    hits = one(kinds, "percpu_hits", Kind.VAR)
    misses = one(kinds, "percpu_misses", Kind.VAR)
    assert kinds.linkage(hits) == 1  # global
    assert kinds.linkage(misses) == 0  # static
    assert kinds.ref(hits) == one(kinds, "long int", Kind.INT)
    sec = one(kinds, ".data..percpu", Kind.DATASEC)
    assert kinds.size(sec) == 32
    assert kinds.datasec_entries(sec) == (DatasecEntry(hits, 0, 8), DatasecEntry(misses, 16, 16))


def test_decl_tags(tags: Btf) -> None:
    tagged = one(tags, "tagged", Kind.STRUCT)
    assert tags.decl_tags(tagged) == (("counter", 1), ("struct_tag", -1))
    func = one(tags, "tagged_func", Kind.FUNC)
    assert tags.decl_tags(func) == (("param_tag", 1), ("kfunc", -1), ("second", -1))
    var = one(tags, "tagged_percpu", Kind.VAR)
    assert tags.decl_tags(var) == (("percpu_tag", -1),)
    assert tags.decl_tags(0) == ()
    assert tags.decl_tags(one(tags, "int", Kind.INT)) == ()
    tag = one(tags, "kfunc", Kind.DECL_TAG)
    assert tags.ref(tag) == func
    assert tags.decl_tag_component(tag) == -1
    assert tags.decl_tag_component(one(tags, "counter", Kind.DECL_TAG)) == 1


def test_type_tags(tags: Btf) -> None:
    members = {m.name: m.type_id for m in tags.members(one(tags, "tagged", Kind.STRUCT))}
    user = tags.ref(members["ubuf"])  # char __user *: PTR -> TYPE_TAG "user" -> char
    assert tags.kind(user) is Kind.TYPE_TAG
    assert tags.name(user) == "user"
    assert tags.resolve(user) == one(tags, "char", Kind.INT)
    rcu = tags.ref(members["next"])
    assert (tags.kind(rcu), tags.name(rcu)) == (Kind.TYPE_TAG, "rcu")
    assert tags.resolve(rcu) == one(tags, "tagged", Kind.STRUCT)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b, t: b.members(t["int"]), "is of kind int, which has no members"),
        (lambda b, t: b.enum_values(t["outer"]), "is of kind struct, which has no enum values"),
        (lambda b, t: b.params(t["int"]), "which has no parameters"),
        (lambda b, t: b.is_variadic(t["outer"]), "which has no parameters"),
        (lambda b, t: b.array(t["int"]), "which has no array info"),
        (lambda b, t: b.int_info(t["outer"]), "which has no integer encoding"),
        (lambda b, t: b.linkage(t["int"]), "which has no linkage"),
        (lambda b, t: b.decl_tag_component(t["int"]), "which has no component index"),
        (lambda b, t: b.datasec_entries(t["int"]), "which has no section entries"),
        (lambda b, t: b.ref(t["int"]), "which has no referenced type"),
        (lambda b, t: b.ref(t["outer"]), "is of kind struct, which has no referenced type"),
        (lambda b, t: b.kind(b.last_id + 1), "out of range"),
        (lambda b, t: b.name(-1), "out of range"),
        (lambda b, t: b.members(0), "type id 0 is void"),
        (lambda b, t: b.decl_tags(b.last_id + 5), "out of range"),
        (lambda b, t: b.object_of(b.last_id + 1), "out of range"),
    ],
)
def test_wrong_kind_or_id(kinds: Btf, call: object, message: str) -> None:
    ids = {"int": one(kinds, "int", Kind.INT), "outer": one(kinds, "outer", Kind.STRUCT)}
    with pytest.raises(BtfError, match=message):
        call(kinds, ids)  # type: ignore[operator]
