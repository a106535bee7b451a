"""Pure answers: (query, indexes) -> result value. No I/O, no trio."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from ..queries import (
    CompleteNames,
    DescribeBtfType,
    GenerateCHeader,
    GetBtfTypes,
    GetKernelFunction,
    GetKernelInfo,
    GetServerStatus,
    GetTracepoint,
    ListBpfAttachTypes,
    ListBpfHelpers,
    ListBpfHooks,
    ListBpfMapTypes,
    ListBpfProgramTypes,
    ListKernelFunctions,
    ListKfuncs,
    ListRawTracepoints,
    ListTracepoints,
)
from ..reference import ReferenceData
from ..results import (
    EnumEntry,
    EnumPage,
    FailureInfo,
    ServerStatus,
    SourceStatusInfo,
    Tracepoint,
    TracepointField,
    TracepointPage,
)
from ..sources import Source
from ..status import SourceStatus
from . import btf_answers, catalog, functions, kernel_info, tracepoints
from .complete import complete
from .indexes import TracefsIndex, TracepointRecord
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
            return functions.list_kernel_functions(query, view)
        case GetKernelFunction():
            return functions.get_kernel_function(query, view)
        case GetTracepoint():
            return tracepoints.get_tracepoint(query, view)
        case ListRawTracepoints():
            return tracepoints.list_raw_tracepoints(query, view)
        case ListKfuncs():
            return catalog.list_kfuncs(query, view)
        case ListBpfHelpers():
            return catalog.list_bpf_helpers(query, view)
        case ListBpfAttachTypes():
            return catalog.list_bpf_attach_types(query, view)
        case ListBpfHooks():
            return catalog.list_bpf_hooks(query, view)
        case GetKernelInfo():
            return kernel_info.get_kernel_info(query, view)
        case GetBtfTypes():
            return btf_answers.get_btf_types(query, view.indexes[Source.BTF])
        case DescribeBtfType():
            return btf_answers.describe_btf_type(query, view.indexes[Source.BTF])
        case GenerateCHeader():
            return btf_answers.generate_c_header(query, view.indexes[Source.BTF])
        case ListBpfProgramTypes():
            return catalog.list_bpf_program_types(query, view)
        case ListBpfMapTypes():
            return enum_page(query, view)
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


def enum_page(query: ListBpfMapTypes, view: View) -> EnumPage:
    reference: ReferenceData = view.indexes[Source.REFERENCE]
    pairs, source, note = catalog.enum_rows(view, "bpf_map_type", "map_types")
    entries = [
        EnumEntry(
            name=constant.removeprefix("BPF_MAP_TYPE_").lower(),
            constant=constant,
            value=value,
            description=reference.description("map_types", constant) or catalog.NO_DESCRIPTION,
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
