"""List answers that need no module of their own: tracepoints, map types, status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from ..index import View
from ..index.indexes import TracefsIndex
from ..queries import ListBpfMapTypes, ListTracepoints
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
from ..tracefs import TracepointRecord
from . import catalog
from .paging import page, substring_matcher


def _tracepoint(record: TracepointRecord, query: ListTracepoints) -> Tracepoint:
    fmt = record.format
    fields = None
    if query.include_fields:
        fields = tuple(
            TracepointField(f.name, f.c_type, f.offset, f.size, f.signed, f.common)
            for f in fmt.fields
        )
    return Tracepoint(
        name=record.name,
        category=record.category,
        event=record.event,
        id=fmt.id,
        field_count=sum(1 for f in fmt.fields if not f.common),
        fields=fields,
        format=record.raw if query.include_format else None,
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
        items=tuple(_tracepoint(r, query) for r in shown),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        tracefs=index.mount,
    )


def enum_page(query: ListBpfMapTypes, view: View) -> EnumPage:
    reference: ReferenceData = view.reference
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


def iso_utc(ts: float) -> str:
    """`ts` (Unix time) as UTC ISO 8601 to the second."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def status_info(status: SourceStatus, now: float) -> SourceStatusInfo:
    """The JSON-facing form of one source's status."""
    failure = status.failure
    return SourceStatusInfo(
        source=status.source.value,
        state=status.state,
        since=iso_utc(status.since),
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
