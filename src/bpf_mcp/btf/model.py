"""Values decoded from BTF: kinds and the parts of type records."""

from __future__ import annotations

import enum

import attrs

__all__ = ["ArrayInfo", "DatasecEntry", "EnumValue", "IntInfo", "Kind", "Member", "Param"]


class Kind(enum.IntEnum):
    """A BTF type kind, numbered as on the wire (`BTF_KIND_*`); 0 is void."""

    UNKN = 0
    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19

    @property
    def label(self) -> str:
        """The lowercase name used in results: "void" for UNKN, else e.g. "func_proto"."""
        return _LABELS[self]

    @classmethod
    def from_label(cls, label: str) -> Kind:
        """The kind whose `label` is `label`; raises ValueError listing the valid labels."""
        try:
            return _BY_LABEL[label]
        except KeyError:
            valid = ", ".join(_LABELS.values())
            raise ValueError(f"unknown BTF kind {label!r}; valid kinds: {valid}") from None


_LABELS: dict[Kind, str] = {k: ("void" if k is Kind.UNKN else k.name.lower()) for k in Kind}
_BY_LABEL: dict[str, Kind] = {label: k for k, label in _LABELS.items()}

INT_SIGNED = 1
INT_CHAR = 2
INT_BOOL = 4


@attrs.frozen
class Member:
    """A struct or union member.

    `bit_offset` is from the start of the enclosing type. `bitfield_size` is 0 unless the
    member is a bitfield declared through a kind_flag struct or union.
    """

    name: str
    type_id: int
    bit_offset: int
    bitfield_size: int


@attrs.frozen
class EnumValue:
    """An enumerator; `value` is signed when the enum's kind_flag says so."""

    name: str
    value: int


@attrs.frozen
class Param:
    """A function prototype's parameter; `name` is "" when the prototype has none."""

    name: str
    type_id: int


@attrs.frozen
class ArrayInfo:
    """An array's element type, index type and element count."""

    elem_type_id: int
    index_type_id: int
    nelems: int


@attrs.frozen
class IntInfo:
    """An INT's encoding bits (1 signed, 2 char, 4 bool), bit offset and width in bits."""

    encoding: int
    bit_offset: int
    bits: int

    @property
    def signed(self) -> bool:
        """True when the integer is signed."""
        return bool(self.encoding & INT_SIGNED)

    @property
    def char(self) -> bool:
        """True when the integer is a character type."""
        return bool(self.encoding & INT_CHAR)

    @property
    def bool(self) -> bool:
        """True when the integer is a boolean."""
        return bool(self.encoding & INT_BOOL)


@attrs.frozen
class DatasecEntry:
    """A variable placed in a data section: its VAR (or FUNC) id, byte offset and size."""

    type_id: int
    offset: int
    size: int
