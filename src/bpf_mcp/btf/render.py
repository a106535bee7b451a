"""C text for BTF types: type names, declarations, prototypes and definitions.

C declarators read inside out, so a type is rendered by walking its BTF chain from the
outside in while growing the declarator around the name: a PTR prefixes `*`, an ARRAY
appends `[n]`, a FUNC_PROTO appends its parameter list, and the innermost named type
(int, struct, typedef...) is written in front. Qualifiers sit before the base type
(`const char *`) unless they qualify a pointer (`char *const`). Type tags are kept as the
kernel writes them (`char __user *`), so the text says what the kernel's source says.

Pure: no I/O. Every function raises BtfError for malformed input, including reference
loops, never anything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from .errors import BtfError
from .index import Btf
from .layout import CompositeLayout, layouts_of
from .model import Kind

__all__ = [
    "Definitions",
    "c_definition",
    "declaration",
    "func_prototype",
    "tag_text",
    "type_name",
]

MAX_DEPTH = 64

_QUALIFIERS = {Kind.CONST: "const", Kind.VOLATILE: "volatile", Kind.RESTRICT: "restrict"}
_TAGGED = frozenset({Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64})
_SKIP_TO_POINTER = frozenset({Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Words that `__<tag>` would turn into compiler keywords.
_RESERVED_TAGS = frozenset(
    {"attribute", "const", "inline", "signed", "volatile", "restrict", "asm", "typeof"}
)

Leaf = Callable[[int, Kind], str]


def tag_text(btf: Btf, tag_id: int) -> str:
    """How a TYPE_TAG reads in C: `__user` for the tag "user", `__attribute__((...))` for
    an attribute tag (kind_flag set) or a name that cannot be a macro."""
    name = btf.name(tag_id)
    if btf.kind_flag(tag_id):
        return f"__attribute__(({name}))"
    if _IDENTIFIER.match(name) and name not in _RESERVED_TAGS:
        return f"__{name}"
    return f'__attribute__((btf_type_tag("{_c_string(name)}")))'


def _c_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _join(left: str, right: str) -> str:
    if not right:
        return left
    if right[0] == "[":
        return left + right
    return f"{left} {right}"


def _name_leaf(btf: Btf, tid: int, kind: Kind, name: str | None = None) -> str:
    """The text of a type that is written by name (or `struct {...}` when anonymous);
    `name` replaces the type's own name."""
    if kind is Kind.UNKN:
        return "void"
    if name is None:
        name = btf.name(tid)
    if kind in (Kind.STRUCT, Kind.UNION):
        keyword = "struct" if kind is Kind.STRUCT else "union"
        return f"{keyword} {name}" if name else f"{keyword} {{...}}"
    if kind in (Kind.ENUM, Kind.ENUM64):
        return f"enum {name}" if name else "enum {...}"
    if kind is Kind.FWD:
        return f"{'union' if btf.kind_flag(tid) else 'struct'} {name}"
    return name or f"<anonymous {kind.label}>"


class _Renderer:
    """One rendering: the Btf, the layout cache and how leaf types are written."""

    def __init__(self, btf: Btf, leaf: Leaf | None = None) -> None:
        self.btf = btf
        self.leaf: Leaf = leaf or (lambda tid, kind: _name_leaf(btf, tid, kind))

    def decl(self, tid: int, inner: str, prefixed: bool = False, depth: int = 0) -> str:
        """C declaration of `inner` (a declarator, maybe empty) with type `tid`."""
        btf = self.btf
        if depth > MAX_DEPTH:
            raise BtfError(
                f"{btf.object_name}: type id {tid}: type references nest more than "
                f"{MAX_DEPTH} deep (a reference loop?)"
            )
        kind = btf.kind(tid)
        if kind is Kind.PTR:
            return self.decl(btf.ref(tid), "*" + inner, True, depth + 1)
        if kind in _QUALIFIERS:
            word = _QUALIFIERS[kind]
            ref = btf.ref(tid)
            if self._pointer_below(ref, depth):
                return self.decl(ref, _join(word, inner), prefixed, depth + 1)
            text = self.decl(ref, inner, prefixed, depth + 1)
            # A qualified array's element is often qualified too: say it once.
            return text if text.startswith(word + " ") else f"{word} {text}"
        if kind is Kind.TYPE_TAG:
            return self.decl(btf.ref(tid), _join(tag_text(btf, tid), inner), prefixed, depth + 1)
        if kind is Kind.ARRAY:
            info = btf.array(tid)
            inner = f"({inner})" if prefixed else inner
            return self.decl(info.elem_type_id, f"{inner}[{info.nelems}]", False, depth + 1)
        if kind is Kind.FUNC_PROTO:
            inner = f"({inner})" if prefixed else inner
            params = self.params(tid, depth + 1)
            return self.decl(btf.ref(tid), f"{inner}({params})", False, depth + 1)
        if kind in (Kind.FUNC, Kind.VAR, Kind.DECL_TAG):
            return self.decl(btf.ref(tid), inner, prefixed, depth + 1)
        return _join(self.leaf(tid, kind), inner)

    def _pointer_below(self, tid: int, depth: int) -> bool:
        btf = self.btf
        for _ in range(MAX_DEPTH - depth):
            kind = btf.kind(tid)
            if kind is Kind.PTR:
                return True
            if kind not in _SKIP_TO_POINTER:
                return False
            tid = btf.ref(tid)
        raise BtfError(
            f"{btf.object_name}: type id {tid}: the modifier chain nests more than "
            f"{MAX_DEPTH} deep (a reference loop?)"
        )

    def params(self, proto_id: int, depth: int) -> str:
        btf = self.btf
        parts = [self.decl(p.type_id, p.name, False, depth) for p in btf.params(proto_id)]
        if btf.is_variadic(proto_id):
            parts.append("...")
        return ", ".join(parts) if parts else "void"


def type_name(btf: Btf, tid: int) -> str:
    """The C text of a reference to type `tid`, as in a cast: `struct list_head`,
    `const char *`, `u8[16]`, `int (*)(struct sock *, int)`, `char __user *`; "void" for 0.

    Anonymous structs, unions and enums read `struct {...}`. Remembered per Btf.
    """
    cache: dict[int, str] = btf.derived("type_name", dict)
    text = cache.get(tid)
    if text is None:
        text = cache[tid] = _Renderer(btf).decl(tid, "")
    return text


def declaration(btf: Btf, tid: int, name: str) -> str:
    """The C declaration of `name` with type `tid`, without the semicolon:
    `char comm[16]`, `void (*fn)(int)`, `struct list_head tasks`."""
    return _Renderer(btf).decl(tid, name)


def func_prototype(btf: Btf, func_id: int) -> str:
    """The C prototype of FUNC `func_id` with parameter names, without the semicolon:
    `ssize_t vfs_read(struct file *file, char __user *buf, size_t count, loff_t *pos)`.

    Raises BtfError when `func_id` is not a FUNC.
    """
    if btf.kind(func_id) is not Kind.FUNC:
        raise BtfError(
            f"{btf.object_name}: type id {func_id} is of kind {btf.kind(func_id).label}, not func"
        )
    return _Renderer(btf).decl(btf.ref(func_id), btf.name(func_id))


# pahole marks every vmlinux FUNC static whatever the source says, so only extern shows.
_LINKAGE_PREFIX = {2: "extern "}
_INT_OF_SIZE = {1: "char", 2: "short", 4: "int", 8: "long long"}


def c_definition(btf: Btf, tid: int) -> str:
    """The C definition of `tid`, ending with `;`.

    A struct or union is written with every member, anonymous members inline, and the
    `packed` / `aligned(N)` attributes or padding its recorded offsets require; an enum
    with every value; a typedef as `typedef ... name;` (an anonymous struct it names
    inline); a func as its prototype and a var as its declaration (`extern` when their
    linkage says so); a forward declaration as `struct name;`. Other kinds read as their
    type name followed by `;`. Remembered per Btf.
    """
    cache: dict[int, str] = btf.derived("c_definition", dict)
    text = cache.get(tid)
    if text is None:
        text = cache[tid] = Definitions(btf).definition(tid) + ";"
    return text


class Definitions:
    """Writes definitions with anonymous types inline; shared by c_definition and headers.

    `names` renames types (id -> identifier), `enumerators` renames enum values ((enum
    id, value index) -> identifier): a header uses them when two types in it share a name.
    An anonymous enum is written inline once; later uses read as an integer of its size,
    since writing it again would redefine its values.
    """

    def __init__(
        self,
        btf: Btf,
        *,
        names: Mapping[int, str] | None = None,
        enumerators: Mapping[tuple[int, int], str] | None = None,
    ) -> None:
        self.btf = btf
        self.layouts = layouts_of(btf)
        self.names: Mapping[int, str] = names or {}
        self.enumerators: Mapping[tuple[int, int], str] = enumerators or {}
        self._inlined_enums: set[int] = set()

    def _leaf(self, indent: int) -> Leaf:
        btf = self.btf

        def leaf(tid: int, kind: Kind) -> str:
            if kind in _TAGGED and not btf.name(tid):
                if kind in (Kind.STRUCT, Kind.UNION):
                    return self.composite(tid, indent)
                if tid not in self._inlined_enums:
                    return self.enum(tid, indent)
                signed = "" if btf.kind_flag(tid) else "unsigned "
                return signed + _INT_OF_SIZE.get(btf.size(tid) or 4, "int")
            return _name_leaf(btf, tid, kind, self.names.get(tid))

        return leaf

    def decl(self, tid: int, name: str, indent: int) -> str:
        """The declaration of `name` with type `tid`, anonymous types inline at `indent`."""
        return _Renderer(self.btf, self._leaf(indent)).decl(tid, name)

    def definition(self, tid: int) -> str:
        """The definition of `tid` at indentation 0, without the final `;`."""
        btf = self.btf
        kind = btf.kind(tid)
        name = self.names.get(tid) or btf.name(tid)
        if kind in (Kind.STRUCT, Kind.UNION):
            return self.composite(tid, 0)
        if kind in (Kind.ENUM, Kind.ENUM64):
            return self.enum(tid, 0)
        if kind is Kind.TYPEDEF:
            return "typedef " + self.decl(btf.ref(tid), name, 0)
        if kind in (Kind.FUNC, Kind.VAR):
            prefix = _LINKAGE_PREFIX.get(btf.linkage(tid), "")
            return prefix + self.decl(btf.ref(tid), name, 0)
        if kind is Kind.FWD:
            return _name_leaf(btf, tid, kind, name)
        return self.decl(tid, "", 0)

    def composite(self, tid: int, indent: int) -> str:
        """A struct or union with its members, the closing brace at `indent`."""
        btf = self.btf
        kind = btf.kind(tid)
        head = _name_leaf(btf, tid, kind, self.names.get(tid)).removesuffix(" {...}")
        layout = self.layouts.composite(tid)
        tabs = "\t" * (indent + 1)
        lines = [head + " {"]
        cur = 0
        for place in layout.members:
            m = place.member
            if kind is Kind.UNION:
                cur = 0
            if place.pad_bits:
                lines.extend(tabs + pad for pad in _padding(cur, place.pad_bits))
            text = self.decl(m.type_id, m.name, indent + 1)
            if m.bitfield_size:
                text += f": {m.bitfield_size}"
                cur = m.bit_offset + m.bitfield_size
            else:
                cur = m.bit_offset + place.size * 8
            if place.forced_align:
                text += f" __attribute__((aligned({place.forced_align})))"
            lines.append(f"{tabs}{text};")
        if layout.tail_pad_bits:
            lines.extend(tabs + pad for pad in _padding(cur, layout.tail_pad_bits))
        lines.append("\t" * indent + "}" + _attributes(layout))
        return "\n".join(lines)

    def enum(self, tid: int, indent: int) -> str:
        """An enum with its values, the closing brace at `indent`."""
        btf = self.btf
        self._inlined_enums.add(tid)
        head = _name_leaf(btf, tid, btf.kind(tid), self.names.get(tid)).removesuffix(" {...}")
        tabs = "\t" * (indent + 1)
        lines = [head + " {"]
        renamed = self.enumerators
        for i, v in enumerate(btf.enum_values(tid)):
            name = renamed.get((tid, i), v.name)
            lines.append(f"{tabs}{name} = {_enum_literal(v.value)},")
        closing = "\t" * indent + "}"
        if (btf.size(tid) or 4) < 4:
            closing += " __attribute__((packed))"
        lines.append(closing)
        return "\n".join(lines)


def _attributes(layout: CompositeLayout) -> str:
    parts = []
    if layout.packed:
        parts.append("packed")
    if layout.forced_align:
        parts.append(f"aligned({layout.forced_align})")
    return f" __attribute__(({', '.join(parts)}))" if parts else ""


def _padding(cur_bits: int, bits: int) -> list[str]:
    """Unnamed bitfields that fill `bits` from `cur_bits` without moving anything else:
    unnamed bitfields add no alignment, and each stays inside its own unit."""
    lines = []
    head = min(-cur_bits % 8, bits)
    if head:
        lines.append(f"unsigned char: {head};")
        cur_bits += head
        bits -= head
    widths = ((64, "unsigned long"), (32, "unsigned int"), (16, "unsigned short"))
    while bits >= 8:
        width, ctype = next(
            ((w, t) for w, t in widths if bits >= w and cur_bits % w == 0), (8, "unsigned char")
        )
        lines.append(f"{ctype}: {width};")
        cur_bits += width
        bits -= width
    if bits:
        lines.append(f"unsigned char: {bits};")
    return lines


def _enum_literal(value: int) -> str:
    if value == -(1 << 63):
        return "(-9223372036854775807LL - 1)"
    if -(1 << 31) <= value <= 0x7FFF_FFFF:
        return str(value)
    if 0 < value <= 0xFFFF_FFFF:
        return f"{value}U"
    if -(1 << 63) < value <= 0x7FFF_FFFF_FFFF_FFFF:
        return f"{value}LL"
    return f"{value}ULL"
