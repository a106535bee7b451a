"""Pure answers: (query, indexes) -> result value. No I/O, no trio."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import attrs

from ..btf import Btf, Kind
from ..queries import (
    CompleteNames,
    DescribeBtfType,
    GenerateCHeader,
    GetBtfTypes,
    GetServerStatus,
    ListBpfMapTypes,
    ListBpfProgramTypes,
    ListKernelFunctions,
    ListTracepoints,
)
from ..reference import ReferenceData, ReferenceEntry
from ..results import (
    EnumEntry,
    EnumPage,
    FailureInfo,
    KernelFunction,
    KernelFunctionPage,
    ServerStatus,
    SourceStatusInfo,
    Tracepoint,
    TracepointField,
    TracepointPage,
)
from ..sources import Source
from ..status import SourceStatus
from . import btf_answers
from .complete import complete
from .indexes import BtfIndex, KallsymsIndex, TracefsIndex, TracepointRecord
from .paging import page, substring_matcher


@attrs.frozen
class View:
    """What a query may read: the ready indexes, the statuses, and the server's settings."""

    indexes: Mapping[Source, Any]
    statuses: Mapping[Source, SourceStatus]
    sysroot: str = "/"
    refresh_interval: float = 5.0


def answer(query: Any, view: View) -> Any:
    """The result of `query` over `view`. Raises InvalidArgument / NotFound for bad input."""
    match query:
        case ListTracepoints():
            return list_tracepoints(query, view.indexes[Source.TRACEFS])
        case ListKernelFunctions():
            return list_kernel_functions(query, view.indexes[Source.KALLSYMS])
        case GetBtfTypes():
            return btf_answers.get_btf_types(query, view.indexes[Source.BTF])
        case DescribeBtfType():
            return btf_answers.describe_btf_type(query, view.indexes[Source.BTF])
        case GenerateCHeader():
            return btf_answers.generate_c_header(query, view.indexes[Source.BTF])
        case ListBpfProgramTypes():
            return enum_page(query, view, "prog_types")
        case ListBpfMapTypes():
            return enum_page(query, view, "map_types")
        case GetServerStatus():
            return server_status(view, time.time())
        case CompleteNames():
            return complete(query.what, query.prefix, dict(query.context), view.indexes)
    raise TypeError(f"no answer for {type(query).__name__}")


def _tracepoint(record: TracepointRecord, include_format: bool) -> Tracepoint:
    fmt = record.format
    return Tracepoint(
        name=record.name,
        category=record.category,
        event=record.event,
        id=fmt.id,
        fields=tuple(
            TracepointField(f.name, f.c_type, f.offset, f.size, f.signed, f.common)
            for f in fmt.fields
        ),
        format=record.raw if include_format else None,
    )


def list_tracepoints(query: ListTracepoints, index: TracefsIndex) -> TracepointPage:
    records: Sequence[TracepointRecord] = index.records
    by_category = substring_matcher(query.category)
    if by_category is not None:
        records = [r for r in records if by_category(r.category)]
    by_name = substring_matcher(query.pattern)
    if by_name is not None:
        records = [r for r in records if by_name(r.name)]
    shown, w = page(records, query.offset, query.limit)
    return TracepointPage(
        items=tuple(_tracepoint(r, query.include_format) for r in shown),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        tracefs=index.mount,
    )


HIDDEN_ADDRESSES_NOTE = (
    "Every address in /proc/kallsyms read as zero: the kernel hides them from this reader"
    " (kernel.kptr_restrict, or the server is not root / lacks CAP_SYSLOG). Run bpf-mcp as"
    " root to see addresses."
)


def list_kernel_functions(query: ListKernelFunctions, index: KallsymsIndex) -> KernelFunctionPage:
    ids: Sequence[int] = index.with_padding if query.include_padding else index.functions
    if query.pattern:
        search = index.search_with_padding if query.include_padding else index.search_functions
        ids = [ids[position] for position in search.search(query.pattern)]
    shown, w = page(ids, query.offset, query.limit)
    table = index.table
    hidden = table.addresses_hidden
    items = []
    for i in shown:
        sym = table[i]
        address = None if hidden else f"0x{sym.address:016x}"
        items.append(KernelFunction(sym.name, address, sym.module, sym.symbol_type))
    return KernelFunctionPage(
        items=tuple(items),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        addresses_hidden=hidden,
        note=HIDDEN_ADDRESSES_NOTE if hidden else None,
    )


_ENUMS = {
    "prog_types": ("bpf_prog_type", "BPF_PROG_TYPE_"),
    "map_types": ("bpf_map_type", "BPF_MAP_TYPE_"),
}


def _short(constant: str, prefix: str) -> str:
    return constant.removeprefix(prefix).lower()


def kernel_enum(btf: Btf, enum_name: str) -> list[tuple[str, int]] | None:
    """(enumerator, value) pairs of `enum enum_name` in BTF, sentinels ('__*') left out."""
    for tid in btf.find(enum_name):
        if btf.kind(tid) in (Kind.ENUM, Kind.ENUM64):
            return [(v.name, v.value) for v in btf.enum_values(tid) if not v.name.startswith("__")]
    return None


def enum_page(
    query: ListBpfProgramTypes | ListBpfMapTypes,
    view: View,
    table: Literal["prog_types", "map_types"],
) -> EnumPage:
    reference: ReferenceData = view.indexes[Source.REFERENCE]
    enum_name, prefix = _ENUMS[table]
    btf_index: BtfIndex | None = view.indexes.get(Source.BTF)
    pairs = kernel_enum(btf_index.btf, enum_name) if btf_index is not None else None
    note = None
    source: Literal["kernel-btf", "builtin"] = "kernel-btf"
    if pairs is None:
        source = "builtin"
        rows: tuple[ReferenceEntry, ...] = getattr(reference, table)
        pairs = [(e.constant, e.value) for e in rows]
        status = view.statuses.get(Source.BTF)
        why = (
            status.failure.sentence()
            if status is not None and status.failure is not None
            else f"the kernel's BTF has no enum {enum_name}."
        )
        note = f"Built-in table of Linux 6.18 used because {why}"
    entries = [
        EnumEntry(
            name=_short(constant, prefix),
            constant=constant,
            value=value,
            description=reference.description(table, constant)
            or "No description yet: this enumerator is newer than bpf-mcp's reference data.",
        )
        for constant, value in pairs
    ]
    match = substring_matcher(query.pattern)
    if match is not None:
        entries = [e for e in entries if match(e.constant)]
    shown, w = page(entries, query.offset, query.limit)
    return EnumPage(
        items=tuple(shown),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        source=source,
        note=note,
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def status_info(status: SourceStatus, now: float) -> SourceStatusInfo:
    """The JSON-facing form of one source's status."""
    failure = status.failure
    return SourceStatusInfo(
        source=status.source.value,
        state=status.state,
        since=_iso(status.since),
        origin=status.origin,
        summary=status.summary,
        data_age_seconds=(
            round(max(0.0, now - status.loaded_at), 3) if status.loaded_at is not None else None
        ),
        failures=status.failures,
        restarts=status.restarts,
        gave_up=status.gave_up,
        next_attempt_in=status.next_attempt_in,
        last_error=(
            FailureInfo(
                failure.cause, failure.path, failure.detail, failure.fix, failure.sentence()
            )
            if failure is not None
            else None
        ),
    )


def server_status(view: View, now: float) -> ServerStatus:
    return ServerStatus(
        sources=tuple(status_info(view.statuses[s], now) for s in Source if s in view.statuses),
        sysroot=view.sysroot,
        refresh_interval=view.refresh_interval,
    )


__all__ = ["View", "answer"]
