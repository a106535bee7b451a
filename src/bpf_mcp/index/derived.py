"""Sets derived from a source's data once, when its index is built (pure; no I/O).

Answers read these from the index instead of deriving them per query; none is cached
anywhere else.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

import attrs

from ..btf import Btf, Kind
from ..btf.render import c_definition, declaration, func_prototype, type_name
from ..kallsyms import SymbolTable
from ..results import BpfHook

KFUNC_TAG = "bpf_kfunc"
RAW_PREFIX = "btf_trace_"


# -- BTF --------------------------------------------------------------------------------------


def func_names(btf: Btf) -> frozenset[str]:
    """The names of every FUNC in a BTF object."""
    return frozenset(btf.name(tid) for tid in btf.ids_of_kind(Kind.FUNC))


def kfunc_ids(btf: Btf) -> tuple[int, ...]:
    """The FUNCs tagged bpf_kfunc, by name."""
    ids = {btf.ref(tag) for tag in btf.ids_of_kind(Kind.DECL_TAG) if btf.name(tag) == KFUNC_TAG}
    return tuple(sorted((i for i in ids if btf.kind(i) is Kind.FUNC), key=btf.name))


CTX_CONVERT = "bpf_ctx_convert"


def contexts(btf: Btf) -> dict[str, tuple[str, str]] | None:
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


def hooks(btf: Btf) -> tuple[BpfHook, ...]:
    return tuple(_lsm_hooks(btf) + _iterators(btf) + _struct_ops(btf))


def raw_typedefs(btf: Btf) -> tuple[int, ...]:
    """Every `btf_trace_*` typedef of a BTF object, by name."""
    ids = [
        i
        for i in btf.search_names(RAW_PREFIX)
        if btf.kind(i) is Kind.TYPEDEF and btf.name(i).startswith(RAW_PREFIX)
    ]
    return tuple(sorted(ids, key=btf.name))


# -- kallsyms ---------------------------------------------------------------------------------


def rows_named(table: SymbolTable, functions: Sequence[int], name: str) -> list[int]:
    """Rows of the text symbols named exactly `name`, in file order (`functions`: the text
    rows sorted by name)."""
    key = table.names.__getitem__
    start = bisect.bisect_left(functions, name, key=key)
    stop = bisect.bisect_right(functions, name, lo=start, key=key)
    return list(functions[start:stop])


def repeated_names(table: SymbolTable, functions: Sequence[int]) -> frozenset[str]:
    """The text symbol names kallsyms lists more than once."""
    names = table.names
    ordered = [names[row] for row in functions]
    return frozenset(a for a, b in itertools.pairwise(ordered) if a == b)


_AREAS = (
    ("init", "_sinittext", "_einittext"),
    ("entry", "__entry_text_start", "__entry_text_end"),
    ("noinstr", "__noinstr_text_start", "__noinstr_text_end"),
    ("kprobes", "__kprobes_text_start", "__kprobes_text_end"),
)


@attrs.frozen
class TextAreas:
    """Address ranges of the kernel's special text areas, from kallsyms markers."""

    ranges: tuple[tuple[str, int, int], ...]
    hidden: bool

    def area(self, table: SymbolTable, row: int) -> str | None:
        """The area of symbol `row`: "text" or one of `_AREAS`; None when addresses are
        hidden or the symbol belongs to a module (areas are the core kernel's)."""
        if self.hidden:
            return None
        if table.modules[row] is not None:
            return "text"
        address = table.addresses[row]
        for area, start, end in self.ranges:
            if start <= address < end:
                return area
        return "text"


def text_areas(table: SymbolTable, functions: Sequence[int]) -> TextAreas:
    """The areas whose start and end markers this kallsyms lists."""
    ranges = []
    for area, start_name, end_name in _AREAS:
        start = rows_named(table, functions, start_name)
        end = rows_named(table, functions, end_name)
        if start and end:
            ranges.append((area, table.addresses[start[0]], table.addresses[end[0]]))
    return TextAreas(tuple(ranges), table.addresses_hidden)
