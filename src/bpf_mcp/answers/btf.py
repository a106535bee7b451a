"""Pure answers of the BTF tools: search, one type in depth, and C headers. No I/O.

Types come from vmlinux and from the modules' split BTF; a module's ids continue after
vmlinux's, so an id is only unique within its object and every answer names the object.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from ..btf import Btf, BtfError, Kind
from ..btf.header import Header, build_header
from ..btf.layout import layouts_of
from ..btf.members import describe_members
from ..btf.render import c_definition, func_prototype, type_name
from ..errors import BpfMcpError, InvalidArgument, NotFound
from ..index.indexes import BtfIndex
from ..queries import DescribeBtfType, GenerateCHeader, GetBtfTypes
from ..results import (
    C_INLINE_BYTES,
    BtfChainStep,
    BtfDeclTag,
    BtfEnumerator,
    BtfLayout,
    BtfMember,
    BtfParam,
    BtfTypeDescription,
    BtfTypePage,
    BtfTypeRef,
    BtfTypeSummary,
    CHeader,
)
from .paging import window
from .suggest import CONTAINING, close_names

MAX_OTHERS = 20

# The most useful type first when several share a name.
_PREFERENCE = {
    kind: rank
    for rank, kind in enumerate(
        (
            Kind.STRUCT,
            Kind.UNION,
            Kind.ENUM,
            Kind.ENUM64,
            Kind.TYPEDEF,
            Kind.FUNC,
            Kind.VAR,
            Kind.FWD,
            Kind.INT,
            Kind.FLOAT,
            Kind.DATASEC,
            Kind.TYPE_TAG,
            Kind.DECL_TAG,
        )
    )
}
_KEYWORDS = {
    "struct": frozenset({Kind.STRUCT}),
    "union": frozenset({Kind.UNION}),
    "enum": frozenset({Kind.ENUM, Kind.ENUM64}),
}
_DEFINABLE = frozenset(
    {Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.TYPEDEF, Kind.FUNC, Kind.VAR, Kind.FWD}
)
_SIZED = frozenset({Kind.INT, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FLOAT})
_NO_SIZE = frozenset({Kind.UNKN, Kind.FUNC, Kind.FUNC_PROTO, Kind.FWD, Kind.DECL_TAG})
_REFERS = frozenset(
    {
        Kind.PTR,
        Kind.TYPEDEF,
        Kind.CONST,
        Kind.VOLATILE,
        Kind.RESTRICT,
        Kind.TYPE_TAG,
        Kind.VAR,
        Kind.DECL_TAG,
    }
)
_CHAIN = frozenset({Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG})
Linkage = Literal["static", "global", "extern"]
_LINKAGE: dict[int, Linkage] = {0: "static", 1: "global", 2: "extern"}


# -- get_btf_types ------------------------------------------------------------------------


def parse_kind(label: str) -> Kind:
    """The Kind named by `label`; InvalidArgument listing the valid labels otherwise."""
    try:
        return Kind.from_label(label.strip().lower())
    except ValueError:
        valid = ", ".join(k.label for k in Kind if k != Kind.UNKN)
        raise InvalidArgument(f"Unknown BTF kind {label!r}; valid kinds are: {valid}.") from None


def btf_summary(btf: Btf, tid: int, *, members_too: bool = True) -> BtfTypeSummary:
    """The compact description of one type used by get_btf_types; member names only
    when `members_too`."""
    kind = btf.kind(tid)
    members = None
    if members_too and kind in (Kind.STRUCT, Kind.UNION):
        members = btf.member_names(tid)
    return BtfTypeSummary(
        id=tid,
        name=btf.name(tid),
        kind=kind.label,
        size=btf.size(tid) if kind in _SIZED or kind == Kind.DATASEC else None,
        vlen=btf.vlen(tid),
        members=members,
        object=btf.object_of(tid),
    )


def _own(btf: Btf, ids: Sequence[int]) -> Sequence[int]:
    """`ids` without those of the base object (a module's `find` includes vmlinux's)."""
    if btf.base is None:
        return ids
    return [t for t in ids if t >= btf.first_id]


def _matching(btf: Btf, query: GetBtfTypes, kind: Kind | None, index: BtfIndex) -> Sequence[int]:
    pattern = query.pattern
    if not pattern:
        if kind is None:
            return btf.named_ids()
        if btf is index.btf:
            return index.named_of_kind(kind)
        return btf.filter_kind(btf.named_ids(), kind)
    ids: Sequence[int]
    if query.match == "glob":
        ids = btf.glob_names(pattern, case_sensitive=query.case_sensitive)
    elif query.match == "exact":
        if query.case_sensitive:
            ids = _own(btf, btf.find(pattern))
        else:
            ids = btf.glob_names(glob.escape(pattern), case_sensitive=False)
    else:
        ids = btf.search_names(pattern, case_sensitive=query.case_sensitive)
    return ids if kind is None else btf.filter_kind(ids, kind)


def get_btf_types(query: GetBtfTypes, index: BtfIndex) -> BtfTypePage:
    """Named types of every BTF object matching the query, vmlinux first, by id."""
    kind = parse_kind(query.kind) if query.kind is not None else None
    parts = [(btf, _matching(btf, query, kind, index)) for btf in index.objects]
    w = window(sum(len(ids) for _, ids in parts), query.offset, query.limit)
    items: list[BtfTypeSummary] = []
    start = w.start
    for btf, ids in parts:
        if start < len(ids) and len(items) < w.stop - w.start:
            shown = ids[start : start + (w.stop - w.start) - len(items)]
            items.extend(btf_summary(btf, t, members_too=query.include_members) for t in shown)
        start = max(0, start - len(ids))
    return BtfTypePage(items=tuple(items), total=w.total, offset=w.start, next_offset=w.next_offset)


# -- finding one type by name -------------------------------------------------------------


def _split_name(text: str) -> tuple[str, frozenset[Kind] | None]:
    """'struct sock' -> ('sock', {STRUCT}); a bare name -> (name, None)."""
    name = text.strip()
    keyword, _, rest = name.partition(" ")
    kinds = _KEYWORDS.get(keyword)
    if kinds is not None and rest.strip():
        return rest.strip(), kinds
    return name, None


def _objects(index: BtfIndex, wanted: str | None) -> tuple[Btf, ...]:
    if wanted is None:
        return index.objects
    found = tuple(b for b in index.objects if b.object_name == wanted)
    if not found:
        names = ", ".join(b.object_name for b in index.objects)
        raise NotFound(f"No BTF object named {wanted!r}; this kernel has: {names}.")
    return found


def _candidates(objects: Sequence[Btf], name: str) -> list[tuple[Btf, int]]:
    """Every type named `name` in `objects`, the most useful first."""
    found = [(btf, tid) for btf in objects for tid in _own(btf, btf.find(name))]
    order = {id(b): i for i, b in enumerate(objects)}
    found.sort(key=lambda bt: (_PREFERENCE.get(bt[0].kind(bt[1]), 99), order[id(bt[0])], bt[1]))
    return found


def _suggestions(index: BtfIndex, objects: Sequence[Btf], name: str, limit: int = 6) -> list[str]:
    """Names close to `name` in `objects`: the same letters in another case, similar
    spellings, then names that contain it."""
    found: dict[str, None] = {}
    for btf in objects:
        near = index.near[btf.object_name]
        containing = map(btf.name, btf.search_names(name, case_sensitive=False, limit=CONTAINING))
        found.update(dict.fromkeys(close_names(name, near, containing, limit=limit, cutoff=0.75)))
    return list(found)[:limit]


def _not_found(
    index: BtfIndex, objects: Sequence[Btf], name: str, what: str = "BTF type"
) -> NotFound:
    where = " and ".join(b.object_name for b in objects[:3])
    if len(objects) > 3:
        where = f"vmlinux and {len(objects) - 1} modules"
    message = f"No {what} named {name!r} in the BTF of {where}."
    close = _suggestions(index, objects, name)
    if close:
        message += " Close matches: " + ", ".join(close) + "."
    else:
        message += " Search names with get_btf_types (pattern, match='glob')."
    return NotFound(message)


def _pick(
    index: BtfIndex, text: str, kind_label: str | None, object_name: str | None
) -> tuple[Btf, int, list[tuple[Btf, int]]]:
    """The type `text` names (kind and object applied) and the others of that name."""
    name, implied = _split_name(text)
    kinds = implied
    if kind_label is not None:
        kind = parse_kind(kind_label)
        if implied is not None and kind not in implied:
            raise InvalidArgument(
                f"The name {text!r} says {text.split()[0]}, but kind is {kind.label!r}."
            )
        kinds = frozenset({kind})
    objects = _objects(index, object_name)
    found = _candidates(objects, name)
    chosen = [bt for bt in found if kinds is None or bt[0].kind(bt[1]) in kinds]
    if not chosen:
        if found:
            btf, tid = found[0]
            wanted = "/".join(sorted(k.label for k in kinds or ()))
            others = ", ".join(f"{b.kind(t).label} (id {t}, {b.object_name})" for b, t in found[:5])
            raise NotFound(
                f"No {wanted} named {name!r}; that name belongs to: {others}. Pass one of"
                " those kinds, or omit 'kind'."
            )
        raise _not_found(index, objects, name)
    btf, tid = chosen[0]
    return btf, tid, [bt for bt in found if bt != (btf, tid)]


# -- describe_btf_type --------------------------------------------------------------------


def describe_btf_type(query: DescribeBtfType, index: BtfIndex) -> BtfTypeDescription:
    """One type in depth; NotFound (with close names) when no type has the name."""
    btf, tid, others = _pick(index, query.name, query.kind, query.object)
    try:
        whole = describe(btf, tid, others)
    except BtfError as exc:
        raise BpfMcpError(
            f"The BTF of {btf.object_name} is malformed where it describes {query.name!r}: {exc}"
        ) from None
    return described_part(whole, query)


def described_part(whole: BtfTypeDescription, query: DescribeBtfType) -> BtfTypeDescription:
    """The part of a full description `query` asks for: its page of members and of enum
    values, and the C text when short or asked for; the note says what is left out."""
    changes: dict[str, Any] = {}
    for part, offset, limit in (
        ("member", query.member_offset, query.member_limit),
        ("value", query.value_offset, query.value_limit),
    ):
        shown = getattr(whole, f"{part}s")
        if shown is not None:
            w = window(len(shown), offset, limit)
            changes[f"{part}s"] = shown[w.start : w.stop]
            changes[f"{part}_offset"] = w.start
            changes[f"next_{part}_offset"] = w.next_offset
    if whole.c is not None and len(whole.c) > C_INLINE_BYTES and not query.include_c:
        changes["c"] = None
    return attrs.evolve(whole, **changes).with_note()


def _ref(btf: Btf, tid: int) -> BtfTypeRef:
    return BtfTypeRef(tid, btf.name(tid), btf.kind(tid).label, btf.object_of(tid))


def describe(btf: Btf, tid: int, others: Sequence[tuple[Btf, int]] = ()) -> BtfTypeDescription:
    """The full description of `tid` in `btf`; `others` share its name."""
    kind = btf.kind(tid)
    layouts = layouts_of(btf)
    size = None if kind in _NO_SIZE else layouts.sizeof(tid)
    alignment = None if kind in _NO_SIZE or kind is Kind.DATASEC else layouts.alignof(tid)
    members: tuple[BtfMember, ...] | None = None
    layout = None
    if kind in (Kind.STRUCT, Kind.UNION):
        items, summary = describe_members(btf, tid, layouts)
        members = tuple(
            BtfMember(
                name=m.name,
                path=m.path,
                depth=m.depth,
                type=type_name(btf, m.type_id),
                type_id=m.type_id,
                offset=m.offset,
                bit_offset=m.bit_offset,
                size=m.size,
                bitfield_size=m.bitfield_size or None,
                hole_after=m.hole_after,
                bit_hole_after=m.bit_hole_after,
            )
            for m in items
        )
        layout = BtfLayout(
            size=summary.size,
            alignment=summary.alignment,
            packed=summary.packed,
            members=summary.members,
            holes=summary.holes,
            sum_holes=summary.sum_holes,
            bit_holes=summary.bit_holes,
            sum_bit_holes=summary.sum_bit_holes,
            padding=summary.padding,
        )
    signed = bits = nelems = None
    values = None
    if kind in (Kind.ENUM, Kind.ENUM64):
        signed = btf.kind_flag(tid)
        values = tuple(BtfEnumerator(v.name, v.value) for v in btf.enum_values(tid))
    elif kind is Kind.INT:
        info = btf.int_info(tid)
        signed, bits = info.signed, info.bits
    referred = None
    if kind in _REFERS:
        referred = type_name(btf, btf.ref(tid))
    elif kind is Kind.ARRAY:
        info_a = btf.array(tid)
        referred, nelems = type_name(btf, info_a.elem_type_id), info_a.nelems
    prototype = return_type = None
    params: tuple[BtfParam, ...] | None = None
    variadic: bool | None = None
    linkage: Linkage | None = None
    proto = btf.ref(tid) if kind is Kind.FUNC else tid if kind is Kind.FUNC_PROTO else None
    if proto is not None:
        return_type = type_name(btf, btf.ref(proto))
        params = tuple(
            BtfParam(p.name, type_name(btf, p.type_id), p.type_id) for p in btf.params(proto)
        )
        variadic = btf.is_variadic(proto)
    if kind is Kind.FUNC:
        prototype = func_prototype(btf, tid)
    if kind in (Kind.FUNC, Kind.VAR):
        linkage = _LINKAGE.get(btf.linkage(tid))
    c = c_definition(btf, tid) if kind in _DEFINABLE else type_name(btf, tid)
    return BtfTypeDescription(
        id=tid,
        name=btf.name(tid),
        kind=kind.label,
        object=btf.object_of(tid),
        size=size,
        alignment=alignment,
        c=c,
        c_bytes=len(c.encode()),
        type=referred,
        members=members,
        member_total=len(members) if members is not None else None,
        member_offset=0 if members is not None else None,
        next_member_offset=None,
        layout=layout,
        signed=signed,
        bits=bits,
        nelems=nelems,
        values=values,
        value_total=len(values) if values is not None else None,
        value_offset=0 if values is not None else None,
        next_value_offset=None,
        typedef_chain=_chain(btf, tid) if kind is Kind.TYPEDEF else None,
        prototype=prototype,
        return_type=return_type,
        params=params,
        variadic=variadic,
        linkage=linkage,
        decl_tags=_decl_tags(btf, tid, kind),
        others=tuple(_ref(b, t) for b, t in others[:MAX_OTHERS]),
    )


def _chain(btf: Btf, tid: int) -> tuple[BtfChainStep, ...]:
    steps = []
    current = tid
    for _ in range(64):
        kind = btf.kind(current)
        steps.append(BtfChainStep(current, kind.label, type_name(btf, current)))
        if kind not in _CHAIN:
            return tuple(steps)
        current = btf.ref(current)
    raise BtfError(f"{btf.object_name}: type id {tid}: the typedef chain is longer than 64")


def _decl_tags(btf: Btf, tid: int, kind: Kind) -> tuple[BtfDeclTag, ...]:
    tags = btf.decl_tags(tid)
    if not tags:
        return ()  # most types have none: their members need not be decoded
    names: list[str] = []
    if kind in (Kind.STRUCT, Kind.UNION):
        names = [m.name for m in btf.members(tid)]
    elif kind is Kind.FUNC:
        names = [p.name for p in btf.params(btf.ref(tid))]
    return tuple(
        BtfDeclTag(tag, component, names[component] if 0 <= component < len(names) else None)
        for tag, component in tags
    )


# -- generate_c_header --------------------------------------------------------------------


def generate_c_header(query: GenerateCHeader, index: BtfIndex) -> CHeader:
    """A header defining the named types, or the part of it from definition
    `query.offset` that fits in `query.max_bytes` (at least one definition); the parts
    concatenated are the whole header. NotFound naming every unknown name."""
    picked: list[tuple[Btf, int]] = []
    missing: list[str] = []
    for text in query.names:
        name, kinds = _split_name(text)
        found = [
            bt
            for bt in _candidates(index.objects, name)
            if bt[0].kind(bt[1]) in (kinds or _DEFINABLE)
        ]
        if found:
            picked.append(found[0])
        else:
            missing.append(text)
    if missing:
        hints = []
        for text in missing[:5]:
            close = _suggestions(index, index.objects, _split_name(text)[0], limit=3)
            hints.append(f"{text!r} (close: {', '.join(close)})" if close else repr(text))
        raise NotFound(
            "No struct, union, enum, typedef or function named "
            + ", ".join(hints)
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            + " in the kernel's BTF."
        )
    modules = {b.object_name: b for b, _ in picked if b is not index.btf}
    if len(modules) > 1:
        raise InvalidArgument(
            "One header holds the types of one BTF object (vmlinux with at most one module);"
            f" these come from {', '.join(sorted(modules))}: ask for each module separately."
        )
    btf = next(iter(modules.values())) if modules else index.btf
    roots = [tid for _, tid in picked]
    try:
        header = build_header(btf, roots)
    except BtfError as exc:
        raise BpfMcpError(f"The BTF of {btf.object_name} is malformed: {exc}") from None
    text, start, stop = header_part(header, query.offset, query.max_bytes)
    count = len(header.defined)
    note = None
    if stop < count:
        note = (
            f"This is part of the header: definitions {start}-{stop - 1} of {count}, cut"
            f" between definitions to keep to {query.max_bytes} bytes. Pass offset={stop}"
            " (same names) for the next part, and concatenate the parts."
        )
    return CHeader(
        header=text,
        bytes=len(text.encode()),
        offset=start,
        next_offset=stop if stop < count else None,
        definitions=count,
        roots=tuple(_ref(b, t) for b, t in picked),
        defined=len(header.defined),
        declared=len(header.declared),
        object=btf.object_name,
        note=note,
    )


def header_part(header: Header, offset: int, max_bytes: int) -> tuple[str, int, int]:
    """(text, first definition, definition after the last) of the part of `header` that
    starts at definition `offset` and holds at most `max_bytes` (at least one definition,
    so paging makes progress). The preamble leads the first part, the closing guard ends
    the last."""
    preamble, *definitions, closing = header.parts
    start = min(offset, len(definitions))
    pieces = [preamble] if start == 0 else []
    size = sum(len(p.encode()) for p in pieces)
    stop = start
    while stop < len(definitions):
        piece = definitions[stop]
        size += len(piece.encode())
        if size > max_bytes and stop > start:
            break
        pieces.append(piece)
        stop += 1
    if stop == len(definitions):
        pieces.append(closing)
    return "".join(pieces), start, stop
