"""What the tracefs reader hands on: events with their parsed formats (pure values)."""

from __future__ import annotations

import attrs

from .format import EventFormat


@attrs.frozen
class TracepointRecord:
    """One event of `available_events` with its parsed format and the raw text."""

    category: str
    event: str
    format: EventFormat
    raw: str

    @property
    def name(self) -> str:
        return f"{self.category}:{self.event}"


@attrs.frozen
class BrokenEvent:
    """An event `available_events` lists whose format file could not be read or parsed."""

    name: str
    reason: str


@attrs.frozen
class TracefsChunk:
    """What the tracefs reader sends: where it read, a batch of events, and the events of
    the batch whose format failed."""

    mount: str
    records: tuple[TracepointRecord, ...]
    broken: tuple[BrokenEvent, ...] = ()
