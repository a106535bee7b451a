"""Kinds and the small value types."""

from __future__ import annotations

import attrs
import pytest

from bpf_mcp.btf import IntInfo, Kind, Member

LABELS = [
    "void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef", "volatile",
    "const", "restrict", "func", "func_proto", "var", "datasec", "float", "decl_tag",
    "type_tag", "enum64",
]  # fmt: skip


def test_kinds_are_numbered_as_on_the_wire() -> None:
    assert [k.value for k in Kind] == list(range(20))
    assert int(Kind.UNKN) == 0
    assert int(Kind.ENUM64) == 19


def test_labels_round_trip() -> None:
    assert [k.label for k in Kind] == LABELS
    assert all(Kind.from_label(k.label) is k for k in Kind)


def test_from_label_lists_valid_labels() -> None:
    with pytest.raises(ValueError, match="unknown BTF kind 'STRUCT'; valid kinds: void, int,"):
        Kind.from_label("STRUCT")


@pytest.mark.parametrize(
    ("encoding", "signed", "char", "boolean"),
    [(0, False, False, False), (1, True, False, False), (2, False, True, False),
     (4, False, False, True), (3, True, True, False)],
)  # fmt: skip
def test_int_encoding_bits(encoding: int, signed: bool, char: bool, boolean: bool) -> None:
    info = IntInfo(encoding, 0, 8)
    assert (info.signed, info.char, info.bool) == (signed, char, boolean)


def test_values_are_frozen_and_comparable() -> None:
    member = Member("a", 1, 0, 0)
    assert member == Member("a", 1, 0, 0)
    assert hash(member) == hash(Member("a", 1, 0, 0))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        member.name = "b"  # type: ignore[misc]
