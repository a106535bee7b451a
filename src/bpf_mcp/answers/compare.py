"""Comparing kernels: the types, functions and tracepoints that differ between two, and one
type or function across several side by side. Pure: indexes in, frozen results out.

Types and functions are matched by name (types by name and kind, enum and enum64 as one
kind), over vmlinux and then the modules (the first of a name wins). Whether a matched
type changed is decided from a digest of its layout (size, and each member's name, bit
offset, bitfield width and C type, anonymous members by their own layout), computed once
per BTF object and kept with it; the member-by-member differences are worked out only for
the page of items returned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Literal, TypeVar

import attrs

from ..btf import Btf, Kind, func_prototype, type_name
from ..btf.members import describe_members
from ..errors import InvalidArgument, NotFound, SourceUnavailable
from ..index import Indexes
from ..index.indexes import BtfIndex, KallsymsIndex, TracefsIndex
from ..results_compare import (
    Cell,
    ComparedPart,
    EnumValueChange,
    FieldChange,
    FunctionChange,
    KernelColumn,
    KernelComparison,
    MemberChange,
    MemberChangeKind,
    SideBySide,
    SideBySideRow,
    TracepointChange,
    TypeChange,
)
from ..tracefs import TracepointRecord
from .attach import clone_rows
from .paging import page, substring_matcher

TYPE_KINDS = (
    Kind.STRUCT,
    Kind.UNION,
    Kind.ENUM,
    Kind.ENUM64,
    Kind.TYPEDEF,
    Kind.INT,
    Kind.FLOAT,
)
"""The kinds compared as types (FUNCs are compared as functions)."""
_FAMILY = {kind: kind.label for kind in TYPE_KINDS} | {Kind.ENUM64: "enum"}
_COMPOSITES = frozenset({Kind.STRUCT, Kind.UNION})
_ENUMS = frozenset({Kind.ENUM, Kind.ENUM64})
_MAX_DEPTH = 32
DEFAULT_LIMIT = 50
T = TypeVar("T")
K = TypeVar("K", str, tuple[str, str])


@attrs.frozen
class KernelSide:
    """One kernel's indexes as a comparison sees them; a missing source is None."""

    name: str
    btf: BtfIndex | None = None
    kallsyms: KallsymsIndex | None = None
    tracefs: TracefsIndex | None = None

    @classmethod
    def of(cls, name: str, indexes: Indexes) -> KernelSide:
        """The kernel named `name` with the ready indexes of a view."""
        return cls(name, indexes.btf, indexes.kallsyms, indexes.tracefs)


def compare_kernels(
    a: KernelSide,
    b: KernelSide,
    what: ComparedPart,
    pattern: str | None = None,
    *,
    kind: str | None = None,
    change: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> KernelComparison:
    """What differs between kernels `a` and `b` in their types, functions or tracepoints,
    counts first, items paged (see `compare_btf` and `compare_tracepoints`).

    Raises SourceUnavailable naming the kernel and the source it lacks (BTF for types and
    functions, tracefs for tracepoints), and InvalidArgument for a `kind` or `change`
    that does not exist.
    """
    names = (a.name, b.name)
    if what == "tracepoints":
        tracefs_a, tracefs_b = (_need(side, side.tracefs, "tracefs") for side in (a, b))
        return compare_tracepoints(
            tracefs_a, tracefs_b, pattern, names=names, change=change, offset=offset, limit=limit
        )
    btf_a, btf_b = (_need(side, side.btf, "BTF") for side in (a, b))
    return compare_btf(
        btf_a,
        btf_b,
        what,
        pattern,
        names=names,
        kallsyms=(a.kallsyms, b.kallsyms),
        kind=kind,
        change=change,
        offset=offset,
        limit=limit,
    )


def _need(side: KernelSide, index: T | None, source: str) -> T:
    if index is None:
        raise SourceUnavailable(
            f"Kernel {side.name!r} has no {source} loaded, so it cannot be compared on what"
            f" {source} tells; give it a snapshot or sysroot that holds {source}."
        )
    return index


# -- types ------------------------------------------------------------------------------------


Located = tuple[Btf, int]


def _ids_named(obj: Btf, pattern: str | None, kind: Kind) -> Iterable[int]:
    """The ids of `obj` (not its base) of `kind` whose name contains `pattern`."""
    if pattern:
        return obj.filter_kind(obj.search_names(pattern, case_sensitive=False), kind)
    return obj.ids_of_kind(kind)


def _named_types(
    index: BtfIndex, kinds: Iterable[Kind], pattern: str | None
) -> dict[tuple[str, str], Located]:
    """(name, family) -> where the first type of that name and family is defined, for
    the names that contain `pattern` (case-insensitive)."""
    found: dict[tuple[str, str], Located] = {}
    for obj in index.objects:
        for kind in kinds:
            family = _FAMILY[kind]
            for tid in _ids_named(obj, pattern, kind):
                name = obj.name(tid)
                if name:
                    found.setdefault((name, family), (obj, tid))
    return found


def _type_key(btf: Btf, tid: int, depth: int = 0) -> str:
    """The type `tid` as text that differs when its layout differs: its C name, except
    that anonymous structs, unions and enums are spelled out (through arrays and
    qualifiers), since their name says nothing of their content."""
    keys: dict[int, str] = btf.derived("compare.type_key", dict)
    found = keys.get(tid)
    if found is not None:
        return found
    if depth > _MAX_DEPTH:
        return type_name(btf, tid)
    kind = btf.kind(tid)
    if kind in _COMPOSITES and not btf.name(tid):
        found = f"{kind.label}{{{_layout_text(btf, tid, depth + 1)}}}"
    elif kind in _ENUMS and not btf.name(tid):
        found = f"enum{{{_enum_text(btf, tid)}}}"
    elif kind is Kind.ARRAY:
        info = btf.array(tid)
        found = f"{_type_key(btf, info.elem_type_id, depth + 1)}[{info.nelems}]"
    elif kind in (Kind.CONST, Kind.VOLATILE):
        found = f"{kind.label} {_type_key(btf, btf.ref(tid), depth + 1)}"
    else:
        found = type_name(btf, tid)
    keys[tid] = found
    return found


def _layout_text(btf: Btf, tid: int, depth: int = 0) -> str:
    parts = [str(btf.size(tid))]
    parts += (
        f"{m.name}@{m.bit_offset}:{m.bitfield_size}={_type_key(btf, m.type_id, depth)}"
        for m in btf.members(tid)
    )
    return ";".join(parts)


def _enum_text(btf: Btf, tid: int) -> str:
    values = ",".join(f"{v.name}={v.value}" for v in btf.enum_values(tid))
    return f"{btf.size(tid)}:{btf.kind_flag(tid)}:{values}"


def _type_digest(btf: Btf, tid: int) -> bytes:
    """A digest of what a comparison looks at in type `tid`, kept with its BTF object."""
    digests: dict[int, bytes] = btf.derived("compare.type_digest", dict)
    found = digests.get(tid)
    if found is None:
        kind = btf.kind(tid)
        if kind in _COMPOSITES:
            text = _layout_text(btf, tid)
        elif kind in _ENUMS:
            text = _enum_text(btf, tid)
        elif kind is Kind.TYPEDEF:
            text = _type_key(btf, btf.ref(tid))
        elif kind is Kind.INT:
            info = btf.int_info(tid)
            text = f"{btf.size(tid)}:{info.encoding}:{info.bit_offset}:{info.bits}"
        else:
            text = str(btf.size(tid))
        found = digests[tid] = hashlib.blake2b(text.encode(), digest_size=16).digest()
    return found


def _kinds(kind: str | None) -> tuple[Kind, ...]:
    if kind is None:
        return TYPE_KINDS
    wanted = kind.strip().lower()
    chosen = tuple(k for k in TYPE_KINDS if _FAMILY[k] == wanted or k.label == wanted)
    if not chosen:
        valid = ", ".join(sorted({_FAMILY[k] for k in TYPE_KINDS}))
        raise InvalidArgument(f"kind {kind!r} is not compared; use one of: {valid}.")
    return chosen


def _check_change(change: str | None, valid: Sequence[str]) -> None:
    if change is not None and change not in valid:
        raise InvalidArgument(f"change {change!r} is not one of: {', '.join(valid)}.")


def _matcher(pattern: str | None) -> Callable[[str], bool]:
    test = substring_matcher(pattern)
    return test if test is not None else (lambda _name: True)


def _differences(
    in_a: Collection[K],
    in_b: Collection[K],
    changed: Callable[[K], str | None],
) -> tuple[list[tuple[K, str]], dict[str, int]]:
    """The (key, change) of every key of either side, sorted, and the counts by change
    (keys in both and unchanged count as 'same')."""
    rows: list[tuple[K, str]] = []
    counts: dict[str, int] = {}
    every: set[K] = set(in_a)
    every.update(in_b)
    for key in sorted(every):
        if key not in in_a:
            verdict: str | None = "added"
        elif key not in in_b:
            verdict = "removed"
        else:
            verdict = changed(key)
        counts[verdict or "same"] = counts.get(verdict or "same", 0) + 1
        if verdict is not None:
            rows.append((key, verdict))
    return rows, counts


def compare_btf(
    a: BtfIndex,
    b: BtfIndex,
    what: Literal["types", "functions"],
    pattern: str | None = None,
    *,
    names: tuple[str, str] = ("a", "b"),
    kallsyms: tuple[KallsymsIndex | None, KallsymsIndex | None] = (None, None),
    kind: str | None = None,
    change: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> KernelComparison:
    """The types (`what="types"`) or functions (`"functions"`) of BTF `a` and `b` whose
    names contain `pattern` (case-insensitive; all without it), and how they differ.

    Types: added, removed, changed (structs and unions: size, or members added, removed,
    moved or retyped, with both offsets; enums: values; typedefs: what they name). `kind`
    keeps one kind (struct, union, enum, typedef, int, float). Functions: added, removed,
    `prototype` (parameter or return types differ; names are not compared), and `clones`
    (in one kernel kallsyms has only compiler clones of it), which needs the kallsyms of
    both. `counts` covers every matching name; `change` then keeps one kind of change
    among the items. Items are sorted by name and paged by `offset` and `limit`.

    Raises InvalidArgument for an unknown `kind` or `change`.
    """
    if what == "types":
        return _compare_types(a, b, pattern, names, kind, change, offset, limit)
    return _compare_functions(a, b, pattern, names, kallsyms, change, offset, limit)


def _compare_types(
    a: BtfIndex,
    b: BtfIndex,
    pattern: str | None,
    names: tuple[str, str],
    kind: str | None,
    change: str | None,
    offset: int,
    limit: int,
) -> KernelComparison:
    _check_change(change, ("added", "removed", "changed"))
    kinds = _kinds(kind)
    types_a, types_b = _named_types(a, kinds, pattern), _named_types(b, kinds, pattern)

    def changed(key: tuple[str, str]) -> str | None:
        left, right = types_a[key], types_b[key]
        same = left[0].kind(left[1]) == right[0].kind(right[1]) and _type_digest(
            *left
        ) == _type_digest(*right)
        return None if same else "changed"

    rows, counts = _differences(types_a, types_b, changed)
    if change is not None:
        rows = [r for r in rows if r[1] == change]
    shown, window = page(rows, offset, limit)
    items = tuple(
        _type_change(types_a.get(key), types_b.get(key), verdict) for key, verdict in shown
    )
    return KernelComparison(
        a=names[0],
        b=names[1],
        what="types",
        counts=counts,
        items=items,
        total=window.total,
        offset=window.start,
        next_offset=window.next_offset,
    )


def _type_change(left: Located | None, right: Located | None, verdict: str) -> TypeChange:
    shown = right or left
    assert shown is not None
    btf, tid = shown
    kind = btf.kind(tid)
    members = values = None
    type_a = type_b = None
    if left is not None and right is not None:
        if kind in _COMPOSITES and left[0].kind(left[1]) in _COMPOSITES:
            members = tuple(_member_changes(left, right))
        elif kind in _ENUMS and left[0].kind(left[1]) in _ENUMS:
            values = tuple(_value_changes(left, right))
    if kind is Kind.TYPEDEF:
        type_a = type_name(left[0], left[0].ref(left[1])) if left is not None else None
        type_b = type_name(right[0], right[0].ref(right[1])) if right is not None else None
    return TypeChange(
        name=btf.name(tid),
        kind=kind.label,
        change=verdict,  # type: ignore[arg-type]
        object_a=left[0].object_of(left[1]) if left is not None else None,
        object_b=right[0].object_of(right[1]) if right is not None else None,
        size_a=left[0].size(left[1]) if left is not None else None,
        size_b=right[0].size(right[1]) if right is not None else None,
        type_a=type_a,
        type_b=type_b,
        members=members,
        values=values,
    )


@attrs.frozen
class _Placed:
    type: str
    offset: int
    bit_offset: int


def _placed_members(btf: Btf, tid: int) -> dict[str, _Placed]:
    """Every named member of a struct or union by its path, anonymous members expanded."""
    items, _ = describe_members(btf, tid)
    placed: dict[str, _Placed] = {}
    for m in items:
        if not m.name:
            continue
        text = type_name(btf, m.type_id)
        if m.bitfield_size:
            text += f":{m.bitfield_size}"
        placed.setdefault(m.path, _Placed(text, m.offset, m.bit_offset))
    return placed


E = TypeVar("E")
_CHANGE: dict[tuple[bool, bool], MemberChangeKind | None] = {
    (True, True): "moved and retyped",
    (True, False): "moved",
    (False, True): "retyped",
    (False, False): None,
}


def _entry_changes(
    old: Mapping[str, E],
    new: Mapping[str, E],
    position: Callable[[E], int],
    moved: Callable[[E, E], bool],
    retyped: Callable[[E, E], bool],
) -> list[tuple[str, MemberChangeKind, E | None, E | None]]:
    """Every entry (member, field) added, removed, moved or retyped, ordered by its
    position in `new`, or in `old` for a removed one."""
    found = []
    for key in old.keys() | new.keys():
        was, now = old.get(key), new.get(key)
        if was is None or now is None:
            kind: MemberChangeKind | None = "added" if was is None else "removed"
        else:
            kind = _CHANGE[moved(was, now), retyped(was, now)]
        if kind is not None:
            where = now if now is not None else was
            assert where is not None
            found.append((position(where), key, kind, was, now))
    found.sort(key=lambda change: (change[0], change[1]))
    return [(key, kind, was, now) for _, key, kind, was, now in found]


def _member_changes(left: Located, right: Located) -> Iterator[MemberChange]:
    changes = _entry_changes(
        _placed_members(*left),
        _placed_members(*right),
        lambda p: p.bit_offset,
        lambda was, now: was.bit_offset != now.bit_offset,
        lambda was, now: was.type != now.type,
    )
    for path, kind, was, now in changes:
        yield MemberChange(
            member=path,
            change=kind,
            type_a=was.type if was else None,
            type_b=now.type if now else None,
            offset_a=was.offset if was else None,
            offset_b=now.offset if now else None,
            bit_offset_a=was.bit_offset if was else None,
            bit_offset_b=now.bit_offset if now else None,
        )


def _value_changes(left: Located, right: Located) -> Iterator[EnumValueChange]:
    old = {v.name: v.value for v in left[0].enum_values(left[1])}
    new = {v.name: v.value for v in right[0].enum_values(right[1])}
    for name in [*old, *(n for n in new if n not in old)]:
        was, now = old.get(name), new.get(name)
        if was == now:
            continue
        change = "added" if was is None else "removed" if now is None else "changed"
        yield EnumValueChange(name, change, was, now)  # type: ignore[arg-type]


# -- functions --------------------------------------------------------------------------------


def _functions(index: BtfIndex, pattern: str | None) -> dict[str, Located]:
    found: dict[str, Located] = {}
    for obj in index.objects:
        for tid in _ids_named(obj, pattern, Kind.FUNC):
            found.setdefault(obj.name(tid), (obj, tid))
    return found


def _prototype_key(btf: Btf, func_id: int) -> str:
    """FUNC `func_id`'s return and parameter types as text (parameter names left out),
    kept with its BTF object by prototype (many functions share one)."""
    proto = btf.ref(func_id)
    keys: dict[int, str] = btf.derived("compare.prototype_key", dict)
    found = keys.get(proto)
    if found is None:
        if btf.kind(proto) is not Kind.FUNC_PROTO:
            found = type_name(btf, proto)
        else:
            parts = [_type_key(btf, btf.ref(proto))]
            parts += (_type_key(btf, p.type_id) for p in btf.params(proto))
            if btf.is_variadic(proto):
                parts.append("...")
            found = "|".join(parts)
        keys[proto] = found
    return found


def _only_clones(index: KallsymsIndex | None, name: str) -> bool | None:
    if index is None:
        return None
    return not index.rows_named(name) and bool(clone_rows(index, name))


def _compare_functions(
    a: BtfIndex,
    b: BtfIndex,
    pattern: str | None,
    names: tuple[str, str],
    kallsyms: tuple[KallsymsIndex | None, KallsymsIndex | None],
    change: str | None,
    offset: int,
    limit: int,
) -> KernelComparison:
    _check_change(change, ("added", "removed", "prototype", "clones"))
    funcs_a, funcs_b = _functions(a, pattern), _functions(b, pattern)
    syms_a, syms_b = kallsyms

    def changed(name: str) -> str | None:
        if _prototype_key(*funcs_a[name]) != _prototype_key(*funcs_b[name]):
            return "prototype"
        both = syms_a is not None and syms_b is not None
        if both and _only_clones(syms_a, name) != _only_clones(syms_b, name):
            return "clones"
        return None

    rows, counts = _differences(funcs_a, funcs_b, changed)
    for label, funcs, syms in (("a", funcs_a, syms_a), ("b", funcs_b, syms_b)):
        if syms is not None:
            counts[f"only_clones_in_{label}"] = sum(1 for n in funcs if _only_clones(syms, n))
    if change is not None:
        rows = [r for r in rows if r[1] == change]
    shown, window = page(rows, offset, limit)
    items = tuple(
        FunctionChange(
            name=name,
            change=verdict,  # type: ignore[arg-type]
            prototype_a=func_prototype(*funcs_a[name]) if name in funcs_a else None,
            prototype_b=func_prototype(*funcs_b[name]) if name in funcs_b else None,
            only_clones_a=_only_clones(syms_a, name) if name in funcs_a else None,
            only_clones_b=_only_clones(syms_b, name) if name in funcs_b else None,
        )
        for name, verdict in shown
    )
    missing = [n for n, syms in zip(names, kallsyms, strict=True) if syms is None]
    note = (
        f"kallsyms of {' and '.join(repr(n) for n in missing)} not loaded: whether a function"
        " exists there only as compiler clones is unknown, so no 'clones' changes are listed."
        if missing
        else None
    )
    return KernelComparison(
        a=names[0],
        b=names[1],
        what="functions",
        counts=counts,
        items=items,
        total=window.total,
        offset=window.start,
        next_offset=window.next_offset,
        note=note,
    )


# -- tracepoints ------------------------------------------------------------------------------


def compare_tracepoints(
    a: TracefsIndex,
    b: TracefsIndex,
    pattern: str | None = None,
    *,
    names: tuple[str, str] = ("a", "b"),
    change: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> KernelComparison:
    """The tracepoints of `a` and `b` whose 'category:event' contains `pattern`, added,
    removed, or changed (record fields added, removed, moved or retyped), counts first,
    items sorted by name and paged. Raises InvalidArgument for an unknown `change`."""
    _check_change(change, ("added", "removed", "changed"))

    def changed(name: str) -> str | None:
        return "changed" if _field_key(a.by_name[name]) != _field_key(b.by_name[name]) else None

    test = _matcher(pattern)
    names_a = {name for name in a.by_name if test(name)}
    names_b = {name for name in b.by_name if test(name)}
    rows, counts = _differences(names_a, names_b, changed)
    if change is not None:
        rows = [r for r in rows if r[1] == change]
    shown, window = page(rows, offset, limit)
    items = tuple(
        TracepointChange(
            name=name,
            change=verdict,  # type: ignore[arg-type]
            fields=tuple(_field_changes(a.by_name[name], b.by_name[name]))
            if verdict == "changed"
            else None,
        )
        for name, verdict in shown
    )
    return KernelComparison(
        a=names[0],
        b=names[1],
        what="tracepoints",
        counts=counts,
        items=items,
        total=window.total,
        offset=window.start,
        next_offset=window.next_offset,
    )


def _field_key(record: TracepointRecord) -> tuple[tuple[str, str, int, int, bool], ...]:
    return tuple((f.name, f.c_type, f.offset, f.size, f.signed) for f in record.format.fields)


def _field_changes(left: TracepointRecord, right: TracepointRecord) -> Iterator[FieldChange]:
    changes = _entry_changes(
        {f.name: f for f in left.format.fields},
        {f.name: f for f in right.format.fields},
        lambda f: f.offset,
        lambda was, now: was.offset != now.offset,
        lambda was, now: (was.c_type, was.size, was.signed) != (now.c_type, now.size, now.signed),
    )
    for name, kind, was, now in changes:
        yield FieldChange(
            name=name,
            change=kind,
            type_a=was.c_type if was else None,
            type_b=now.c_type if now else None,
            offset_a=was.offset if was else None,
            offset_b=now.offset if now else None,
            size_a=was.size if was else None,
            size_b=now.size if now else None,
        )


# -- side by side -----------------------------------------------------------------------------


_FIND_ORDER = (Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.TYPEDEF, Kind.FUNC)


def _find(index: BtfIndex, name: str, kind: str | None) -> Located | None:
    """The type or function named `name` (of `kind`, else the first of struct, union,
    enum, typedef, func, then other kinds), searching vmlinux and then the modules."""

    def rank(obj: Btf, tid: int) -> tuple[int, int]:
        found = obj.kind(tid)
        return (_FIND_ORDER.index(found) if found in _FIND_ORDER else len(_FIND_ORDER), tid)

    for obj in index.objects:
        ids = [tid for tid in obj.find(name) if tid >= obj.first_id]
        if kind is not None:
            ids = [t for t in ids if kind in (obj.kind(t).label, _FAMILY.get(obj.kind(t)))]
        if ids:
            return obj, min(ids, key=lambda tid: rank(obj, tid))
    return None


def _rows_of(btf: Btf, tid: int) -> list[tuple[str, Cell]]:
    """The rows one kernel contributes: struct/union members (typedefs followed to them),
    enum values, or a function's return and parameter types."""
    kind = btf.kind(tid)
    if kind is Kind.TYPEDEF:
        target = btf.resolve(tid)
        if btf.kind(target) in _COMPOSITES | _ENUMS:
            return _rows_of(btf, target)
        return [("type", Cell(type_name(btf, btf.ref(tid)), None, None))]
    if kind in _COMPOSITES:
        return [
            (path, Cell(p.type, p.offset, p.bit_offset))
            for path, p in _placed_members(btf, tid).items()
        ]
    if kind in _ENUMS:
        return [(v.name, Cell(str(v.value), None, None)) for v in btf.enum_values(tid)]
    if kind is Kind.FUNC:
        proto = btf.ref(tid)
        rows = [("return", Cell(type_name(btf, btf.ref(proto)), None, None))]
        rows += (
            (f"#{i} {p.name}".rstrip(), Cell(type_name(btf, p.type_id), None, None))
            for i, p in enumerate(btf.params(proto))
        )
        if btf.is_variadic(proto):
            rows.append(("...", Cell("...", None, None)))
        return rows
    return [("type", Cell(type_name(btf, tid), None, None))]


def side_by_side(
    name: str,
    kernels: Sequence[tuple[str, BtfIndex]],
    *,
    kind: str | None = None,
    only_differences: bool = False,
    offset: int = 0,
    limit: int = 100,
) -> SideBySide:
    """Type or function `name` in each of `kernels`: one column per kernel (its kind,
    size and BTF object), one row per struct/union member (anonymous members expanded;
    typedefs followed), enum value, or function return and parameter, in the order the
    kernels give them. `only_differences` keeps the rows that are not the same in all.
    Rows are paged by `offset` and `limit`.

    Raises InvalidArgument for no kernels, NotFound when no kernel has `name`.
    """
    if not kernels:
        raise InvalidArgument("side_by_side needs at least one kernel.")
    found = [_find(index, name, kind) for _, index in kernels]
    if all(f is None for f in found):
        listed = ", ".join(k for k, _ in kernels)
        raise NotFound(
            f"No kernel of {listed} has a type or function named {name!r}"
            + (f" of kind {kind}" if kind else "")
            + "; search names with get_btf_types."
        )
    columns = []
    per_kernel: list[dict[str, Cell]] = []
    order: list[str] = []
    for (kernel, _), where in zip(kernels, found, strict=True):
        if where is None:
            columns.append(KernelColumn(kernel, None, None, None))
            per_kernel.append({})
            continue
        btf, tid = where
        columns.append(KernelColumn(kernel, btf.kind(tid).label, btf.size(tid), btf.object_of(tid)))
        rows = _rows_of(btf, tid)
        per_kernel.append(dict(rows))
        order = _merge_order(order, [row for row, _ in rows])
    all_rows = []
    for row in order:
        cells = tuple(cells.get(row) for cells in per_kernel)
        same = all(c is not None for c in cells) and len(set(cells)) == 1
        all_rows.append(SideBySideRow(row, cells, same))
    differing = sum(1 for r in all_rows if not r.same)
    if only_differences:
        all_rows = [r for r in all_rows if not r.same]
    shown, window = page(all_rows, offset, limit)
    absent = [c.kernel for c in columns if c.kind is None]
    return SideBySide(
        name=name,
        kernels=tuple(columns),
        differing=differing,
        items=tuple(shown),
        total=window.total,
        offset=window.start,
        next_offset=window.next_offset,
        note=f"Absent from: {', '.join(absent)}." if absent else None,
    )


def _merge_order(known: list[str], new: list[str]) -> list[str]:
    """`known` with the rows of `new` it lacks inserted after the row that precedes them
    in `new`, so each kernel's own order is kept."""
    merged = list(known)
    at = 0
    for row in new:
        if row in merged:
            at = merged.index(row) + 1
        else:
            merged.insert(at, row)
            at += 1
    return merged
