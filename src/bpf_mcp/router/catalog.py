"""Catalogue answers read from the kernel's BTF: kfuncs, helpers, attach and link types,
program types and their contexts, and the LSM / iterator / struct_ops hooks (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from ..btf import Btf, BtfError, Kind
from ..btf.render import c_definition, declaration, func_prototype, type_name
from ..queries import (
    ListBpfAttachTypes,
    ListBpfHelpers,
    ListBpfHooks,
    ListBpfProgramTypes,
    ListKfuncs,
)
from ..reference import ReferenceData
from ..results import (
    AttachTypePage,
    BpfHelper,
    BpfHelperPage,
    BpfHook,
    BpfHookPage,
    EnumEntry,
    Kfunc,
    KfuncPage,
    KfuncParam,
    ProgramType,
    ProgramTypePage,
    Verdict,
)
from ..sources import Source
from ..system import SystemFacts
from .indexes import BtfIndex
from .memo import LastOf
from .origins import btf_origin
from .paging import page, substring_matcher

if TYPE_CHECKING:
    from .answers import View

NO_DESCRIPTION = "No description yet: this enumerator is newer than bpf-mcp's reference data."
KFUNC_TAG = "bpf_kfunc"
_UNKNOWN_SUFFIX = re.compile(r"[A-Za-z0-9]__([a-z][a-z0-9_]*)\Z", re.ASCII)

EnumSource = Literal["kernel-btf", "builtin"]


def kernel_enum(btf: Btf, enum_name: str) -> list[tuple[str, int]] | None:
    """(enumerator, value) pairs of `enum enum_name` in BTF, sentinels ('__*') left out."""
    for tid in btf.find(enum_name):
        if btf.kind(tid) in (Kind.ENUM, Kind.ENUM64):
            return [(v.name, v.value) for v in btf.enum_values(tid) if not v.name.startswith("__")]
    return None


def enum_rows(
    view: View, enum_name: str, table: str
) -> tuple[list[tuple[str, int]], EnumSource, str | None]:
    """(constant, value) of `enum enum_name` from BTF, else from our table, with a note
    saying why the table was used."""
    btf_index: BtfIndex | None = view.indexes.get(Source.BTF)
    pairs = kernel_enum(btf_index.btf, enum_name) if btf_index is not None else None
    if pairs is not None:
        return pairs, "kernel-btf", None
    reference: ReferenceData = view.indexes[Source.REFERENCE]
    status = view.statuses.get(Source.BTF)
    why = (
        status.failure.sentence()
        if status is not None and status.failure is not None
        else f"the kernel's BTF has no enum {enum_name}."
    )
    rows = getattr(reference, table)
    return (
        [(e.constant, e.value) for e in rows],
        "builtin",
        f"Built-in table of Linux 6.18 used because {why}",
    )


def _describe(reference: ReferenceData, table: str, constant: str) -> str:
    return reference.description(table, constant) or NO_DESCRIPTION


# -- kfuncs -------------------------------------------------------------------------------


def _kfunc_ids(btf: Btf) -> tuple[int, ...]:
    ids = {btf.ref(tag) for tag in btf.ids_of_kind(Kind.DECL_TAG) if btf.name(tag) == KFUNC_TAG}
    return tuple(sorted((i for i in ids if btf.kind(i) is Kind.FUNC), key=btf.name))


kfunc_ids: LastOf[Btf, tuple[int, ...]] = LastOf(_kfunc_ids)
"""The FUNCs tagged bpf_kfunc, by name."""


def annotation(name: str, known: Sequence[str]) -> str | None:
    """The annotation suffix a kfunc parameter name carries (`len__sz` -> `__sz`)."""
    for suffix in sorted(known, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    match = _UNKNOWN_SUFFIX.search(name)
    return "__" + match.group(1) if match else None


def kfunc(btf: Btf, tid: int, reference: ReferenceData) -> Kfunc:
    """One kfunc: prototype, parameters with their annotations explained, and tags."""
    meanings = {note.name: note.text for note in reference.kfunc_annotations}
    params = []
    for p in btf.params(btf.ref(tid)):
        suffix = annotation(p.name, list(meanings))
        meaning = meanings.get(suffix) if suffix else None
        if suffix and meaning is None:
            meaning = (
                f"The name ends in {suffix}, an annotation bpf-mcp does not know; the verifier"
                " may treat this argument specially."
            )
        params.append(KfuncParam(p.name, type_name(btf, p.type_id), suffix, meaning))
    tags = tuple(dict.fromkeys(name for name, component in btf.decl_tags(tid) if component == -1))
    return Kfunc(btf.name(tid), tid, func_prototype(btf, tid), tuple(params), tags)


def list_kfuncs(query: ListKfuncs, view: View) -> KfuncPage:
    btf: Btf = view.indexes[Source.BTF].btf
    reference: ReferenceData = view.indexes[Source.REFERENCE]
    ids: Sequence[int] = kfunc_ids(btf)
    match = substring_matcher(query.pattern)
    if match is not None:
        ids = [i for i in ids if match(btf.name(i))]
    shown, w = page(ids, query.offset, query.limit)
    return KfuncPage(
        items=tuple(kfunc(btf, i, reference) for i in shown),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        source=btf_origin(view, f"FUNCs with the decl tag {KFUNC_TAG}"),
        note=(
            "Which program types may call a kfunc, and flags such as KF_ACQUIRE or KF_RET_NULL,"
            " are kept in the kernel's BTF id sets, not in BTF types, so they are not shown."
        ),
    )


# -- helpers ------------------------------------------------------------------------------

HELPER_PREFIX = "BPF_FUNC_"
UNUSED_REGISTER = "__ur_"


def helper_signature(btf: Btf, short: str) -> tuple[tuple[str, ...] | None, str | None]:
    """(argument names, typed prototype) of helper `short` from BTF.

    The kernel defines most helpers with BPF_CALL_n, whose BTF function `bpf_<name>` takes
    five u64 registers: its parameter names are the helper's own (unused registers are
    `__ur_N`), but their types are lost. A function of that name with other parameter
    types is a typed prototype.
    """
    func = next((i for i in btf.find("bpf_" + short) if btf.kind(i) is Kind.FUNC), None)
    if func is None:
        return None, None
    try:
        params = btf.params(btf.ref(func))
        wrapper = len(params) == 5 and all(btf.name(p.type_id) == "u64" for p in params)
        if not wrapper:
            return tuple(p.name for p in params), func_prototype(btf, func)
    except BtfError:
        return None, None
    return tuple(p.name for p in params if not p.name.startswith(UNUSED_REGISTER)), None


def list_bpf_helpers(query: ListBpfHelpers, view: View) -> BpfHelperPage:
    reference: ReferenceData = view.indexes[Source.REFERENCE]
    pairs, source, why = enum_rows(view, "bpf_func_id", "helpers")
    pairs = [(c, v) for c, v in pairs if v != 0]  # BPF_FUNC_unspec is no helper
    match = substring_matcher(query.pattern)
    if match is not None:
        pairs = [(c, v) for c, v in pairs if match(c)]
    shown, w = page(pairs, query.offset, query.limit)
    btf_index: BtfIndex | None = view.indexes.get(Source.BTF)
    items = []
    for constant, value in shown:
        short = constant.removeprefix(HELPER_PREFIX)
        arguments, prototype = (
            helper_signature(btf_index.btf, short) if btf_index is not None else (None, None)
        )
        items.append(
            BpfHelper(
                name=short,
                constant=constant,
                id=value,
                description=_describe(reference, "helpers", constant),
                arguments=arguments,
                prototype=prototype,
            )
        )
    note = (
        "The kernel's BTF does not record helpers' typed prototypes: it has each helper's"
        " BPF_CALL wrapper bpf_<name>, which takes five u64 registers, so 'arguments' gives"
        " the real argument names and count but not their C types (see the bpf-helpers(7)"
        " manual page or libbpf's bpf_helper_defs.h for those)."
    )
    if why:
        note = why + " " + note
    return BpfHelperPage(
        items=tuple(items),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        source=source,
        note=note,
    )


# -- attach and link types ------------------------------------------------------------------


def list_bpf_attach_types(query: ListBpfAttachTypes, view: View) -> AttachTypePage:
    reference: ReferenceData = view.indexes[Source.REFERENCE]
    match = substring_matcher(query.pattern)
    out: list[tuple[EnumEntry, ...]] = []
    sources: list[EnumSource] = []
    notes = []
    for enum_name, table, prefix in (
        ("bpf_attach_type", "attach_types", "BPF_"),
        ("bpf_link_type", "link_types", "BPF_LINK_TYPE_"),
    ):
        pairs, source, why = enum_rows(view, enum_name, table)
        sources.append(source)
        if why and why not in notes:
            notes.append(why)
        out.append(
            tuple(
                EnumEntry(
                    name=constant.removeprefix(prefix).lower(),
                    constant=constant,
                    value=value,
                    description=_describe(reference, table, constant),
                )
                for constant, value in pairs
                if match is None or match(constant)
            )
        )
    return AttachTypePage(
        attach_types=out[0],
        link_types=out[1],
        source="kernel-btf" if sources == ["kernel-btf", "kernel-btf"] else "builtin",
        note=" ".join(notes) or None,
    )


# -- program types ----------------------------------------------------------------------------

CTX_CONVERT = "bpf_ctx_convert"


def _contexts(btf: Btf) -> dict[str, tuple[str, str]] | None:
    """Program type constant -> (user context type, kernel context type), from the members
    `<CONSTANT>_prog` and `<CONSTANT>_kern` of struct bpf_ctx_convert."""
    found = next((i for i in btf.find(CTX_CONVERT) if btf.kind(i) is Kind.STRUCT), None)
    if found is None:
        return None
    user: dict[str, str] = {}
    kernel: dict[str, str] = {}
    for member in btf.members(found):
        if member.name.endswith("_prog"):
            user[member.name.removesuffix("_prog")] = type_name(btf, member.type_id)
        elif member.name.endswith("_kern"):
            kernel[member.name.removesuffix("_kern")] = type_name(btf, member.type_id)
    return {c: (user[c], kernel.get(c, "")) for c in user}


contexts: LastOf[Btf, dict[str, tuple[str, str]] | None] = LastOf(_contexts)


def list_bpf_program_types(query: ListBpfProgramTypes, view: View) -> ProgramTypePage:
    reference: ReferenceData = view.indexes[Source.REFERENCE]
    pairs, source, note = enum_rows(view, "bpf_prog_type", "prog_types")
    btf_index: BtfIndex | None = view.indexes.get(Source.BTF)
    ctx = contexts(btf_index.btf) if btf_index is not None else None
    if ctx is None and btf_index is not None:
        note = (note + " " if note else "") + (
            f"The kernel's BTF has no struct {CTX_CONVERT}, so which types are built in is unknown."
        )
    match = substring_matcher(query.pattern)
    rows = [(c, v) for c, v in pairs if match is None or match(c)]
    shown, w = page(rows, query.offset, query.limit)
    items = []
    for constant, value in shown:
        user, kernel = ctx.get(constant, (None, None)) if ctx is not None else (None, None)
        items.append(
            ProgramType(
                name=constant.removeprefix("BPF_PROG_TYPE_").lower(),
                constant=constant,
                value=value,
                description=_describe(reference, "prog_types", constant),
                compiled_in=(constant in ctx) if ctx is not None else None,
                user_context=user or None,
                kernel_context=kernel or None,
            )
        )
    return ProgramTypePage(
        items=tuple(items),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        source=source,
        note=note,
    )


# -- hooks -------------------------------------------------------------------------------------

LSM_PREFIX = "bpf_lsm_"
LSM_HOOK_LIST = "security_list_options"
ITER_PREFIX = "bpf_iter_"
ITER_META = "bpf_iter_meta"
STRUCT_OPS_PREFIX = "bpf_struct_ops_"
STRUCT_OPS_COMMON = "bpf_struct_ops_common_value"


def _named(btf: Btf, prefix: str, kind: Kind) -> list[int]:
    return [
        i
        for i in btf.search_names(prefix)
        if btf.kind(i) is kind and btf.name(i).startswith(prefix)
    ]


def _lsm_hooks(btf: Btf) -> list[BpfHook]:
    """`bpf_lsm_<hook>` FUNCs whose <hook> is a member of union security_list_options
    (the kernel's list of LSM hooks), which leaves out bpf_lsm.c's own helpers."""
    options = next((i for i in btf.find(LSM_HOOK_LIST) if btf.kind(i) is Kind.UNION), None)
    hooks = {m.name for m in btf.members(options)} if options is not None else None
    out = []
    for tid in _named(btf, LSM_PREFIX, Kind.FUNC):
        hook = btf.name(tid).removeprefix(LSM_PREFIX)
        if hooks is not None and hook not in hooks:
            continue
        out.append(BpfHook("lsm", hook, f'SEC("lsm/{hook}")', tid, func_prototype(btf, tid), ()))
    return out


def _is_iter_meta(btf: Btf, tid: int) -> bool:
    if btf.kind(tid) is not Kind.PTR:
        return False
    target = btf.resolve(btf.ref(tid))
    return btf.kind(target) is Kind.STRUCT and btf.name(target) == ITER_META


def _iterators(btf: Btf) -> list[BpfHook]:
    """`bpf_iter_<target>` FUNCs whose first parameter is a struct bpf_iter_meta pointer
    (what DEFINE_BPF_ITER_FUNC declares), with the context struct bpf_iter__<target>."""
    out = []
    for tid in _named(btf, ITER_PREFIX, Kind.FUNC):
        params = btf.params(btf.ref(tid))
        if not params or not _is_iter_meta(btf, params[0].type_id):
            continue
        target = btf.name(tid).removeprefix(ITER_PREFIX)
        ctx = next((i for i in btf.find(f"bpf_iter__{target}") if btf.kind(i) is Kind.STRUCT), None)
        if ctx is None:
            continue  # a helper such as bpf_iter_get_info, not a target
        out.append(
            BpfHook(
                "iterator",
                target,
                f'SEC("iter/{target}")',
                tid,
                c_definition(btf, ctx),
                tuple(_flat_members(btf, ctx)),
            )
        )
    return out


def _flat_members(btf: Btf, tid: int) -> list[str]:
    """Member declarations, with those of anonymous unions and structs (the kernel wraps
    context pointers in them) brought up to the top level."""
    out = []
    for m in btf.members(tid):
        inner = btf.resolve(m.type_id)
        if not m.name and btf.kind(inner) in (Kind.STRUCT, Kind.UNION):
            out += _flat_members(btf, inner)
        else:
            out.append(declaration(btf, m.type_id, m.name))
    return out


def _struct_ops(btf: Btf) -> list[BpfHook]:
    """Structs `bpf_struct_ops_<name>` laid out as {common, data} with data a struct
    <name>: the ops tables a BPF struct_ops map can implement (one per registered type)."""
    out = []
    for tid in _named(btf, STRUCT_OPS_PREFIX, Kind.STRUCT):
        members = btf.members(tid)
        if len(members) != 2 or [m.name for m in members] != ["common", "data"]:
            continue
        common, data = (btf.resolve(m.type_id) for m in members)
        name = btf.name(tid).removeprefix(STRUCT_OPS_PREFIX)
        if btf.name(common) != STRUCT_OPS_COMMON or btf.name(data) != name:
            continue
        ops = tuple(
            declaration(btf, m.type_id, m.name)
            for m in btf.members(data)
            if btf.kind(btf.resolve(m.type_id)) is Kind.PTR
            and btf.kind(btf.resolve(btf.ref(btf.resolve(m.type_id)))) is Kind.FUNC_PROTO
        )
        out.append(BpfHook("struct_ops", name, 'SEC(".struct_ops.link")', data, None, ops))
    return out


def _hooks(btf: Btf) -> tuple[BpfHook, ...]:
    return tuple(_lsm_hooks(btf) + _iterators(btf) + _struct_ops(btf))


all_hooks: LastOf[Btf, tuple[BpfHook, ...]] = LastOf(_hooks)


def lsm_availability(facts: SystemFacts | None) -> tuple[Verdict, str]:
    """Whether BPF LSM programs can attach here, and why."""
    if facts is None:
        return (
            "unknown",
            "Whether BPF LSM programs can run here is unknown: the system facts are not loaded.",
        )
    if facts.flag("CONFIG_BPF_LSM") == "n":
        return (
            "no",
            "BPF LSM programs cannot attach here: the kernel was built without CONFIG_BPF_LSM.",
        )
    if facts.lsms is not None:
        active = ",".join(facts.lsms)
        if "bpf" in facts.lsms:
            return "yes", f"BPF LSM programs can attach here: 'bpf' is an active LSM ({active})."
        return "no", (
            f"BPF LSM programs load but their hooks never run: 'bpf' is not an active LSM"
            f" ({active}); add it to the lsm= boot option."
        )
    lsm_default = facts.flag("CONFIG_LSM")
    if lsm_default is not None:
        where = "listed" if "bpf" in lsm_default else "not listed"
        return "unknown", (
            f"The active LSMs could not be read (mount securityfs to see them); 'bpf' is"
            f" {where} in the boot default CONFIG_LSM={lsm_default}, which lsm= may override."
        )
    return "unknown", (
        "Whether 'bpf' is an active LSM is unknown: neither securityfs nor the config was readable."
    )


def list_bpf_hooks(query: ListBpfHooks, view: View) -> BpfHookPage:
    btf: Btf = view.indexes[Source.BTF].btf
    hooks: Sequence[BpfHook] = all_hooks(btf)
    counts = {
        kind: sum(1 for h in hooks if h.kind == kind) for kind in ("lsm", "iterator", "struct_ops")
    }
    if query.kind is not None:
        hooks = [h for h in hooks if h.kind == query.kind]
    match = substring_matcher(query.pattern)
    if match is not None:
        hooks = [h for h in hooks if match(h.name)]
    shown, w = page(hooks, query.offset, query.limit)
    notes = []
    if query.kind in (None, "lsm"):
        notes.append(lsm_availability(view.indexes.get(Source.SYSTEM))[1])
    return BpfHookPage(
        items=tuple(shown),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        counts=counts,
        source=btf_origin(
            view,
            f"{LSM_PREFIX}* FUNCs named in union {LSM_HOOK_LIST}; {ITER_PREFIX}<target> FUNCs"
            f" taking struct {ITER_META} *; {STRUCT_OPS_PREFIX}<name> structs",
        ),
        notes=tuple(notes),
    )
