"""Kernel function answers: get_kernel_function and list_kernel_functions (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from ..btf import Kind
from ..btf.render import func_prototype
from ..errors import NotFound, SourceUnavailable
from ..index import View
from ..index.derived import TextAreas
from ..index.indexes import BtfIndex, KallsymsIndex
from ..kallsyms import is_clone
from ..queries import GetKernelFunction, ListKernelFunctions
from ..results import (
    AttachVerdict,
    KernelFunction,
    KernelFunctionDetail,
    KernelFunctionPage,
    Mechanism,
    SymbolEntry,
)
from ..sources import Source
from ..system import SystemFacts
from .attach import (
    FunctionFacts,
    Triage,
    clone_rows,
    kernel_findings,
    verdicts,
)
from .origins import origin
from .paging import page
from .suggest import CONTAINING, close_names, did_you_mean

HIDDEN_ADDRESSES_NOTE = (
    "Every address in /proc/kallsyms read as zero: the kernel hides them from this reader"
    " (kernel.kptr_restrict, or the server is not root / lacks CAP_SYSLOG). Run bpf-mcp as"
    " root to see addresses."
)


def _symbol(index: KallsymsIndex, areas: TextAreas, row: int) -> SymbolEntry:
    table = index.table
    sym = table[row]
    return SymbolEntry(
        name=sym.name,
        address=None if areas.hidden else f"0x{sym.address:016x}",
        module=sym.module,
        symbol_type=sym.symbol_type,
        section=areas.area(table, row),
    )


def function_facts(view: View, name: str, areas: TextAreas | None = None) -> FunctionFacts:
    """What kallsyms and BTF say about `name` (kallsyms must be loaded); pass `areas`
    when asking about many names of the same index."""
    index: KallsymsIndex = view.kallsyms
    btf_index: BtfIndex | None = view.indexes.btf
    btf_ids = None
    if btf_index is not None:
        btf = btf_index.btf
        btf_ids = tuple(i for i in btf.find(name) if btf.kind(i) is Kind.FUNC)
    return FunctionFacts(
        name=name,
        exact=tuple(index.rows_named(name)),
        clones=tuple(clone_rows(index, name)),
        btf_ids=btf_ids,
        table=index.table,
        areas=areas if areas is not None else index.areas,
    )


def _sources(view: View) -> str:
    parts = [f"kallsyms {origin(view, Source.KALLSYMS)}"]
    if view.indexes.btf is not None:
        parts.append(f"BTF {origin(view, Source.BTF)}")
    facts: SystemFacts | None = view.indexes.system
    if facts is not None:
        consulted = [
            f.path
            for f in facts.files
            if f.role
            in (
                "config",
                "perf event sources",
                "kprobe_events",
                "ftrace functions",
                "kprobe blacklist",
            )
        ]
        parts.append("system " + ", ".join(consulted))
    return "; ".join(parts)


def get_kernel_function(query: GetKernelFunction, view: View) -> KernelFunctionDetail:
    """Every symbol and clone of the name, its BTF prototype and the attach verdicts.

    Raises NotFound, with near names, when neither kallsyms nor BTF knows the name.
    """
    name = query.name.strip()
    fn = function_facts(view, name)
    if not fn.exact and not fn.clones and not fn.btf_ids:
        index: KallsymsIndex = view.kallsyms
        names = index.table.names
        functions = index.functions
        containing = index.search_functions.search(name, CONTAINING)
        near = close_names(name, index.near, (names[functions[i]] for i in containing))
        raise NotFound(
            f"No kernel function named {name!r} in /proc/kallsyms or the kernel's BTF."
            + did_you_mean(near)
        )
    index = view.kallsyms
    assert fn.areas is not None
    btf_index: BtfIndex | None = view.indexes.btf
    btf_id = fn.btf_ids[0] if fn.btf_ids else None
    prototype = func_prototype(btf_index.btf, btf_id) if btf_index is not None and btf_id else None
    return KernelFunctionDetail(
        name=name,
        symbols=tuple(_symbol(index, fn.areas, row) for row in fn.exact),
        clones=tuple(_symbol(index, fn.areas, row) for row in fn.clones),
        btf_id=btf_id,
        prototype=prototype,
        verdicts=verdicts(fn, view.indexes.system),
        addresses_hidden=fn.areas.hidden,
        source=_sources(view),
    )


def _require_btf(view: View, what: str) -> BtfIndex:
    btf_index: BtfIndex | None = view.indexes.btf
    if btf_index is None:
        status = view.statuses.get(Source.BTF)
        why = (
            status.failure.sentence()
            if status is not None and status.failure is not None
            else "The kernel's BTF is not loaded."
        )
        raise SourceUnavailable(f"{what} needs the kernel's BTF. {why}")
    return btf_index


def list_kernel_functions(query: ListKernelFunctions, view: View) -> KernelFunctionPage:
    """Text symbols by name, optionally only those with BTF, without clones, or not ruled
    out for an attach mechanism (each item then carries its verdict)."""
    index: KallsymsIndex = view.kallsyms
    table = index.table
    names = table.names
    ids: Sequence[int] = index.with_padding if query.include_padding else index.functions
    if query.pattern:
        search = index.search_with_padding if query.include_padding else index.search_functions
        ids = [ids[position] for position in search.search(query.pattern)]
    if not query.include_clones:
        ids = [row for row in ids if not is_clone(names[row])]
    btf_names = None
    if query.has_btf is not None or query.attachable in ("fentry", "fexit"):
        btf_names = _require_btf(view, "Filtering on BTF").func_names
    if query.has_btf is not None:
        assert btf_names is not None
        wanted = query.has_btf
        ids = [row for row in ids if (names[row] in btf_names) == wanted]
    if query.attachable is not None:
        triage = Triage(query.attachable, index, btf_names, view.indexes.system)
        ids = [row for row in ids if triage.level(row) != "no"]
    shown, w = page(ids, query.offset, query.limit)
    judged: dict[int, AttachVerdict] = {}
    if query.attachable is not None:
        judged = _judge(view, index, shown, query.attachable)
    hidden = index.areas.hidden
    addresses, types, modules = table.addresses, table.types, table.modules
    items = []
    for row in shown:
        name = names[row]
        items.append(
            KernelFunction(
                name,
                None if hidden else f"0x{addresses[row]:016x}",
                modules[row],
                types[row],
                has_btf=(name in btf_names) if btf_names is not None else None,
                verdict=judged.get(row),
            )
        )
    return KernelFunctionPage(
        items=tuple(items),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        addresses_hidden=hidden,
        note=HIDDEN_ADDRESSES_NOTE if hidden else None,
    )


def _judge(
    view: View, index: KallsymsIndex, rows: Sequence[int], mechanism: Mechanism
) -> dict[int, AttachVerdict]:
    """The full verdict of `mechanism` for the function of each row."""
    facts: SystemFacts | None = view.indexes.system
    names = index.table.names
    areas = index.areas
    kernel = kernel_findings(facts)
    judged: dict[int, AttachVerdict] = {}
    for row in rows:
        fn = function_facts(view, names[row], areas)
        (judged[row],) = verdicts(fn, facts, (mechanism,), kernel)
    return judged
