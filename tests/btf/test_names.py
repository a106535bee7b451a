"""Name lookups, ids by kind, resolve and decl tags."""

from __future__ import annotations

import pytest

from bpf_mcp.btf import Btf, BtfError, Kind, parse_btf
from bpf_mcp.testing.btf import BtfBuilder


def test_named_ids_are_ascending_and_named(kinds: Btf) -> None:
    ids = kinds.named_ids()
    assert list(ids) == sorted(ids)
    assert all(kinds.name(t) for t in ids)
    unnamed = set(range(1, kinds.last_id + 1)) - set(ids)
    assert all(kinds.name(t) == "" for t in unnamed)
    assert kinds.named_ids() is ids  # cached


def test_find(kinds: Btf) -> None:
    assert kinds.find("outer") == tuple(t for t in kinds.named_ids() if kinds.name(t) == "outer")
    assert kinds.find("no_such_type") == ()
    assert kinds.find("") == ()


def test_find_returns_every_duplicate() -> None:
    b = BtfBuilder()
    first = b.int_("dup", 4, 32)
    b.int_("other", 4, 32)
    second = b.ref(Kind.TYPEDEF, first, "dup")
    third = b.add(Kind.FWD, "dup")
    btf = parse_btf(b.blob())
    assert btf.find("dup") == (first, second, third)


def test_search_names(kinds: Btf) -> None:
    assert [kinds.name(t) for t in kinds.search_names("u32")] == ["u32", "my_u32", "chained_u32"]
    assert kinds.search_names("U32") == []
    assert kinds.search_names("U32", case_sensitive=False) == kinds.search_names("u32")
    assert kinds.search_names("") == list(kinds.named_ids())
    assert kinds.search_names("\0") == []
    assert kinds.search_names("zzz_not_there") == []


def test_ids_of_kind(kinds: Btf) -> None:
    funcs = kinds.ids_of_kind(Kind.FUNC)
    assert [kinds.name(t) for t in funcs] == ["use_all", "scale", "helper", "log_message"]
    assert kinds.ids_of_kind(Kind.DECL_TAG) == ()
    total = sum(len(kinds.ids_of_kind(k)) for k in Kind)
    assert total == len(kinds)


def test_resolve_non_modifier_is_itself(kinds: Btf) -> None:
    (outer,) = kinds.find("outer")
    assert kinds.resolve(outer) == outer
    assert kinds.resolve(0) == 0


@pytest.mark.parametrize("length", [1, 2, 40, 100])
def test_resolve_loop_raises(length: int) -> None:
    b = BtfBuilder()
    first = b.next_id
    for i in range(length):
        b.ref(Kind.TYPEDEF if i % 2 else Kind.CONST, first + (i + 1) % length, f"t{i}")
    btf = parse_btf(b.blob())
    with pytest.raises(BtfError, match="loops"):
        btf.resolve(first)


def test_long_chain_without_loop_resolves() -> None:
    b = BtfBuilder()
    target = b.int_("int", 4, 32)
    tid = target
    for i in range(200):
        tid = b.ref(Kind.TYPEDEF, tid, f"t{i}")
    assert parse_btf(b.blob()).resolve(tid) == target


def test_glob_names(kinds: Btf) -> None:
    assert [kinds.name(t) for t in kinds.glob_names("*u32")] == ["u32", "my_u32", "chained_u32"]
    assert kinds.glob_names("U32") == []
    assert [kinds.name(t) for t in kinds.glob_names("U32", case_sensitive=False)] == ["u32"]
    assert [kinds.name(t) for t in kinds.glob_names("[bc]its")] == ["bits"]
    assert kinds.glob_names("*") == list(kinds.named_ids())


def test_search_names_case_sensitive_with_mixed_case() -> None:
    b = BtfBuilder()
    lower = b.int_("abc_x", 4, 32)
    upper = b.int_("ABC_X", 4, 32)
    btf = parse_btf(b.blob())
    assert btf.search_names("abc") == [lower]
    assert btf.search_names("ABC") == [upper]
    assert btf.search_names("aBc", case_sensitive=False) == [lower, upper]


def test_filter_kind_and_unique_names(kinds: Btf) -> None:
    named = kinds.named_ids()
    structs = kinds.filter_kind(named, Kind.STRUCT)
    assert structs == [t for t in named if kinds.kind(t) is Kind.STRUCT]
    assert kinds.filter_kind([0, kinds.last_id + 1, *structs], Kind.STRUCT) == structs
    unique = kinds.unique_names()
    assert len(unique) == len(set(unique)) == len({kinds.name(t) for t in named})


def test_split_names_stay_in_their_object(base: Btf, module: Btf) -> None:
    own = module.named_ids()
    assert own and all(t >= module.first_id for t in own)
    assert module.search_names("") == list(own)
    assert all(t >= module.first_id for t in module.glob_names("*"))
    assert module.find("list_head")[0] < module.first_id  # found in the base too
