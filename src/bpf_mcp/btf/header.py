"""A minimal self-contained C header for chosen BTF types.

The header defines the chosen types and, before each, everything it needs complete:
members held by value, array elements, typedefs and enums. Types reached only through a
pointer or a prototype get a forward declaration instead of a definition. Types that
share a name (separate copies BTF could not merge) are renamed `name___2`, `name___3`...
so the header compiles as one translation unit.

Pure: no I/O. Raises BtfError for malformed input and HeaderTooLarge past the bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from .errors import BtfError
from .index import Btf
from .model import Kind
from .render import Definitions, tag_text

__all__ = ["Header", "HeaderTooLarge", "build_header", "c_header", "header_dependencies"]

MAX_DEPTH = 64
# Typedefs the compiler provides itself; defining them again is an error.
_BUILTIN_TYPEDEFS = frozenset({"__builtin_va_list"})
_COMPOSITES = frozenset({Kind.STRUCT, Kind.UNION})
_ENUMS = frozenset({Kind.ENUM, Kind.ENUM64})
_THROUGH = frozenset({Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.DECL_TAG, Kind.VAR})

COMPLETE = True
DECLARED = False


class HeaderTooLarge(Exception):
    """The header would be longer than the bound it was asked to respect."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the header would be longer than {limit:,} bytes")
        self.limit = limit


class _Needs:
    """What one definition needs before it: (type id, complete?) pairs and type tags."""

    def __init__(self, btf: Btf) -> None:
        self.btf = btf
        self.types: dict[int, bool] = {}
        self.tags: dict[str, int] = {}

    def need(self, tid: int, complete: bool) -> None:
        self.types[tid] = self.types.get(tid, False) or complete

    def walk(self, tid: int, complete: bool, depth: int = 0) -> None:
        btf = self.btf
        if depth > MAX_DEPTH:
            raise BtfError(
                f"{btf.object_name}: type id {tid}: types nest more than {MAX_DEPTH} deep "
                "(a reference loop?)"
            )
        kind = btf.kind(tid)
        if kind is Kind.PTR:
            self.walk(btf.ref(tid), DECLARED, depth + 1)
        elif kind is Kind.ARRAY:
            # An array of an incomplete type is an error even behind a pointer.
            self.walk(btf.array(tid).elem_type_id, COMPLETE, depth + 1)
        elif kind is Kind.FUNC_PROTO or kind is Kind.FUNC:
            proto = btf.ref(tid) if kind is Kind.FUNC else tid
            self.walk(btf.ref(proto), DECLARED, depth + 1)
            for param in btf.params(proto):
                self.walk(param.type_id, DECLARED, depth + 1)
        elif kind is Kind.TYPE_TAG:
            self.tags.setdefault(tag_text(btf, tid), tid)
            self.walk(btf.ref(tid), complete, depth + 1)
        elif kind in _THROUGH:
            self.walk(btf.ref(tid), complete, depth + 1)
        elif kind is Kind.TYPEDEF:
            if btf.name(tid) in _BUILTIN_TYPEDEFS:
                return
            self.need(tid, DECLARED)
            if complete:
                self.walk(btf.ref(tid), COMPLETE, depth + 1)
        elif kind in _COMPOSITES:
            if btf.name(tid):
                self.need(tid, complete)
            else:
                self.members(tid, depth + 1)
        elif kind in _ENUMS:
            if btf.name(tid):
                self.need(tid, COMPLETE)
        elif kind is Kind.FWD:
            self.need(tid, DECLARED)

    def members(self, tid: int, depth: int = 0) -> None:
        for member in self.btf.members(tid):
            self.walk(member.type_id, COMPLETE, depth)


def _own_needs(btf: Btf, tid: int) -> _Needs:
    """What the definition of `tid` (struct, union, enum, typedef, func, var) needs."""
    needs = _Needs(btf)
    kind = btf.kind(tid)
    if kind in _COMPOSITES:
        needs.members(tid)
    elif kind is Kind.TYPEDEF:
        needs.walk(btf.ref(tid), DECLARED)
    elif kind is Kind.VAR:
        needs.walk(btf.ref(tid), COMPLETE)
    elif kind is Kind.FUNC:
        needs.walk(tid, DECLARED)
    return needs


def _defined(btf: Btf, tid: int, complete: bool) -> bool:
    """True when a need of `tid` is met by a definition (not a forward declaration)."""
    kind = btf.kind(tid)
    return kind in _ENUMS or kind is Kind.TYPEDEF or (complete and kind in _COMPOSITES)


def header_dependencies(btf: Btf, roots: Iterable[int]) -> tuple[list[int], list[int], set[str]]:
    """The definitions a header for `roots` holds in dependency order, the types that
    need a forward declaration (in order of first use) and the type tag texts used.

    A typedef root also defines the type it names. Raises BtfError when types need each
    other by value (only malformed BTF does that).
    """
    needs_of: dict[int, _Needs] = {}
    order: list[int] = []
    state: dict[int, int] = {}  # 1: on the stack, 2: emitted
    root_list: list[int] = []
    for root in roots:
        if btf.kind(root) is Kind.TYPEDEF and btf.name(root) in _BUILTIN_TYPEDEFS:
            continue
        root_list.append(root)
        if btf.kind(root) is Kind.TYPEDEF:
            # Asking for a typedef means asking for what it names, too; those come after
            # it, since they may use the typedef through a pointer.
            walk = _Needs(btf)
            walk.walk(btf.ref(root), COMPLETE)
            root_list.extend(t for t, c in walk.types.items() if _defined(btf, t, c))
    root_list = list(dict.fromkeys(root_list))

    def deps(tid: int) -> list[int]:
        found = needs_of.get(tid)
        if found is None:
            found = _own_needs(btf, tid)
            needs_of[tid] = found
        return [t for t, complete in found.types.items() if _defined(btf, t, complete)]

    for root in root_list:
        if btf.kind(root) is Kind.FWD or state.get(root) == 2:
            continue
        stack: list[tuple[int, list[int]]] = [(root, deps(root))]
        state[root] = 1
        while stack:
            tid, pending = stack[-1]
            if pending:
                nxt = pending.pop(0)
                mark = state.get(nxt)
                if mark == 1:
                    raise BtfError(
                        f"{btf.object_name}: type id {nxt} ({btf.name(nxt)}) contains itself "
                        "by value"
                    )
                if mark is None:
                    state[nxt] = 1
                    stack.append((nxt, deps(nxt)))
                continue
            stack.pop()
            state[tid] = 2
            order.append(tid)

    forwards: dict[int, None] = {}
    done: set[int] = set()
    tags: set[str] = set()
    for tid in order:
        found = needs_of[tid]
        tags.update(found.tags)
        for dep, complete in found.types.items():
            if btf.kind(dep) in _COMPOSITES | {Kind.FWD} and not complete and dep not in done:
                forwards.setdefault(dep)
        done.add(tid)
    for root in root_list:
        if btf.kind(root) is Kind.FWD:
            forwards.setdefault(root)
    return order, list(forwards), tags


def _rename(btf: Btf, ids: Sequence[int]) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    """New names for types and enum values that clash with an earlier one in `ids`."""
    tags: dict[str, int] = {}  # struct/union/enum tags share one namespace
    ordinary: dict[str, int] = {}  # typedefs, functions, variables and enum values
    names: dict[int, str] = {}
    values: dict[tuple[int, int], str] = {}

    def unique(space: dict[str, int], name: str, owner: int) -> str:
        first = space.setdefault(name, owner)
        if first == owner:
            return name
        n = 2
        while f"{name}___{n}" in space:
            n += 1
        space[f"{name}___{n}"] = owner
        return f"{name}___{n}"

    for tid in ids:
        kind = btf.kind(tid)
        name = btf.name(tid)
        if kind in _ENUMS:
            for i, value in enumerate(btf.enum_values(tid)):
                new = unique(ordinary, value.name, -1 - tid * 65536 - i)
                if new != value.name:
                    values[tid, i] = new
        if not name:
            continue
        if kind is Kind.FWD:
            # A forward declaration names the same type as a definition of that name.
            continue
        space = tags if kind in _COMPOSITES | _ENUMS else ordinary
        new = unique(space, name, tid)
        if new != name:
            names[tid] = new
    return names, values


def _anonymous_enums(btf: Btf, ids: Iterable[int]) -> list[int]:
    """Anonymous enums written inline in the definitions of `ids`, for value renaming."""
    found: dict[int, None] = {}

    def visit(tid: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        kind = btf.kind(tid)
        if kind in _ENUMS and not btf.name(tid):
            found.setdefault(tid)
        elif kind in _COMPOSITES and (depth == 0 or not btf.name(tid)):
            for member in btf.members(tid):
                visit(member.type_id, depth + 1)
        elif kind in (Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.PTR, Kind.TYPE_TAG):
            if depth == 0 or kind is not Kind.TYPEDEF:
                visit(btf.ref(tid), depth + 1)
        elif kind is Kind.ARRAY:
            visit(btf.array(tid).elem_type_id, depth + 1)

    for tid in ids:
        visit(tid, 0)
    return list(found)


@attrs.frozen
class Header:
    """A generated header: its text, the ids it defines in order, those it only declares,
    and `parts`: the preamble (guard, tag macros, forward declarations), one part per
    definition (in the order of `defined`), then the closing guard; joined, they are
    `text`."""

    text: str
    defined: tuple[int, ...]
    declared: tuple[int, ...]
    parts: tuple[str, ...]


def c_header(btf: Btf, roots: Sequence[int], *, max_bytes: int | None = None) -> str:
    """A C header defining `roots` (type ids) and everything they need, in dependency
    order, with forward declarations where they suffice.

    It compiles on its own with gcc and clang (also `clang -target bpf`): type tags are
    macros that expand to `btf_type_tag` attributes where the compiler has them. Raises
    BtfError for malformed BTF, HeaderTooLarge when the text would pass `max_bytes`.
    """
    return build_header(btf, roots, max_bytes=max_bytes).text


def build_header(btf: Btf, roots: Sequence[int], *, max_bytes: int | None = None) -> Header:
    """`c_header`, with the ids defined and declared."""
    order, forwards, tags = header_dependencies(btf, roots)
    names, values = _rename(btf, forwards + _anonymous_enums(btf, order) + order)
    writer = Definitions(btf, names=names, enumerators=values)
    listed = ", ".join(_label(btf, t) for t in roots)
    parts = [
        f"/* Generated by bpf-mcp from the BTF of {btf.object_name}: {listed},",
        " * and the types they need. */",
        "#ifndef __BPF_MCP_TYPES_H__",
        "#define __BPF_MCP_TYPES_H__",
        "",
    ]
    size = sum(len(p) + 1 for p in parts)
    for text in sorted(tags):
        if text.startswith("__attribute__"):
            continue
        block = _tag_macro(text)
        parts.append(block)
        size += len(block) + 1
    if forwards:
        for tid in forwards:
            line = _forward(btf, tid, names.get(tid))
            parts.append(line)
            size += len(line) + 1
        parts.append("")
    for tid in order:
        text = writer.definition(tid) + ";\n"
        if btf.kind(tid) is Kind.VAR and not text.startswith("extern "):
            text = "extern " + text
        size += len(text) + 1
        if max_bytes is not None and size > max_bytes:
            raise HeaderTooLarge(max_bytes)
        parts.append(text)
    parts.append("#endif /* __BPF_MCP_TYPES_H__ */\n")
    text = "\n".join(parts)
    if max_bytes is not None and len(text) > max_bytes:
        raise HeaderTooLarge(max_bytes)
    count = len(order)
    preamble = "\n".join(parts[: len(parts) - count - 1]) + "\n"
    pieces = (preamble, *(p + "\n" for p in parts[-count - 1 : -1]), parts[-1])
    return Header(text, tuple(order), tuple(forwards), pieces)


def _forward(btf: Btf, tid: int, name: str | None) -> str:
    kind = btf.kind(tid)
    union = kind is Kind.UNION or (kind is Kind.FWD and btf.kind_flag(tid))
    return f"{'union' if union else 'struct'} {name or btf.name(tid)};"


def _label(btf: Btf, tid: int) -> str:
    kind = btf.kind(tid)
    name = btf.name(tid)
    if kind in _COMPOSITES | _ENUMS:
        return f"{'enum' if kind in _ENUMS else kind.label} {name}"
    return name


def _tag_macro(text: str) -> str:
    tag = text.removeprefix("__")
    return (
        f"#ifndef {text}\n"
        f"#if __has_attribute(btf_type_tag)\n"
        f'#define {text} __attribute__((btf_type_tag("{tag}")))\n'
        f"#else\n"
        f"#define {text}\n"
        f"#endif\n"
        f"#endif\n"
    )
