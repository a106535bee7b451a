"""Tracepoint answers: get_tracepoint and list_raw_tracepoints (pure).

The context struct of a SEC("tp/...") program is generated from the format file's offsets
and sizes; BTF (where loaded) supplies the sizes and alignments of the declared C types,
so every member lands exactly where the format file says.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from ..btf import Btf, BtfError, Kind
from ..btf.layout import POINTER_SIZE, Layouts
from ..btf.render import declaration, type_name
from ..errors import InvalidArgument, NotFound
from ..index import View
from ..index.indexes import BtfIndex, TracefsIndex
from ..queries import GetTracepoint, ListRawTracepoints
from ..results import (
    RawTracepoint,
    RawTracepointArg,
    RawTracepointPage,
    TracepointDetail,
    TracepointFieldDetail,
)
from ..sources import Source
from ..tracefs import Field, TracepointRecord
from .origins import origin
from .paging import page, substring_matcher
from .suggest import close_names, did_you_mean

RAW_PREFIX = "btf_trace_"
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}:[A-Za-z0-9_.-]{1,128}\Z", re.ASCII)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_DIMS = re.compile(r"\[([^\[\]]*)\]")
_QUALIFIERS = frozenset({"const", "volatile", "restrict"})
# Annotations the kernel's headers define away or that only its compiler flags know;
# vmlinux.h does not define them, so a declaration for BPF drops them.
_ANNOTATIONS = frozenset(
    {"__user", "__rcu", "__percpu", "__iomem", "__force", "__seg_gs", "__seg_fs"}
)
_TAGS = frozenset({"struct", "union", "enum"})
_BUILTIN_WORDS = frozenset({"signed", "unsigned", "char", "short", "int", "long", "_Bool", "bool"})
_NOT_TYPEDEFS = _QUALIFIERS | _ANNOTATIONS | _TAGS | _BUILTIN_WORDS | {"__data_loc", "__rel_loc"}

DATA_LOC_NOTE = (
    "__data_loc: this u32 holds (length << 16) | offset, where offset counts from the start"
    " of the record to the variable-length data and length is its size in bytes; read the"
    " data at ctx + (value & 0xffff)"
)
REL_LOC_NOTE = (
    "__rel_loc: this u32 holds (length << 16) | offset, where offset counts from the end of"
    " this field to the variable-length data"
)
SLOT_NOTE = (
    "syscall argument: stored in an 8-byte slot whatever its C type; read it as a long and"
    " narrow it"
)


def _sanitize(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


class _Types:
    """Sizes and alignments of the C types a format file declares, through BTF."""

    def __init__(self, btf: Btf | None) -> None:
        self.btf = btf
        self.layouts = Layouts(btf) if btf is not None else None

    def lookup(self, words: list[str]) -> int | None:
        """The BTF id the base type words name (struct/union/enum tag or typedef)."""
        btf = self.btf
        if btf is None or not words:
            return None
        if words[0] in _TAGS and len(words) == 2:
            wanted = {
                "struct": (Kind.STRUCT,),
                "union": (Kind.UNION,),
                "enum": (Kind.ENUM, Kind.ENUM64),
            }[words[0]]
            return next((i for i in btf.find(words[1]) if btf.kind(i) in wanted), None)
        if len(words) == 1:
            return next((i for i in btf.find(words[0]) if btf.kind(i) is Kind.TYPEDEF), None)
        return None

    def builtin(self, words: list[str]) -> int | None:
        """The size of a C base type spelled with keywords (`unsigned long`, `bool`)."""
        if not words or not set(words) <= _BUILTIN_WORDS:
            return None
        if "char" in words or "bool" in words or "_Bool" in words:
            return 1
        if "short" in words:
            return 2
        if "long" in words:
            return 8  # LP64, like every 64-bit kernel BPF runs on
        return 4

    def size_and_align(self, c_type: str) -> tuple[int, int] | None:
        """(size, alignment) of `c_type` (array dimensions included), or None if unknown."""
        base, _, dims_text = c_type.partition("[")
        dims_text = "[" + dims_text if dims_text else ""
        count = 1
        for dim in _DIMS.findall(dims_text):
            if not dim.strip().isdigit():
                return None
            count *= int(dim)
        if "*" in base:
            return count * POINTER_SIZE, POINTER_SIZE
        words = [w for w in _WORD.findall(base) if w not in _QUALIFIERS and w not in _ANNOTATIONS]
        size = self.builtin(words)
        if size is not None:
            return count * size, size
        tid = self.lookup(words)
        if tid is None or self.layouts is None:
            return None
        try:
            size, align = self.layouts.sizeof(tid), self.layouts.alignof(tid)
        except BtfError:
            return None
        if self.btf is not None and self.btf.kind(self.btf.resolve(tid)) is Kind.ENUM and size != 4:
            # A packed enum: vmlinux.h declares it without the attribute, as an int.
            return None
        return count * size, align

    def resolved(self, c_type: str) -> str | None:
        """`c_type` with each typedef it names replaced by what BTF says it stands for."""
        btf = self.btf
        if btf is None:
            return None
        changed = False
        out = c_type
        for word in dict.fromkeys(_WORD.findall(c_type)):
            if word in _NOT_TYPEDEFS:
                continue
            tid = self.lookup([word])
            if tid is None:
                continue
            try:
                target = type_name(btf, btf.resolve(tid))
            except BtfError:
                continue
            out = re.sub(rf"\b{re.escape(word)}\b", target, out)
            changed = True
        return out if changed else None


def _field_detail(types: _Types, f: Field, syscall: bool) -> TracepointFieldDetail:
    note = None
    if f.data_loc:
        note = REL_LOC_NOTE if f.c_type.startswith("__rel_loc") else DATA_LOC_NOTE
    elif syscall and not f.common and f.name != "__syscall_nr":
        known = types.size_and_align(f.c_type)
        if known is None or known[0] < f.size:
            note = SLOT_NOTE
    return TracepointFieldDetail(
        name=f.name,
        type=f.c_type,
        offset=f.offset,
        size=f.size,
        signed=f.signed,
        resolved_type=types.resolved(f.c_type),
        note=note,
    )


def _declaration(f: Field, types: _Types) -> str | None:
    """`f`'s declaration as a BPF program can compile it against vmlinux.h: annotations
    dropped; None when it names a type BTF does not know."""
    text = f.declaration
    for word in _ANNOTATIONS:
        text = re.sub(rf"\b{word}\b\s*", "", text)
    base = text.rsplit(f.name, 1)[0]
    for word in _WORD.findall(base):
        if word in _NOT_TYPEDEFS or word == "void":
            continue
        if types.btf is not None and not types.btf.find(word):
            return None
    return " ".join(text.split())


def _fallback(f: Field) -> tuple[str, int]:
    """A declaration of exactly `f.size` bytes with alignment 1 or its own size."""
    if f.size in (1, 2, 4, 8) and f.array_len is None:
        return f"__{'s' if f.signed else 'u'}{f.size * 8} {f.name}", f.size
    return f"__u8 {f.name}[{f.size}]", f.size


def context_struct(record: TracepointRecord, types: _Types) -> str:
    """C for the record as a SEC("tp/...") program's context, members at the format
    file's offsets (explicit padding where the declared types leave gaps)."""
    struct = f"tp__{_sanitize(record.category)}__{_sanitize(record.event)}"
    lines = [
        f'/* SEC("tp/{record.category}/{record.event}"): the raw record, at the format file\'s'
        " offsets; types as vmlinux.h declares them */",
        f"struct {struct} {{",
    ]
    cursor = 0
    for f in record.format.fields:
        if f.offset < cursor:
            lines.append(f"\t/* {f.declaration}: overlaps the member before (offset {f.offset}) */")
            continue
        if f.offset > cursor:
            lines.append(f"\tchar __pad_{cursor}[{f.offset - cursor}];")
        comment = f"offset {f.offset}, size {f.size}"
        if f.data_loc:
            text, size = f"__u32 {f.name}", 4
            comment += f"; {f.c_type}: (length << 16) | offset"
        else:
            known = types.size_and_align(f.c_type)
            declared = _declaration(f, types)
            if (
                declared is not None
                and known is not None
                and known[0] <= f.size
                and f.offset % max(known[1], 1) == 0
                and (f.array_len is None or known[0] == f.size)
            ):
                text, size = declared, known[0]
                if size < f.size:
                    comment += f"; {f.size - size} bytes of slot after it"
            else:
                text, size = _fallback(f)
                comment += f"; declared {f.c_type}"
        lines.append(f"\t{text}; /* {comment} */")
        cursor = f.offset + size
    lines.append("};")
    return "\n".join(lines)


def raw_tracepoint(btf: Btf, typedef_id: int, event: str | None) -> RawTracepoint | None:
    """The typed arguments of a `btf_trace_<name>` typedef (typedef -> ptr -> func_proto,
    whose first parameter, the tracepoint's data pointer, programs do not see)."""
    name = btf.name(typedef_id).removeprefix(RAW_PREFIX)
    try:
        pointer = btf.ref(typedef_id)
        proto = btf.ref(pointer) if btf.kind(pointer) is Kind.PTR else 0
        if btf.kind(proto) is not Kind.FUNC_PROTO:
            return None
        params = btf.params(proto)[1:]
        args = tuple(
            RawTracepointArg(position, type_name(btf, p.type_id))
            for position, p in enumerate(params)
        )
        decls = [declaration(btf, p.type_id, f"arg{i}") for i, p in enumerate(params)]
    except BtfError:
        return None
    head = ", ".join([f"handle_{name}", *decls])
    return RawTracepoint(
        name=name,
        typedef=btf.name(typedef_id),
        btf_id=typedef_id,
        args=args,
        event=event,
        program=f'SEC("tp_btf/{name}")\nint BPF_PROG({head})',
    )


def _raw_typedef(btf: Btf, name: str) -> int | None:
    return next((i for i in btf.find(RAW_PREFIX + name) if btf.kind(i) is Kind.TYPEDEF), None)


def get_tracepoint(query: GetTracepoint, view: View) -> TracepointDetail:
    """Everything about one tracepoint. Raises InvalidArgument for a name that is not
    'category:event', NotFound (with near names) for one tracefs does not list."""
    name = query.name.strip()
    if not _NAME.match(name):
        raise InvalidArgument(
            f"Invalid tracepoint name {name[:80]!r}: expected 'category:event', e.g."
            " 'sched:sched_switch' (letters, digits, '_', '.', '-' on each side of one ':')."
        )
    index: TracefsIndex = view.tracefs
    record = index.by_name.get(name)
    if record is None and name in index.broken:
        raise NotFound(
            f"Tracepoint {name!r} is listed in tracefs available_events, but its format file"
            f" {index.mount}/events/{name.replace(':', '/')}/format cannot be used:"
            f" {index.broken[name]}. get_server_status counts such events."
        )
    if record is None:
        near = close_names(name, index.near, (n for n in index.by_name if name in n))
        raise NotFound(f"No tracepoint {name!r} in tracefs available_events." + did_you_mean(near))
    btf_index: BtfIndex | None = view.indexes.btf
    btf = btf_index.btf if btf_index is not None else None
    types = _Types(btf)
    syscall = record.category == "syscalls"
    fields = [_field_detail(types, f, syscall) for f in record.format.fields]
    notes = []
    sources = [f"tracefs {index.mount}/events/{record.category}/{record.event}/format"]
    raw = None
    if btf is None:
        notes.append(
            "The kernel's BTF is not loaded: typedefs are not resolved, the context struct"
            " falls back to fixed-size integers where a type's size is unknown, and the raw"
            " tracepoint's typed arguments are unknown."
        )
    else:
        sources.append(f"BTF {origin(view, Source.BTF)}")
        typedef = _raw_typedef(btf, record.event)
        if typedef is not None:
            raw = raw_tracepoint(btf, typedef, name)
        elif syscall and _raw_typedef(btf, "sys_enter") is not None:
            notes.append(
                "Syscall events have no raw tracepoint of their own: tp_btf and raw_tp programs"
                " attach to sys_enter / sys_exit (raw_syscalls:sys_enter, raw_syscalls:sys_exit)"
                " and see every system call."
            )
        else:
            notes.append(f"BTF has no {RAW_PREFIX}{record.event} typedef: no tp_btf program here.")
    if syscall:
        notes.append(
            "Syscall tracepoint arguments are 8-byte slots whatever their C type (an int"
            " argument has size 8)."
        )
    if any(f.data_loc for f in record.format.fields):
        notes.append(
            "__data_loc fields hold (length << 16) | offset of variable-length data in the"
            " record, not the data itself."
        )
    return TracepointDetail(
        name=name,
        category=record.category,
        event=record.event,
        id=record.format.id,
        common_fields=tuple(
            d for f, d in zip(record.format.fields, fields, strict=True) if f.common
        ),
        fields=tuple(d for f, d in zip(record.format.fields, fields, strict=True) if not f.common),
        print_fmt=record.format.print_fmt,
        section=f'SEC("tp/{record.category}/{record.event}")',
        context_struct=context_struct(record, types),
        raw_tracepoint=raw,
        notes=tuple(notes),
        source="; ".join(sources),
    )


def list_raw_tracepoints(query: ListRawTracepoints, view: View) -> RawTracepointPage:
    """The typed raw tracepoints, each with its arguments and its tracefs event if any."""
    btf: Btf = view.btf.btf
    tracefs: TracefsIndex | None = view.indexes.tracefs
    ids: Sequence[int] = view.btf.raw_typedefs
    events: dict[str, str] = {}
    note = None
    if tracefs is not None:
        for record in tracefs.records:
            events.setdefault(record.event, record.name)
    else:
        note = "tracefs is not loaded, so which raw tracepoints have a tracefs event is unknown."
    without = sum(1 for i in ids if btf.name(i).removeprefix(RAW_PREFIX) not in events)
    match = substring_matcher(query.pattern)
    if match is not None:
        ids = [i for i in ids if match(btf.name(i).removeprefix(RAW_PREFIX))]
    shown, w = page(ids, query.offset, query.limit)
    items = []
    for tid in shown:
        raw = raw_tracepoint(btf, tid, events.get(btf.name(tid).removeprefix(RAW_PREFIX)))
        if raw is not None:
            items.append(raw if query.include_args else attrs.evolve(raw, args=None))
    sources = f"BTF {origin(view, Source.BTF)} ({RAW_PREFIX}* typedefs)"
    if tracefs is not None:
        sources += f"; tracefs {tracefs.mount}/available_events"
    return RawTracepointPage(
        items=tuple(items),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        without_event=without if tracefs is not None else None,
        source=sources,
        note=note,
    )
