"""Catalogue answers read from the kernel's BTF: kfuncs, helpers, attach and link types,
program types and their contexts, and the LSM / iterator / struct_ops hooks (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import attrs

from ..btf import Btf, BtfError, Kind
from ..btf.render import func_prototype, type_name
from ..index import View
from ..index.derived import (
    CTX_CONVERT,
    ITER_META,
    ITER_PREFIX,
    KFUNC_TAG,
    LSM_HOOK_LIST,
    LSM_PREFIX,
    STRUCT_OPS_PREFIX,
)
from ..index.indexes import BtfIndex
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
from .origins import btf_origin
from .paging import page, substring_matcher, window

NO_DESCRIPTION = "No description yet: this enumerator is newer than bpf-mcp's reference data."
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
    btf_index: BtfIndex | None = view.indexes.btf
    pairs = kernel_enum(btf_index.btf, enum_name) if btf_index is not None else None
    if pairs is not None:
        return pairs, "kernel-btf", None
    reference: ReferenceData = view.reference
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


def annotation(name: str, known: Sequence[str]) -> str | None:
    """The annotation suffix a kfunc parameter name carries (`len__sz` -> `__sz`)."""
    for suffix in sorted(known, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    match = _UNKNOWN_SUFFIX.search(name)
    return "__" + match.group(1) if match else None


def kfunc(btf: Btf, tid: int, reference: ReferenceData, *, params: bool = True) -> Kfunc:
    """One kfunc: prototype, parameters with their annotations explained (unless not
    `params`), and tags."""
    tags = tuple(dict.fromkeys(name for name, component in btf.decl_tags(tid) if component == -1))
    if not params:
        return Kfunc(btf.name(tid), tid, func_prototype(btf, tid), None, tags)
    meanings = {note.name: note.text for note in reference.kfunc_annotations}
    found = []
    for p in btf.params(btf.ref(tid)):
        suffix = annotation(p.name, list(meanings))
        meaning = meanings.get(suffix) if suffix else None
        if suffix and meaning is None:
            meaning = (
                f"The name ends in {suffix}, an annotation bpf-mcp does not know; the verifier"
                " may treat this argument specially."
            )
        found.append(KfuncParam(p.name, type_name(btf, p.type_id), suffix, meaning))
    return Kfunc(btf.name(tid), tid, func_prototype(btf, tid), tuple(found), tags)


def list_kfuncs(query: ListKfuncs, view: View) -> KfuncPage:
    btf: Btf = view.btf.btf
    reference: ReferenceData = view.reference
    ids: Sequence[int] = view.btf.kfunc_ids
    match = substring_matcher(query.pattern)
    if match is not None:
        ids = [i for i in ids if match(btf.name(i))]
    shown, w = page(ids, query.offset, query.limit)
    return KfuncPage(
        items=tuple(kfunc(btf, i, reference, params=query.include_params) for i in shown),
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
    reference: ReferenceData = view.reference
    pairs, source, why = enum_rows(view, "bpf_func_id", "helpers")
    pairs = [(c, v) for c, v in pairs if v != 0]  # BPF_FUNC_unspec is no helper
    match = substring_matcher(query.pattern)
    if match is not None:
        pairs = [(c, v) for c, v in pairs if match(c)]
    shown, w = page(pairs, query.offset, query.limit)
    btf_index: BtfIndex | None = view.indexes.btf
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
    reference: ReferenceData = view.reference
    match = substring_matcher(query.pattern)
    out: list[list[EnumEntry]] = []
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
            [
                EnumEntry(
                    name=constant.removeprefix(prefix).lower(),
                    constant=constant,
                    value=value,
                    description=_describe(reference, table, constant),
                )
                for constant, value in pairs
                if match is None or match(constant)
            ]
        )
    # One page runs over the attach types, then the link types.
    attach, link = out
    w = window(len(attach) + len(link), query.offset, query.limit)
    return AttachTypePage(
        attach_types=tuple(attach[w.start : w.stop]),
        link_types=tuple(link[max(0, w.start - len(attach)) : max(0, w.stop - len(attach))]),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        source="kernel-btf" if sources == ["kernel-btf", "kernel-btf"] else "builtin",
        note=" ".join(notes) or None,
    )


# -- program types ----------------------------------------------------------------------------


def list_bpf_program_types(query: ListBpfProgramTypes, view: View) -> ProgramTypePage:
    reference: ReferenceData = view.reference
    pairs, source, note = enum_rows(view, "bpf_prog_type", "prog_types")
    btf_index: BtfIndex | None = view.indexes.btf
    ctx = btf_index.contexts if btf_index is not None else None
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
    hooks: Sequence[BpfHook] = view.btf.hooks
    counts = {
        kind: sum(1 for h in hooks if h.kind == kind) for kind in ("lsm", "iterator", "struct_ops")
    }
    if query.kind is not None:
        hooks = [h for h in hooks if h.kind == query.kind]
    match = substring_matcher(query.pattern)
    if match is not None:
        hooks = [h for h in hooks if match(h.name)]
    shown, w = page(hooks, query.offset, query.limit)
    if not query.include_details:
        shown = [attrs.evolve(h, prototype=None, members=None) for h in shown]
    notes = []
    if query.kind in (None, "lsm"):
        notes.append(lsm_availability(view.indexes.system)[1])
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
