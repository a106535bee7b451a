"""Pure parsers for tracefs text: text in, frozen values out; no I/O."""

from bpf_mcp.tracefs.errors import FormatError
from bpf_mcp.tracefs.events import parse_available_events
from bpf_mcp.tracefs.format import EventFormat, Field, parse_format
from bpf_mcp.tracefs.records import BrokenEvent, TracefsChunk, TracepointRecord

__all__ = [
    "BrokenEvent",
    "EventFormat",
    "Field",
    "FormatError",
    "TracefsChunk",
    "TracepointRecord",
    "parse_available_events",
    "parse_format",
]
