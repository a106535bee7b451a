"""A struct or union's members laid out for reading: nested anonymous types expanded,
with the holes and trailing padding between them, counted the way pahole counts them.

A bitfield occupies a storage unit of its declared type's size, aligned to that size (a
`u32 x:3` at bit 35 lives in the 4-byte unit at byte 4); a bit hole is what is left of
the unit after the last bitfield in it, a byte hole is the gap from the end of one
member (or unit) to the start of the next. Pure: no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs

from .errors import BtfError
from .index import Btf
from .layout import Layouts, layouts_of
from .model import Kind

__all__ = ["CompositeSummary", "MemberLayout", "describe_members"]

MAX_NESTING = 32
_COMPOSITES = frozenset({Kind.STRUCT, Kind.UNION})
_SEE_THROUGH = frozenset({Kind.CONST, Kind.VOLATILE, Kind.TYPE_TAG})


@attrs.frozen
class MemberLayout:
    """One member at any nesting depth; offsets count from the start of the outer type.

    `path` is how C reaches it from the outer type (anonymous members are transparent);
    `parent` is the index of the enclosing expanded member in the list, or -1.
    """

    name: str
    path: str
    depth: int
    parent: int
    type_id: int
    bit_offset: int
    size: int
    bitfield_size: int
    hole_after: int
    bit_hole_after: int
    expanded: bool

    @property
    def offset(self) -> int:
        """The byte offset: for a bitfield, the start of its storage unit."""
        if self.bitfield_size and self.size:
            return self.bit_offset // (self.size * 8) * self.size
        return self.bit_offset // 8

    @property
    def bit_in_unit(self) -> int:
        """For a bitfield, its first bit within its storage unit; else 0."""
        return self.bit_offset - self.offset * 8 if self.bitfield_size else 0


@attrs.frozen
class CompositeSummary:
    """The totals pahole prints under a struct: size, alignment, holes and padding."""

    size: int
    alignment: int
    packed: bool
    members: int
    holes: int
    sum_holes: int
    bit_holes: int
    sum_bit_holes: int
    padding: int
    hole_at_start: int
    bit_hole_at_start: int


def _anonymous_composite(btf: Btf, tid: int) -> tuple[int, str] | None:
    """The anonymous struct or union a member's type is (through const, volatile and
    arrays), if any, with the subscript that reaches its first element ("" or "[0]")."""
    subscript = ""
    for _ in range(MAX_NESTING):
        kind = btf.kind(tid)
        if kind in _COMPOSITES:
            return (tid, subscript) if not btf.name(tid) else None
        if kind is Kind.ARRAY:
            subscript += "[0]"
            tid = btf.array(tid).elem_type_id
            continue
        if kind not in _SEE_THROUGH:
            return None
        tid = btf.ref(tid)
    return None


def _end_bits(m: MemberLayout) -> int:
    """Where a member stops occupying space: a bitfield's whole storage unit."""
    if m.bitfield_size:
        return (m.offset + m.size) * 8
    return m.bit_offset + m.size * 8


def _start_bits(m: MemberLayout) -> int:
    return m.offset * 8 if m.bitfield_size else m.bit_offset


def describe_members(
    btf: Btf, tid: int, layouts: Layouts | None = None
) -> tuple[tuple[MemberLayout, ...], CompositeSummary]:
    """The members of STRUCT or UNION `tid` in declaration order, anonymous ones (and
    members of an anonymous type) followed by their own members, plus the totals of the
    outer level. Remembered per Btf. Raises BtfError when `tid` is not a struct or union."""
    cache: dict[int, tuple[tuple[MemberLayout, ...], CompositeSummary]] = btf.derived(
        "member_layouts", dict
    )
    found = cache.get(tid)
    if found is None:
        found = cache[tid] = _describe(btf, tid, layouts or layouts_of(btf))
    return found


def _describe(
    btf: Btf, tid: int, layouts: Layouts
) -> tuple[tuple[MemberLayout, ...], CompositeSummary]:
    kind = btf.kind(tid)
    if kind not in _COMPOSITES:
        raise BtfError(f"{btf.object_name}: type id {tid} is a {kind.label}, not a struct or union")
    items: list[MemberLayout] = []
    top, (lead, lead_bits) = _level(btf, layouts, tid, 0, "", 0, -1, items, 0)
    size = btf.size(tid) or 0
    layout = layouts.composite(tid)
    holes = [items[i] for i in top]
    if kind is Kind.UNION:
        lead = lead_bits = 0
        end = max((_end_bits(m) for m in holes), default=0)
    else:
        end = _end_bits(holes[-1]) if holes else 0
        if holes and holes[-1].bitfield_size:
            for m in reversed(holes):  # the last run of bitfields ends with its last unit
                if not m.bitfield_size:
                    break
                end = max(end, _end_bits(m))
    padding = max(0, size * 8 - end) // 8
    return tuple(items), CompositeSummary(
        size=size,
        alignment=layout.align,
        packed=layout.packed,
        members=len(top),
        holes=sum(1 for m in holes if m.hole_after) + bool(lead),
        sum_holes=sum(m.hole_after for m in holes) + lead,
        bit_holes=sum(1 for m in holes if m.bit_hole_after) + bool(lead_bits),
        sum_bit_holes=sum(m.bit_hole_after for m in holes) + lead_bits,
        padding=padding,
        hole_at_start=lead,
        bit_hole_at_start=lead_bits,
    )


def _level(
    btf: Btf,
    layouts: Layouts,
    tid: int,
    base_bits: int,
    prefix: str,
    depth: int,
    parent: int,
    items: list[MemberLayout],
    nesting: int,
) -> tuple[list[int], tuple[int, int]]:
    """Append the members of `tid` (at `base_bits`) and their expansions; return the
    indexes of this level's members and the (bytes, bits) hole before the first."""
    if nesting > MAX_NESTING:
        raise BtfError(
            f"{btf.object_name}: type id {tid}: anonymous members nest more than {MAX_NESTING} deep"
        )
    union = btf.kind(tid) is Kind.UNION
    mine: list[int] = []
    for member in btf.members(tid):
        inner = _anonymous_composite(btf, member.type_id)
        path = f"{prefix}.{member.name}" if prefix and member.name else member.name or prefix
        index = len(items)
        items.append(
            MemberLayout(
                name=member.name,
                path=path,
                depth=depth,
                parent=parent,
                type_id=member.type_id,
                bit_offset=base_bits + member.bit_offset,
                size=layouts.sizeof(member.type_id),
                bitfield_size=member.bitfield_size,
                hole_after=0,
                bit_hole_after=0,
                expanded=inner is not None,
            )
        )
        mine.append(index)
        if inner is not None:
            inner_id, subscript = inner
            _level(
                btf,
                layouts,
                inner_id,
                base_bits + member.bit_offset,
                path + subscript,
                depth + 1,
                index,
                items,
                nesting + 1,
            )
    lead = (0, 0) if union else _holes(items, mine, base_bits)
    return mine, lead


def _holes(items: list[MemberLayout], level: Sequence[int], base_bits: int) -> tuple[int, int]:
    """Set each member's hole_after and bit_hole_after; return the (bytes, bits) hole
    before the first member.

    Consecutive bitfields form a run whose storage ends with the last unit any of them
    uses; the bit hole after a run reaches that end or the next member, whichever comes
    first, and a byte hole covers the rest of the gap.
    """
    if not level:
        return 0, 0
    first = items[level[0]]
    if first.bitfield_size:
        lead = (max(0, _start_bits(first) - base_bits) // 8, first.bit_in_unit)
    else:
        lead = (max(0, first.bit_offset - base_bits) // 8, 0)
    run_end = 0
    for here, there in itertools.pairwise(level):
        m, nxt = items[here], items[there]
        hole = bit_hole = 0
        if m.bitfield_size:
            used = m.bit_offset + m.bitfield_size
            run_end = max(run_end, _end_bits(m))
            if nxt.bitfield_size and nxt.bit_offset < run_end:
                bit_hole = max(0, nxt.bit_offset - used)
            else:
                start = _start_bits(nxt)
                bit_hole = max(0, min(run_end, start) - used)
                hole = max(0, start - run_end) // 8
                run_end = 0
        else:
            end = _end_bits(m)
            hole = max(0, _start_bits(nxt) - end) // 8
            if nxt.bitfield_size:
                bit_hole = max(0, nxt.bit_offset - max(end, _start_bits(nxt)))
        if hole or bit_hole:
            items[here] = attrs.evolve(m, hole_after=hole, bit_hole_after=bit_hole)
    return lead
