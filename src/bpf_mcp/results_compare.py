"""Typed answers of the kernel comparisons: what differs between two kernels, and one type
or function across several, side by side.

Kernels are named as the server names them ('local' for the running one); `a` is the
kernel compared from and `b` the one compared to, so 'added' means in b and not in a.
"""

from __future__ import annotations

from typing import Literal

import attrs


def _doc(text: str) -> dict[str, str]:
    return {"description": text}


# As results.py words them; this module imports nothing of the package, so the queries
# that return these results can import it wherever results.py sits.
TOTAL = _doc("How many items matched, before paging.")
OFFSET = _doc("Index of the first item of this page among the matches.")
NEXT_OFFSET = _doc("Offset of the next page; null when this page is the last.")
NOTE = _doc("What was left out of this answer, if anything, and the arguments that fetch it.")


MemberChangeKind = Literal["added", "removed", "moved", "retyped", "moved and retyped"]
TypeChangeKind = Literal["added", "removed", "changed"]
FunctionChangeKind = Literal["added", "removed", "prototype", "clones"]
ComparedPart = Literal["types", "functions", "tracepoints"]

_A = "in kernel a; null where a lacks it"
_B = "in kernel b; null where b lacks it"


@attrs.frozen
class MemberChange:
    member: str = attrs.field(
        metadata=_doc(
            "How C reaches the member: anonymous members are transparent, a member of an"
            " anonymous-typed member reads 'outer.inner'."
        )
    )
    change: MemberChangeKind = attrs.field(
        metadata=_doc("moved: its offset differs; retyped: its C type (or bit width) differs.")
    )
    type_a: str | None = attrs.field(metadata=_doc(f"C type ('u32:3' for a bitfield) {_A}."))
    type_b: str | None = attrs.field(metadata=_doc(f"C type {_B}."))
    offset_a: int | None = attrs.field(
        metadata=_doc(f"Byte offset from the start of the type (a bitfield's unit) {_A}.")
    )
    offset_b: int | None = attrs.field(metadata=_doc(f"Byte offset {_B}."))
    bit_offset_a: int | None = attrs.field(metadata=_doc(f"Bit offset {_A}."))
    bit_offset_b: int | None = attrs.field(metadata=_doc(f"Bit offset {_B}."))


@attrs.frozen
class EnumValueChange:
    name: str
    change: Literal["added", "removed", "changed"]
    value_a: int | None
    value_b: int | None


@attrs.frozen
class TypeChange:
    name: str
    kind: str = attrs.field(metadata=_doc("struct, union, enum, enum64, typedef, int or float."))
    change: TypeChangeKind
    object_a: str | None = attrs.field(metadata=_doc(f"BTF object ('vmlinux' or a module) {_A}."))
    object_b: str | None = attrs.field(metadata=_doc(f"BTF object {_B}."))
    size_a: int | None = attrs.field(metadata=_doc(f"Size in bytes {_A} or not sized."))
    size_b: int | None = attrs.field(metadata=_doc(f"Size in bytes {_B} or not sized."))
    type_a: str | None = attrs.field(metadata=_doc("What a typedef names, as C, in kernel a."))
    type_b: str | None = attrs.field(metadata=_doc("What a typedef names, as C, in kernel b."))
    members: tuple[MemberChange, ...] | None = attrs.field(
        metadata=_doc(
            "Struct/union members that differ (anonymous members expanded), in offset order;"
            " null for other kinds and for added or removed types."
        )
    )
    values: tuple[EnumValueChange, ...] | None = attrs.field(
        metadata=_doc("Enum values that differ; null for other kinds.")
    )


@attrs.frozen
class FunctionChange:
    name: str
    change: FunctionChangeKind = attrs.field(
        metadata=_doc(
            "prototype: BTF's parameter or return types differ; clones: same prototype, but"
            " in one kernel kallsyms has only compiler clones (name.isra.0...) of it, so"
            " attaching by its name fails there."
        )
    )
    prototype_a: str | None = attrs.field(metadata=_doc(f"C prototype from BTF {_A}."))
    prototype_b: str | None = attrs.field(metadata=_doc(f"C prototype from BTF {_B}."))
    only_clones_a: bool | None = attrs.field(
        metadata=_doc("True when kallsyms of a has only compiler clones of it; null if unknown.")
    )
    only_clones_b: bool | None = attrs.field(
        metadata=_doc("True when kallsyms of b has only compiler clones of it; null if unknown.")
    )


@attrs.frozen
class FieldChange:
    name: str
    change: MemberChangeKind
    type_a: str | None = attrs.field(metadata=_doc(f"C type {_A}."))
    type_b: str | None = attrs.field(metadata=_doc(f"C type {_B}."))
    offset_a: int | None = attrs.field(metadata=_doc(f"Byte offset in the raw record {_A}."))
    offset_b: int | None = attrs.field(metadata=_doc(f"Byte offset in the raw record {_B}."))
    size_a: int | None
    size_b: int | None


@attrs.frozen
class TracepointChange:
    name: str = attrs.field(metadata=_doc("'category:event'."))
    change: TypeChangeKind
    fields: tuple[FieldChange, ...] | None = attrs.field(
        metadata=_doc("Record fields that differ; null for added or removed tracepoints.")
    )


@attrs.frozen
class KernelComparison:
    a: str = attrs.field(metadata=_doc("The kernel compared from."))
    b: str = attrs.field(metadata=_doc("The kernel compared to: 'added' means in b only."))
    what: ComparedPart
    counts: dict[str, int] = attrs.field(
        metadata=_doc(
            "How many matched, by change (added, removed, changed or prototype/clones, and"
            " same), before paging and before the 'change' filter."
        )
    )
    items: tuple[TypeChange | FunctionChange | TracepointChange, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    note: str | None = attrs.field(default=None, metadata=NOTE)


@attrs.frozen
class KernelColumn:
    kernel: str
    kind: str | None = attrs.field(metadata=_doc("Its kind there; null where it is absent."))
    size: int | None = attrs.field(metadata=_doc("Size in bytes there, where it has one."))
    object: str | None = attrs.field(metadata=_doc("BTF object ('vmlinux' or a module)."))


@attrs.frozen
class Cell:
    text: str = attrs.field(
        metadata=_doc("The member's or parameter's C type ('u32:3' for a bitfield); an enum value.")
    )
    offset: int | None = attrs.field(metadata=_doc("Byte offset (struct/union members)."))
    bit_offset: int | None = attrs.field(metadata=_doc("Bit offset (struct/union members)."))


@attrs.frozen
class SideBySideRow:
    row: str = attrs.field(
        metadata=_doc("The member path, enumerator, 'return', or '#N name' for a parameter.")
    )
    cells: tuple[Cell | None, ...] = attrs.field(
        metadata=_doc("One per kernel, in the order of 'kernels'; null where it is absent.")
    )
    same: bool = attrs.field(metadata=_doc("Present and identical in every kernel."))


@attrs.frozen
class SideBySide:
    name: str
    kernels: tuple[KernelColumn, ...]
    differing: int = attrs.field(metadata=_doc("Rows that are not the same in every kernel."))
    items: tuple[SideBySideRow, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    note: str | None = attrs.field(default=None, metadata=NOTE)
