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
class TracefsChunk:
    """What the tracefs reader sends: where it read, and a batch of events."""

    mount: str
    records: tuple[TracepointRecord, ...]
