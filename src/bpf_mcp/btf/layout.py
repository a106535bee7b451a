"""Sizes, alignments and member placement of BTF types, as a C compiler lays them out.

BTF records each member's bit offset and each struct's size, but not alignments or
attributes. `Layouts` infers them the way the x86-64 and BPF ABIs place members
(natural alignment, bitfields that do not straddle their unit), and says where a C
definition needs `packed`, `aligned(N)` or explicit padding to land on the recorded
offsets. Pure: no I/O.
"""

from __future__ import annotations

import attrs

from .errors import BtfError
from .index import Btf
from .model import Kind, Member

__all__ = ["POINTER_SIZE", "CompositeLayout", "Layouts", "Placement", "layouts_of"]

POINTER_SIZE = 8
MAX_DEPTH = 64
_MAX_FORCED_ALIGN = 1 << 16
_CACHELINE = 64

_SCALARS = frozenset({Kind.INT, Kind.ENUM, Kind.ENUM64, Kind.FLOAT})
_THROUGH = frozenset(
    {
        Kind.TYPEDEF,
        Kind.CONST,
        Kind.VOLATILE,
        Kind.RESTRICT,
        Kind.TYPE_TAG,
        Kind.DECL_TAG,
        Kind.VAR,
    }
)


@attrs.frozen
class Placement:
    """Where one member lands, and what a C definition needs to put it there.

    `forced_align` is the `aligned(N)` the member needs (0: none); `pad_bits` is explicit
    padding to emit before it, where no alignment explains the gap.
    """

    member: Member
    size: int
    forced_align: int
    pad_bits: int


@attrs.frozen
class CompositeLayout:
    """A struct or union's size and alignment and its members' placements.

    `packed` means some member sits below its natural alignment (or the size is not a
    multiple of it); `forced_align` is the `aligned(N)` the whole type needs (0: none);
    `tail_pad_bits` is explicit padding after the last member.
    """

    size: int
    align: int
    packed: bool
    forced_align: int
    members: tuple[Placement, ...]
    tail_pad_bits: int


def _align_up(value: int, align: int) -> int:
    return -(-value // align) * align


def _pow2_floor(value: int) -> int:
    return 1 << (value.bit_length() - 1) if value > 0 else 1


class Layouts:
    """Sizes and alignments of the types of one Btf, computed on demand and cached.

    Safe to share between threads: the caches only ever gain entries, and two threads
    filling the same entry compute equal values. `layouts_of` gives the one kept with a
    Btf. Every method raises BtfError for malformed input, including reference loops.
    """

    __slots__ = ("_align", "_composites", "btf")

    def __init__(self, btf: Btf) -> None:
        self.btf = btf
        self._align: dict[int, int] = {}
        self._composites: dict[int, CompositeLayout] = {}

    def _deep(self, tid: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise BtfError(
                f"{self.btf.object_name}: type id {tid}: types nest more than {MAX_DEPTH} "
                "deep (a reference loop?)"
            )

    def sizeof(self, tid: int, depth: int = 0) -> int:
        """The size in bytes of `tid` (0 for void, functions and forward declarations)."""
        self._deep(tid, depth)
        btf = self.btf
        kind = btf.kind(tid)
        if kind is Kind.UNKN or kind in (Kind.FUNC, Kind.FUNC_PROTO, Kind.FWD):
            return 0
        if kind is Kind.PTR:
            return POINTER_SIZE
        if kind is Kind.ARRAY:
            info = btf.array(tid)
            return info.nelems * self.sizeof(info.elem_type_id, depth + 1)
        if kind in _THROUGH:
            return self.sizeof(btf.ref(tid), depth + 1)
        return btf.size(tid) or 0

    def alignof(self, tid: int, depth: int = 0) -> int:
        """The alignment in bytes of `tid` as this module infers it (1 at least)."""
        self._deep(tid, depth)
        btf = self.btf
        kind = btf.kind(tid)
        if kind in _SCALARS:
            size = btf.size(tid) or 1
            return min(_pow2_floor(size & -size), 16)
        if kind is Kind.PTR:
            return POINTER_SIZE
        if kind is Kind.ARRAY:
            return self.alignof(btf.array(tid).elem_type_id, depth + 1)
        if kind in _THROUGH:
            return self.alignof(btf.ref(tid), depth + 1)
        if kind in (Kind.STRUCT, Kind.UNION):
            cached = self._align.get(tid)
            if cached is None:
                cached = self.composite(tid, depth + 1).align
            return cached
        return 1

    def composite(self, tid: int, depth: int = 0) -> CompositeLayout:
        """The layout of STRUCT or UNION `tid`."""
        found = self._composites.get(tid)
        if found is not None:
            return found
        self._deep(tid, depth)
        btf = self.btf
        union = btf.kind(tid) is Kind.UNION
        members = btf.members(tid)
        size = btf.size(tid) or 0
        sizes = [self.sizeof(m.type_id, depth + 1) for m in members]
        natural = [self.alignof(m.type_id, depth + 1) for m in members]
        packed = False
        for m, msize, align in zip(members, sizes, natural, strict=True):
            if m.bitfield_size:
                unit = max(msize, 1) * 8
                last = m.bit_offset + m.bitfield_size - 1
                if m.bit_offset // unit != last // unit:
                    packed = True
            elif m.bit_offset % (align * 8):
                packed = True
        if members and not packed and size % max(natural):
            packed = True

        placements: list[Placement] = []
        cur = 0
        end = 0
        struct_align = 1
        for m, msize, align in zip(members, sizes, natural, strict=True):
            if union:
                cur = 0
            eff = 1 if packed else align
            forced = 0
            pad = 0
            if m.bitfield_size:
                unit = max(msize, 1) * 8
                fits = cur // unit == (cur + m.bitfield_size - 1) // unit
                at = cur if packed or fits else _align_up(cur, unit)
                if m.bit_offset != at:
                    pad = max(m.bit_offset - cur, 0)
                if not packed:
                    struct_align = max(struct_align, align)
                cur = m.bit_offset + m.bitfield_size
            else:
                at = _align_up(cur, eff * 8)
                if m.bit_offset > at:
                    forced = self._forced(cur, m.bit_offset, eff, size)
                    if not forced:
                        pad = m.bit_offset - cur
                struct_align = max(struct_align, forced or eff)
                cur = m.bit_offset + msize * 8
            end = max(end, cur)
            placements.append(Placement(m, msize, forced, pad))

        forced_struct = 0
        tail = 0
        natural_end = _align_up(end, struct_align * 8)
        if size * 8 > natural_end:
            forced_struct = self._forced(end, size * 8, struct_align, size, largest=False)
            if forced_struct:
                struct_align = forced_struct
            else:
                tail = size * 8 - end
        layout = CompositeLayout(size, struct_align, packed, forced_struct, tuple(placements), tail)
        self._composites[tid] = layout
        self._align[tid] = struct_align
        return layout

    @staticmethod
    def _forced(
        cur_bits: int, want_bits: int, natural: int, size_bytes: int, *, largest: bool = True
    ) -> int:
        """An alignment above `natural` that moves `cur_bits` to `want_bits`, 0 if none.

        Every power of two from the smallest that works up to the largest dividing the
        target works. Like pahole, a member gets the largest up to a cache line (what
        `____cacheline_aligned` gives) that the struct's size allows; a whole struct
        (`largest` false) gets a cache line if that works, else the smallest.
        """
        if want_bits % 8:
            return 0
        best = 0
        align = natural * 2
        while align <= _MAX_FORCED_ALIGN:
            placed = _align_up(cur_bits, align * 8)
            if placed == want_bits and (best == 0 or align <= _CACHELINE):
                if size_bytes and size_bytes % align:
                    break
                if not largest and best and align != _CACHELINE:
                    align *= 2
                    continue
                best = align
            elif placed != want_bits and best:
                break
            align *= 2
        return best


def layouts_of(btf: Btf) -> Layouts:
    """The Layouts kept with `btf`, so each struct's layout is inferred once."""
    return btf.derived("layouts", lambda: Layouts(btf))
