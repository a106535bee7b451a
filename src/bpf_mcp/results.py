"""Typed answers of each tool: frozen values that the converter turns into JSON.

The output schema of each tool is derived from these classes (see `schema.py`), so what a
tool declares and what it returns cannot drift apart.
"""

from __future__ import annotations

from typing import Literal, Self

import attrs

from . import preflight as pf


def _doc(text: str) -> dict[str, str]:
    return {"description": text}


TOTAL = _doc("How many items matched, before paging.")
OFFSET = _doc("Index of the first item of this page among the matches.")
NEXT_OFFSET = _doc("Offset of the next page; null when this page is the last.")
NOTE = _doc("What was left out of this answer, if anything, and the arguments that fetch it.")


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
    field_count: int = attrs.field(metadata=_doc("Fields of its record, the common ones apart."))
    fields: tuple[TracepointField, ...] | None = attrs.field(
        default=None, metadata=_doc("Record fields (only with include_fields).")
    )
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
    note: str | None = attrs.field(default=None, metadata=NOTE)


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
    has_btf: bool | None = attrs.field(
        default=None,
        metadata=_doc("Whether BTF has a FUNC of this exact name; null unless asked for."),
    )
    verdict: AttachVerdict | None = attrs.field(
        default=None,
        metadata=_doc("The verdict of the mechanism asked for with 'attachable'; else null."),
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
        metadata=_doc(
            "Member names (struct/union with include_members; '' for an anonymous member)."
        )
    )
    object: str = attrs.field(metadata=_doc("BTF object the type lives in ('vmlinux')."))


@attrs.frozen
class BtfTypePage:
    items: tuple[BtfTypeSummary, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    note: str | None = attrs.field(default=None, metadata=NOTE)


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


# -- attach points and catalogues (get_tracepoint, get_kernel_function, list_kfuncs...) --

SOURCE = _doc("Where this answer was read: the kernel files (and BTF types) it rests on.")
Verdict = Literal["yes", "no", "unknown"]
Mechanism = Literal["kprobe", "kretprobe", "fentry", "fexit"]


@attrs.frozen
class TracepointFieldDetail:
    name: str
    type: str = attrs.field(metadata=_doc("C type as the format file declares it."))
    offset: int = attrs.field(metadata=_doc("Byte offset in the raw record."))
    size: int = attrs.field(metadata=_doc("Size in bytes in the record."))
    signed: bool
    resolved_type: str | None = attrs.field(
        metadata=_doc(
            "What the typedef named in 'type' stands for, resolved through BTF (e.g. pid_t"
            " -> int); null when 'type' names no typedef or BTF is unavailable."
        )
    )
    note: str | None = attrs.field(
        metadata=_doc("How to read this field when it is not plain (__data_loc, 8-byte slots).")
    )


@attrs.frozen
class RawTracepointArg:
    position: int = attrs.field(metadata=_doc("Index into the program's context (ctx[i])."))
    type: str = attrs.field(metadata=_doc("C type of the argument."))


@attrs.frozen
class RawTracepoint:
    name: str = attrs.field(metadata=_doc('Tracepoint name, as in SEC("tp_btf/<name>").'))
    typedef: str = attrs.field(metadata=_doc("The btf_trace_<name> typedef the args come from."))
    btf_id: int
    args: tuple[RawTracepointArg, ...] | None = attrs.field(
        metadata=_doc(
            "Typed arguments, without the leading 'void *' the kernel passes first (in a"
            " list, only with include_args)."
        )
    )
    event: str | None = attrs.field(
        metadata=_doc("The tracefs event 'category:event' of the same name; null when none.")
    )
    program: str = attrs.field(
        metadata=_doc("A tp_btf program head with these arguments (BTF records no names).")
    )


@attrs.frozen
class TracepointDetail:
    name: str = attrs.field(metadata=_doc("'category:event'."))
    category: str
    event: str
    id: int = attrs.field(metadata=_doc("The event id (perf_event_attr.config)."))
    common_fields: tuple[TracepointFieldDetail, ...] = attrs.field(
        metadata=_doc("The common_* header every record starts with.")
    )
    fields: tuple[TracepointFieldDetail, ...] = attrs.field(
        metadata=_doc("The event's own fields.")
    )
    print_fmt: str = attrs.field(
        metadata=_doc("How the kernel prints a record (the format file's print fmt).")
    )
    section: str = attrs.field(metadata=_doc("The libbpf section for a tracepoint program."))
    context_struct: str = attrs.field(
        metadata=_doc('C struct of the record as a SEC("tp/...") program sees it; offsets match.')
    )
    raw_tracepoint: RawTracepoint | None = attrs.field(
        metadata=_doc("Typed arguments for tp_btf/raw_tp programs; null when BTF has none.")
    )
    notes: tuple[str, ...]
    source: str = attrs.field(metadata=SOURCE)


@attrs.frozen
class RawTracepointPage:
    items: tuple[RawTracepoint, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    without_event: int | None = attrs.field(
        metadata=_doc(
            "How many of all the raw tracepoints have no tracefs event of that name; null"
            " when tracefs is not loaded."
        )
    )
    source: str = attrs.field(metadata=SOURCE)
    note: str | None = attrs.field(default=None)


@attrs.frozen
class AttachVerdict:
    mechanism: Mechanism
    verdict: Verdict = attrs.field(
        metadata=_doc(
            "yes: it can attach; no: it cannot; unknown: the facts to decide are missing."
        )
    )
    reasons: tuple[str, ...] = attrs.field(metadata=_doc("Why, each naming the file it rests on."))
    settle: str | None = attrs.field(
        metadata=_doc("For an unknown verdict, what would settle it; else null.")
    )


@attrs.frozen
class SymbolEntry:
    name: str
    address: str | None = attrs.field(
        metadata=_doc("Hex address; null when the kernel hides addresses from this reader.")
    )
    module: str | None
    symbol_type: str = attrs.field(metadata=_doc("kallsyms type letter (t/T/w/W text)."))
    section: str | None = attrs.field(
        metadata=_doc(
            "Kernel text area: text, init (freed after boot), noinstr, entry or kprobes;"
            " null when addresses are hidden."
        )
    )


@attrs.frozen
class KernelFunctionDetail:
    name: str
    symbols: tuple[SymbolEntry, ...] = attrs.field(
        metadata=_doc("Every kallsyms text symbol of exactly this name.")
    )
    clones: tuple[SymbolEntry, ...] = attrs.field(
        metadata=_doc("Compiler clones of it (.isra.N, .constprop.N, .part.N, .cold...).")
    )
    btf_id: int | None = attrs.field(metadata=_doc("Its BTF FUNC id; null when BTF has none."))
    prototype: str | None = attrs.field(metadata=_doc("C prototype from BTF; null without BTF."))
    verdicts: tuple[AttachVerdict, ...]
    addresses_hidden: bool
    source: str = attrs.field(metadata=SOURCE)


@attrs.frozen
class KfuncParam:
    name: str
    type: str
    annotation: str | None = attrs.field(
        metadata=_doc("The suffix of the name that tells the verifier something (e.g. __sz).")
    )
    meaning: str | None = attrs.field(metadata=_doc("What the annotation means, when known."))


@attrs.frozen
class Kfunc:
    name: str
    btf_id: int
    prototype: str
    params: tuple[KfuncParam, ...] | None = attrs.field(
        metadata=_doc("Parameters with their annotations explained (only with include_params).")
    )
    tags: tuple[str, ...] = attrs.field(
        metadata=_doc("Its BTF decl tags (bpf_kfunc; bpf_fastcall when calls preserve registers).")
    )


@attrs.frozen
class KfuncPage:
    items: tuple[Kfunc, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    source: str = attrs.field(metadata=SOURCE)
    note: str


@attrs.frozen
class BpfHelper:
    name: str = attrs.field(metadata=_doc("Short name, e.g. 'map_lookup_elem'."))
    constant: str = attrs.field(
        metadata=_doc("The bpf_func_id enumerator, e.g. BPF_FUNC_map_lookup_elem.")
    )
    id: int = attrs.field(metadata=_doc("The helper number a BPF call instruction uses."))
    description: str
    arguments: tuple[str, ...] | None = attrs.field(
        metadata=_doc(
            "Argument names from the kernel's BTF (its BPF_CALL wrapper bpf_<name>); null"
            " when BTF has no function of that name."
        )
    )
    prototype: str | None = attrs.field(
        metadata=_doc("Typed C prototype, when the kernel's BTF records one; else null.")
    )


@attrs.frozen
class BpfHelperPage:
    items: tuple[BpfHelper, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    source: Literal["kernel-btf", "builtin"]
    note: str


@attrs.frozen
class AttachTypePage:
    attach_types: tuple[EnumEntry, ...] = attrs.field(metadata=_doc("enum bpf_attach_type."))
    link_types: tuple[EnumEntry, ...] = attrs.field(
        metadata=_doc("enum bpf_link_type; pages list them after all the attach types.")
    )
    total: int = attrs.field(metadata=_doc("How many values of both enums matched."))
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    source: Literal["kernel-btf", "builtin"]
    note: str | None = attrs.field(default=None, metadata=NOTE)

    def shrink(self) -> Self | None:
        """This page cut to half its values, the note saying where the rest continues;
        None for a page of one value."""
        attach, link = self.attach_types, self.link_types
        keep = (len(attach) + len(link)) // 2
        if keep == 0:
            return None
        next_offset = self.offset + keep
        cut = (
            f"This page was cut to {keep} values to fit the answer budget; pass"
            f" offset={next_offset} for the rest."
        )
        return attrs.evolve(
            self,
            attach_types=attach[:keep],
            link_types=link[: max(0, keep - len(attach))],
            next_offset=next_offset,
            note=f"{self.note} {cut}" if self.note else cut,
        )


@attrs.frozen
class ProgramType:
    name: str = attrs.field(metadata=_doc("Short name, e.g. 'kprobe' for BPF_PROG_TYPE_KPROBE."))
    constant: str
    value: int
    description: str
    compiled_in: bool | None = attrs.field(
        metadata=_doc(
            "Whether this kernel was built with it (struct bpf_ctx_convert has a member for"
            " each type built in); null when BTF cannot say."
        )
    )
    user_context: str | None = attrs.field(
        metadata=_doc("The context type a program of this type receives (e.g. struct __sk_buff *).")
    )
    kernel_context: str | None = attrs.field(
        metadata=_doc("The kernel object behind that context (e.g. struct sk_buff).")
    )


@attrs.frozen
class ProgramTypePage:
    items: tuple[ProgramType, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    source: Literal["kernel-btf", "builtin"] = attrs.field(
        metadata=_doc("kernel-btf: read from this kernel; builtin: our table, BTF unreadable.")
    )
    note: str | None = attrs.field(default=None)


@attrs.frozen
class BpfHook:
    kind: Literal["lsm", "iterator", "struct_ops"]
    name: str = attrs.field(metadata=_doc("LSM hook, iterator target or struct_ops type."))
    section: str = attrs.field(metadata=_doc("The libbpf section to attach a program there."))
    btf_id: int
    prototype: str | None = attrs.field(
        metadata=_doc(
            "lsm: the hook's C prototype; iterator: the context struct; else null (in a"
            " list, only with include_details)."
        )
    )
    members: tuple[str, ...] | None = attrs.field(
        metadata=_doc(
            "iterator: the context's fields; struct_ops: the operations a program can"
            " implement (in a list, only with include_details)."
        )
    )


@attrs.frozen
class BpfHookPage:
    items: tuple[BpfHook, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    counts: dict[str, int] = attrs.field(
        metadata=_doc("How many hooks of each kind this kernel has, before any filter.")
    )
    source: str = attrs.field(metadata=SOURCE)
    notes: tuple[str, ...]


@attrs.frozen
class FileStatus:
    role: str = attrs.field(metadata=_doc("What the file is read for."))
    path: str
    readable: bool
    state: str = attrs.field(metadata=_doc("ok, missing, permission, not-mounted or error."))
    detail: str
    fix: str


@attrs.frozen
class ConfigFlag:
    name: str
    value: str | None = attrs.field(
        metadata=_doc("y, m, n (not set) or the quoted value; null when no config was readable.")
    )
    meaning: str


@attrs.frozen
class MountInfo:
    fs: str = attrs.field(metadata=_doc("tracefs, debugfs or securityfs."))
    mount_points: tuple[str, ...] = attrs.field(metadata=_doc("Where it is mounted (mount table)."))
    readable: bool | None = attrs.field(
        metadata=_doc("Whether bpf-mcp could read what it needs there; null when not consulted.")
    )
    fix: str | None


@attrs.frozen
class KernelFeature:
    name: str = attrs.field(metadata=_doc("kprobes, fentry/fexit trampolines, BPF LSM..."))
    verdict: Verdict
    reasons: tuple[str, ...]
    settle: str | None


@attrs.frozen
class KernelInfo:
    release: str | None
    version: str | None
    arch: str | None
    btf_present: bool
    btf_bytes: int | None
    btf_types: int | None
    mounts: tuple[MountInfo, ...]
    config_source: str | None = attrs.field(metadata=_doc("The config file read; null if none."))
    config: tuple[ConfigFlag, ...] | None = attrs.field(
        metadata=_doc("BPF config flags and what each means (only with sections=['config']).")
    )
    sysctls: dict[str, str | None] = attrs.field(
        metadata=_doc("BPF-relevant sysctls; null where unreadable.")
    )
    sysctl_notes: tuple[str, ...]
    lockdown: str | None = attrs.field(metadata=_doc("Active lockdown mode; null if unknown."))
    active_lsms: tuple[str, ...] | None
    perf_event_sources: tuple[str, ...] | None = attrs.field(
        metadata=_doc("PMUs in /sys/bus/event_source/devices (kprobe, uprobe, tracepoint...).")
    )
    ftrace_records: int | None = attrs.field(
        metadata=_doc("Functions with an ftrace entry site (dyn_ftrace_total_info).")
    )
    capabilities: tuple[str, ...] | None = attrs.field(
        metadata=_doc("Effective capabilities of the bpf-mcp process itself.")
    )
    capability_notes: tuple[str, ...]
    features: tuple[KernelFeature, ...]
    files: tuple[FileStatus, ...] | None = attrs.field(
        metadata=_doc(
            "Every kernel file consulted for this answer: readable or why not, and the fix"
            " (only with sections=['files'])."
        )
    )
    sources: tuple[SourceStatusInfo, ...] | None = attrs.field(
        metadata=_doc("The loaders' status (only with sections=['sources']).")
    )
    source: str = attrs.field(metadata=SOURCE)
    note: str | None = attrs.field(default=None, metadata=NOTE)


# -- BTF types in depth ---------------------------------------------------------------------

C_INLINE_BYTES = 2048
"""Longest C definition a description carries without include_c."""


def _part_note(what: str, offset: int | None, shown: int, total: int | None) -> str:
    start = offset or 0
    return f"{what} {start}-{start + shown - 1} of {total} shown;"


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
    c: str | None = attrs.field(
        metadata=_doc(
            "The C definition (or, for other kinds, the C type); null when longer than"
            f" {C_INLINE_BYTES} bytes unless include_c."
        )
    )
    c_bytes: int = attrs.field(metadata=_doc("Length of the C definition in bytes."))
    type: str | None = attrs.field(
        metadata=_doc("What a typedef, pointer, array, modifier or var refers to, as C text.")
    )
    members: tuple[BtfMember, ...] | None = attrs.field(
        metadata=_doc(
            "Struct/union members in order, anonymous members expanded; paged by"
            " member_offset and member_limit."
        )
    )
    member_total: int | None = attrs.field(metadata=_doc("Members in all (expanded)."))
    member_offset: int | None = attrs.field(metadata=_doc("Index of the first member shown."))
    next_member_offset: int | None = attrs.field(
        metadata=_doc("member_offset of the next members; null when none are left.")
    )
    layout: BtfLayout | None = attrs.field(metadata=_doc("Struct/union holes and padding."))
    signed: bool | None = attrs.field(metadata=_doc("Enum or int signedness."))
    bits: int | None = attrs.field(metadata=_doc("Int width in bits."))
    nelems: int | None = attrs.field(metadata=_doc("Array element count."))
    values: tuple[BtfEnumerator, ...] | None = attrs.field(
        metadata=_doc("Enum values, paged by value_offset and value_limit.")
    )
    value_total: int | None
    value_offset: int | None
    next_value_offset: int | None = attrs.field(
        metadata=_doc("value_offset of the next values; null when none are left.")
    )
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
    note: str | None = attrs.field(default=None, metadata=NOTE)

    def with_note(self) -> Self:
        """This description with `note` saying what it leaves out and how to get it."""
        parts = []
        if self.members is not None and self.next_member_offset is not None:
            parts.append(
                _part_note("Members", self.member_offset, len(self.members), self.member_total)
                + f" pass member_offset={self.next_member_offset} for the next ones."
            )
        if self.values is not None and self.next_value_offset is not None:
            parts.append(
                _part_note("Values", self.value_offset, len(self.values), self.value_total)
                + f" pass value_offset={self.next_value_offset} for the next ones."
            )
        if self.c is None and self.c_bytes:
            parts.append(
                f"The C definition ({self.c_bytes} bytes) is left out: pass include_c=true"
                " for it (generate_c_header gives one too long for an answer in parts)."
            )
        return attrs.evolve(self, note=" ".join(parts) or None)

    def shrink(self) -> Self | None:
        """A smaller form of this description for an answer over budget: without the C
        text first, then with half the members or values; None when none is smaller."""
        if self.c is not None and len(self.c) > C_INLINE_BYTES:
            return attrs.evolve(self, c=None).with_note()
        for part in ("members", "values"):
            shown = getattr(self, part)
            if shown is not None and len(shown) > 1:
                keep = len(shown) // 2
                start = getattr(self, f"{part[:-1]}_offset") or 0
                changes = {part: shown[:keep], f"next_{part[:-1]}_offset": start + keep}
                return attrs.evolve(self, **changes).with_note()
        return None


@attrs.frozen
class CHeader:
    header: str = attrs.field(
        metadata=_doc("The C header text (of one part, when next_offset is not null).")
    )
    bytes: int = attrs.field(metadata=_doc("Bytes of this header text."))
    offset: int = attrs.field(metadata=_doc("Index of the first definition in this part."))
    next_offset: int | None = attrs.field(
        metadata=_doc(
            "Pass as offset for the next part; null when the header ends here. The parts"
            " concatenated are the whole header."
        )
    )
    definitions: int = attrs.field(metadata=_doc("Definitions in the whole header."))
    roots: tuple[BtfTypeRef, ...] = attrs.field(metadata=_doc("The types asked for."))
    defined: int = attrs.field(metadata=_doc("Types defined, those asked for included."))
    declared: int = attrs.field(metadata=_doc("Types only forward-declared."))
    object: str = attrs.field(metadata=_doc("BTF object the types come from."))
    note: str | None = attrs.field(default=None, metadata=NOTE)


# -- loaded BPF objects -------------------------------------------------------------------

OWNERS = _doc("Processes holding a descriptor of it, as 'comm[pid]' (from /proc/*/fdinfo).")
PINS = _doc("Paths where it is pinned under bpffs mounts.")
RUN_STATS = _doc("Null while kernel.bpf_stats_enabled is 0 (the kernel then counts nothing).")
LOADED_AT = _doc("When it was loaded, UTC (ISO 8601).")


@attrs.frozen
class LoadedProgramItem:
    id: int
    name: str
    type: str = attrs.field(metadata=_doc("Program type, e.g. 'kprobe', 'xdp', 'tracing'."))
    tag: str = attrs.field(metadata=_doc("Hash of the translated instructions (hex)."))
    loaded_at: str | None = attrs.field(metadata=LOADED_AT)
    btf_id: int | None
    memlock: int | None = attrs.field(metadata=_doc("Bytes of memory charged to it."))
    run_time_ns: int | None = attrs.field(metadata=RUN_STATS)
    run_cnt: int | None = attrs.field(metadata=RUN_STATS)
    owners: tuple[str, ...] = attrs.field(metadata=OWNERS)
    pins: tuple[str, ...] = attrs.field(metadata=PINS)


@attrs.frozen
class LoadedMapItem:
    id: int
    name: str
    type: str = attrs.field(metadata=_doc("Map type, e.g. 'hash', 'ringbuf'."))
    key_size: int
    value_size: int
    max_entries: int
    memlock: int | None
    btf_id: int | None
    owners: tuple[str, ...] = attrs.field(metadata=OWNERS)
    pins: tuple[str, ...] = attrs.field(metadata=PINS)


@attrs.frozen
class LoadedLinkItem:
    id: int
    type: str = attrs.field(metadata=_doc("Link type, e.g. 'tracing', 'cgroup', 'xdp'."))
    prog_id: int
    attach_type: str | None
    target: str = attrs.field(
        metadata=_doc("Where it attaches: function, tracepoint, cgroup path, device...")
    )
    owners: tuple[str, ...] = attrs.field(metadata=OWNERS)
    pins: tuple[str, ...] = attrs.field(metadata=PINS)


@attrs.frozen
class LoadedBtfItem:
    id: int
    name: str = attrs.field(metadata=_doc("'vmlinux', a module's name, or '' for a loader's."))
    size: int
    kernel: bool
    prog_ids: tuple[int, ...]
    map_ids: tuple[int, ...]
    owners: tuple[str, ...] = attrs.field(metadata=OWNERS)


@attrs.frozen
class LeftOutInfo:
    kind: str
    reason: str = attrs.field(metadata=_doc("'vanished': freed between listing and reading."))
    count: int


SCAN_TIME = _doc("When the kernel was scanned, UTC (ISO 8601).")
DATA_AGE = _doc("Seconds since that scan; a changed set of objects triggers a new one.")


@attrs.frozen
class LoadedBpfPage:
    kind: str
    items: tuple[LoadedProgramItem | LoadedMapItem | LoadedLinkItem | LoadedBtfItem, ...]
    total: int = attrs.field(metadata=TOTAL)
    offset: int = attrs.field(metadata=OFFSET)
    next_offset: int | None = attrs.field(metadata=NEXT_OFFSET)
    scanned_at: str = attrs.field(metadata=SCAN_TIME)
    data_age_seconds: float = attrs.field(metadata=DATA_AGE)
    stats_enabled: bool | None = attrs.field(
        metadata=_doc("kernel.bpf_stats_enabled; null when it could not be read.")
    )
    left_out: tuple[LeftOutInfo, ...] = attrs.field(
        metadata=_doc("Entries the scan could not read, by kind and reason.")
    )
    notes: tuple[str, ...]


@attrs.frozen
class LoadedRef:
    id: int
    name: str
    type: str


@attrs.frozen
class LoadedOwner:
    pid: int
    comm: str


@attrs.frozen
class LoadedProgram:
    id: int
    name: str
    type: str
    tag: str
    gpl_compatible: bool
    loaded_at: str | None = attrs.field(metadata=LOADED_AT)
    created_by_uid: int
    btf_id: int | None
    functions: tuple[str, ...] = attrs.field(
        metadata=_doc("Its functions by the program's BTF (func_info), main one first.")
    )
    maps: tuple[LoadedRef, ...]
    links: tuple[LoadedRef, ...] = attrs.field(
        metadata=_doc("Links attaching it (type is the link type, name its target).")
    )
    attach_to: str | None = attrs.field(
        metadata=_doc("The kernel function or hook a tracing/LSM/extension program targets.")
    )
    verified_insns: int = attrs.field(metadata=_doc("Instructions the verifier processed."))
    xlated_bytes: int = attrs.field(metadata=_doc("Size of the translated BPF code."))
    jited_bytes: int = attrs.field(metadata=_doc("Size of the JIT-compiled machine code."))
    memlock: int | None
    run_time_ns: int | None = attrs.field(metadata=RUN_STATS)
    run_cnt: int | None = attrs.field(metadata=RUN_STATS)
    recursion_misses: int | None = attrs.field(metadata=RUN_STATS)
    owners: tuple[LoadedOwner, ...]
    pins: tuple[str, ...]


@attrs.frozen
class LoadedMap:
    id: int
    name: str
    type: str
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    map_extra: int
    frozen: bool | None
    memlock: int | None
    btf_id: int | None
    btf_key_type_id: int | None
    btf_value_type_id: int | None
    used_by: tuple[LoadedRef, ...] = attrs.field(metadata=_doc("Programs that use it."))
    owners: tuple[LoadedOwner, ...]
    pins: tuple[str, ...]


@attrs.frozen
class LoadedLinkTarget:
    kind: str = attrs.field(
        metadata=_doc(
            "tracepoint, function, cgroup, iterator, netns, netdev, kprobe, kretprobe, uprobe,"
            " uretprobe, perf_tracepoint, perf_event, kprobe_multi, kretprobe_multi,"
            " uprobe_multi, uretprobe_multi, struct_ops, netfilter, sockmap or unknown."
        )
    )
    name: str = attrs.field(metadata=_doc("What names it; '' when only numbers do."))
    ifindex: int | None
    cgroup_id: int | None
    map_id: int | None
    btf_obj_id: int | None
    btf_type_id: int | None
    netns_ino: int | None
    pid: int | None
    count: int | None
    offset: int | None
    detail: str


@attrs.frozen
class LoadedLink:
    id: int
    type: str
    attach_type: str | None
    program: LoadedRef | None = attrs.field(metadata=_doc("Null if it was unloaded since."))
    target: LoadedLinkTarget
    owners: tuple[LoadedOwner, ...]
    pins: tuple[str, ...]


@attrs.frozen
class LoadedBtf:
    id: int
    name: str
    size: int
    kernel: bool
    programs: tuple[LoadedRef, ...]
    maps: tuple[LoadedRef, ...]
    owners: tuple[LoadedOwner, ...]


@attrs.frozen
class LoadedBpfObject:
    kind: str
    program: LoadedProgram | None
    map: LoadedMap | None
    link: LoadedLink | None
    btf: LoadedBtf | None
    scanned_at: str = attrs.field(metadata=SCAN_TIME)
    data_age_seconds: float = attrs.field(metadata=DATA_AGE)
    notes: tuple[str, ...]


# -- kernels --------------------------------------------------------------------------------


@attrs.frozen
class KernelEntry:
    name: str = attrs.field(metadata=_doc("What to pass as 'kernel'; 'local' is the running one."))
    kind: Literal["local", "sysroot", "snapshot", "btf", "refused"]
    path: str = attrs.field(metadata=_doc("Where its data is read from."))
    release: str | None = attrs.field(metadata=_doc("Its kernel release, when known unloaded."))
    arch: str | None
    loaded: bool = attrs.field(metadata=_doc("Whether its indexes are in memory now."))
    sources: tuple[str, ...] = attrs.field(
        metadata=_doc("The sources its data can have (a bare BTF file: btf and reference).")
    )
    error: str | None = attrs.field(
        default=None, metadata=_doc("Why it cannot be served (its registration or data).")
    )


@attrs.frozen
class KernelList:
    items: tuple[KernelEntry, ...]
    total: int = attrs.field(metadata=TOTAL)
    max_loaded: int = attrs.field(metadata=_doc("Kernels held in memory at most, besides local."))


@attrs.frozen
class RelocationCounts:
    total: int = attrs.field(metadata=_doc("CO-RE relocations libbpf would apply."))
    ok: int = attrs.field(metadata=_doc("Resolved and patched (existence checks of 0 too)."))
    poisoned: int = attrs.field(
        metadata=_doc("No target here: the instruction becomes invalid, fatal if reached.")
    )
    failed: int = attrs.field(metadata=_doc("libbpf refuses the whole object at these."))
    shown: Literal["problems", "all"] = attrs.field(
        metadata=_doc("Which relocations the programs list.")
    )


@attrs.frozen
class KernelVerdict:
    kernel: str = attrs.field(metadata=_doc("A kernel from list_kernels."))
    verdict: Verdict
    reason: str | None = attrs.field(metadata=_doc("The first reason it is not 'yes'."))


@attrs.frozen
class BpfObjectCheck:
    object: str = attrs.field(metadata=_doc("The object's name: its path, or 'data_base64'."))
    size: int = attrs.field(metadata=_doc("Bytes."))
    license: str | None
    verdict: Verdict = attrs.field(
        metadata=_doc(
            "yes: every program libbpf loads by default would load and attach here, the"
            " verifier aside; no: some cannot (see reasons); unknown: a fact is missing."
        )
    )
    verifier: str = attrs.field(metadata=_doc("What this check leaves to the verifier."))
    reasons: tuple[pf.Reason, ...] = attrs.field(
        metadata=_doc("Object-wide problems: each stops libbpf loading any program.")
    )
    programs: tuple[pf.ProgramCheck, ...]
    maps: tuple[pf.MapCheck, ...]
    externs: tuple[pf.ExternCheck, ...]
    relocations: RelocationCounts
    kernel: str = attrs.field(metadata=_doc("The kernel facts used and where they were read."))
    across: tuple[KernelVerdict, ...] | None = attrs.field(
        default=None, metadata=_doc("With 'kernels': the verdict on each of them.")
    )
    note: str | None = attrs.field(default=None, metadata=NOTE)

    def shrink(self) -> Self | None:
        """A smaller form for an answer over budget: relocations cut to the problems,
        then to none (the counts stay), then half the programs; the note says so."""
        listed = [len(p.relocations) for p in self.programs]
        if any(r.ok and not r.sentence for p in self.programs for r in p.relocations):
            programs = tuple(
                attrs.evolve(
                    p, relocations=tuple(r for r in p.relocations if not r.ok or r.sentence)
                )
                for p in self.programs
            )
            return self._cut(programs, "relocations were cut to the problems")
        if any(listed):
            programs = tuple(attrs.evolve(p, relocations=()) for p in self.programs)
            return self._cut(programs, "relocation lists were left out (see the counts)")
        if len(self.programs) > 1:
            keep = len(self.programs) // 2
            return self._cut(self.programs[:keep], f"only the first {keep} programs are shown")
        return None

    def _cut(self, programs: tuple[pf.ProgramCheck, ...], what: str) -> Self:
        text = f"To fit the answer budget, {what}; check a smaller object for the rest."
        return attrs.evolve(
            self, programs=programs, note=f"{self.note} {text}" if self.note else text
        )


@attrs.frozen
class BpftraceArg:
    name: str = attrs.field(metadata=_doc("The field read as args.NAME or args->NAME."))
    verdict: Verdict
    detail: str


@attrs.frozen
class BpftraceProbe:
    probe: str = attrs.field(metadata=_doc("The probe as written."))
    provider: str = attrs.field(metadata=_doc("Canonical provider (kprobe, tracepoint...)."))
    line: int
    verdict: Verdict = attrs.field(
        metadata=_doc("yes: it attaches here; no: it cannot; unknown: not decidable here.")
    )
    reasons: tuple[str, ...]
    matches: int | None = attrs.field(
        metadata=_doc("For a wildcard, how many kernel names it matches; else null.")
    )
    first_matches: tuple[str, ...] = attrs.field(metadata=_doc("The first matches, sorted."))
    args: tuple[BpftraceArg, ...] = attrs.field(
        metadata=_doc("Each args field the probe's action block reads, checked.")
    )


@attrs.frozen
class BpftraceCheck:
    verdict: Verdict = attrs.field(metadata=_doc("The worst verdict of the probes."))
    probe_count: int = attrs.field(metadata=_doc("Probes in the script."))
    probes: tuple[BpftraceProbe, ...]
    outside: str = attrs.field(metadata=_doc("What this check does not judge."))
    source: str
    across: tuple[KernelVerdict, ...] | None = attrs.field(
        default=None, metadata=_doc("With 'kernels': the verdict on each of them.")
    )
    note: str | None = attrs.field(default=None, metadata=NOTE)

    def shrink(self) -> Self | None:
        """A smaller form for an answer over budget: the probes that attach left out
        first, then half of those left; the note says how many are shown."""
        probes = tuple(p for p in self.probes if p.verdict != "yes")
        if len(probes) == len(self.probes):
            if len(probes) <= 1:
                return None
            probes = probes[: len(probes) // 2]
        text = (
            f"To fit the answer budget, {len(probes)} of the {self.probe_count} probes are"
            " shown (those that do not attach first); check a shorter script for the rest."
        )
        return attrs.evolve(self, probes=probes, note=text)
