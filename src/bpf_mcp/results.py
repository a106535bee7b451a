"""Typed answers of each tool: frozen values that the converter turns into JSON.

The output schema of each tool is derived from these classes (see `schema.py`), so what a
tool declares and what it returns cannot drift apart.
"""

from __future__ import annotations

from typing import Literal

import attrs


def _doc(text: str) -> dict[str, str]:
    return {"description": text}


TOTAL = _doc("How many items matched, before paging.")
OFFSET = _doc("Index of the first item of this page among the matches.")
NEXT_OFFSET = _doc("Offset of the next page; null when this page is the last.")


@attrs.frozen
class TracepointField:
    name: str
    type: str = attrs.field(metadata=_doc("C type as the format file declares it."))
    offset: int = attrs.field(metadata=_doc("Byte offset in the raw record."))
    size: int = attrs.field(metadata=_doc("Size in bytes."))
    signed: bool
    common: bool = attrs.field(metadata=_doc("One of the common_* header fields."))


@attrs.frozen
class Tracepoint:
    name: str = attrs.field(metadata=_doc("'category:event', as used in SEC(\"tp/...\")."))
    category: str
    event: str
    id: int = attrs.field(metadata=_doc("The event id (perf_event_attr.config)."))
    fields: tuple[TracepointField, ...]
    format: str | None = attrs.field(
        default=None, metadata=_doc("Raw format file text (only with include_format).")
    )


@attrs.frozen
class TracepointPage:
    items: tuple[Tracepoint, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    tracefs: str = attrs.field(metadata=_doc("Where tracefs was read."))


@attrs.frozen
class KernelFunction:
    name: str
    address: str | None = attrs.field(
        metadata=_doc("Hex address; null when the kernel hides addresses from this reader.")
    )
    module: str | None = attrs.field(metadata=_doc("Module name; null for the kernel image."))
    symbol_type: str = attrs.field(
        metadata=_doc("kallsyms type letter: T/t text (global/local), W/w weak.")
    )


@attrs.frozen
class KernelFunctionPage:
    items: tuple[KernelFunction, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    addresses_hidden: bool = attrs.field(
        metadata=_doc("True when every address read as zero (kptr_restrict, or not root).")
    )
    note: str | None = attrs.field(
        default=None, metadata=_doc("Why addresses are null, when they are.")
    )


@attrs.frozen
class BtfTypeSummary:
    id: int = attrs.field(metadata=_doc("BTF type id."))
    name: str
    kind: str
    size: int | None = attrs.field(
        metadata=_doc("Size in bytes for int/struct/union/enum/enum64/float/datasec, else null.")
    )
    vlen: int = attrs.field(metadata=_doc("Count of members, enum values, parameters or entries."))
    members: tuple[str, ...] | None = attrs.field(
        metadata=_doc("Member names (struct/union only; '' for an anonymous member).")
    )
    object: str = attrs.field(metadata=_doc("BTF object the type lives in ('vmlinux')."))


@attrs.frozen
class BtfTypePage:
    items: tuple[BtfTypeSummary, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)


@attrs.frozen
class EnumEntry:
    name: str = attrs.field(metadata=_doc("Short name, e.g. 'kprobe' for BPF_PROG_TYPE_KPROBE."))
    constant: str = attrs.field(metadata=_doc("The C enumerator, e.g. 'BPF_PROG_TYPE_KPROBE'."))
    value: int
    description: str = attrs.field(metadata=_doc("What it is for, in one line."))


@attrs.frozen
class EnumPage:
    items: tuple[EnumEntry, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    source: Literal["kernel-btf", "builtin"] = attrs.field(
        metadata=_doc("kernel-btf: read from this kernel; builtin: our table, BTF unreadable.")
    )
    note: str | None = attrs.field(default=None, metadata=_doc("Why the builtin table was used."))


@attrs.frozen
class FailureInfo:
    cause: str
    path: str
    detail: str
    fix: str
    message: str


@attrs.frozen
class SourceStatusInfo:
    source: str
    state: Literal["loading", "ready", "failed"]
    since: str = attrs.field(metadata=_doc("UTC time the state was entered (ISO 8601)."))
    origin: str
    summary: str
    data_age_seconds: float | None = attrs.field(
        metadata=_doc("Seconds since the data served was read; null before the first load.")
    )
    failures: int = attrs.field(metadata=_doc("Consecutive failed attempts."))
    restarts: int
    gave_up: bool = attrs.field(metadata=_doc("Fast retries stopped; only slow re-checks remain."))
    next_attempt_in: float | None
    last_error: FailureInfo | None


@attrs.frozen
class ServerStatus:
    sources: tuple[SourceStatusInfo, ...]
    sysroot: str
    refresh_interval: float = attrs.field(
        metadata=_doc("Seconds between checks for change: the bound on how old an answer is.")
    )


@attrs.frozen
class Completions:
    """Names that complete what was typed: at most 100, and how many matched in all."""

    values: tuple[str, ...]
    total: int


# -- BTF types in depth ---------------------------------------------------------------------


@attrs.frozen
class BtfTypeRef:
    id: int = attrs.field(metadata=_doc("BTF type id (unique within its object)."))
    name: str
    kind: str
    object: str = attrs.field(metadata=_doc("BTF object: 'vmlinux' or a module's name."))


@attrs.frozen
class BtfChainStep:
    id: int
    kind: str
    type: str = attrs.field(metadata=_doc("The type at this step as C text."))


@attrs.frozen
class BtfMember:
    name: str = attrs.field(metadata=_doc("'' for an anonymous struct/union member."))
    path: str = attrs.field(
        metadata=_doc(
            "How C reaches it from the described type: anonymous members are transparent,"
            " a member of an anonymous-typed member reads 'outer.inner', an array's first"
            " element 'arr[0].x'."
        )
    )
    depth: int = attrs.field(
        metadata=_doc("0 for a direct member; members of an expanded member are one deeper.")
    )
    type: str = attrs.field(metadata=_doc("C type, e.g. 'struct list_head', 'const char *'."))
    type_id: int
    offset: int = attrs.field(
        metadata=_doc("Byte offset from the start of the described type (a bitfield's unit).")
    )
    bit_offset: int = attrs.field(metadata=_doc("Bit offset from the start of the type."))
    size: int = attrs.field(metadata=_doc("Size in bytes of the member's type."))
    bitfield_size: int | None = attrs.field(metadata=_doc("Width in bits; null if no bitfield."))
    hole_after: int = attrs.field(metadata=_doc("Unused bytes before the next member."))
    bit_hole_after: int = attrs.field(metadata=_doc("Unused bits left in a bitfield's unit."))


@attrs.frozen
class BtfLayout:
    size: int
    alignment: int = attrs.field(
        metadata=_doc("Alignment in bytes, inferred from offsets and size as pahole does.")
    )
    packed: bool = attrs.field(metadata=_doc("Some member sits below its natural alignment."))
    members: int = attrs.field(metadata=_doc("Direct members."))
    holes: int
    sum_holes: int = attrs.field(metadata=_doc("Bytes in holes between direct members."))
    bit_holes: int
    sum_bit_holes: int
    padding: int = attrs.field(metadata=_doc("Unused bytes after the last member."))


@attrs.frozen
class BtfEnumerator:
    name: str
    value: int


@attrs.frozen
class BtfParam:
    name: str = attrs.field(metadata=_doc("'' when BTF records no name."))
    type: str
    type_id: int


@attrs.frozen
class BtfDeclTag:
    tag: str = attrs.field(metadata=_doc("e.g. 'bpf_kfunc', 'bpf_fastcall'."))
    component: int = attrs.field(
        metadata=_doc("-1: the type itself; else the member or parameter index.")
    )
    target: str | None = attrs.field(metadata=_doc("The member or parameter name, if any."))


@attrs.frozen
class BtfTypeDescription:
    id: int
    name: str
    kind: str
    object: str = attrs.field(metadata=_doc("BTF object: 'vmlinux' or a module's name."))
    size: int | None = attrs.field(metadata=_doc("Size in bytes; null for kinds without one."))
    alignment: int | None
    c: str = attrs.field(metadata=_doc("The C definition (or, for other kinds, the C type)."))
    type: str | None = attrs.field(
        metadata=_doc("What a typedef, pointer, array, modifier or var refers to, as C text.")
    )
    members: tuple[BtfMember, ...] | None = attrs.field(
        metadata=_doc("Struct/union members in order, anonymous members expanded.")
    )
    layout: BtfLayout | None = attrs.field(metadata=_doc("Struct/union holes and padding."))
    signed: bool | None = attrs.field(metadata=_doc("Enum or int signedness."))
    bits: int | None = attrs.field(metadata=_doc("Int width in bits."))
    nelems: int | None = attrs.field(metadata=_doc("Array element count."))
    values: tuple[BtfEnumerator, ...] | None
    typedef_chain: tuple[BtfChainStep, ...] | None = attrs.field(
        metadata=_doc("From the typedef down to the type it finally names.")
    )
    prototype: str | None = attrs.field(metadata=_doc("Function prototype as C."))
    return_type: str | None
    params: tuple[BtfParam, ...] | None
    variadic: bool | None
    linkage: Literal["static", "global", "extern"] | None = attrs.field(
        metadata=_doc("Func/var linkage as BTF records it (pahole marks every func static).")
    )
    decl_tags: tuple[BtfDeclTag, ...]
    others: tuple[BtfTypeRef, ...] = attrs.field(
        metadata=_doc("Other types of the same name; pass 'kind' or 'object' to pick one.")
    )


@attrs.frozen
class CHeader:
    header: str = attrs.field(metadata=_doc("The C header text."))
    bytes: int
    roots: tuple[BtfTypeRef, ...] = attrs.field(metadata=_doc("The types asked for."))
    defined: int = attrs.field(metadata=_doc("Types defined, those asked for included."))
    declared: int = attrs.field(metadata=_doc("Types only forward-declared."))
    object: str = attrs.field(metadata=_doc("BTF object the types come from."))
