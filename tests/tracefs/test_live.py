"""The parsers against the running kernel's tracefs; skipped where it is not readable."""

from __future__ import annotations

import pytest

from bpf_mcp.tracefs import parse_available_events, parse_format

from .conftest import live_tracefs_or_skip

pytestmark = pytest.mark.live


def test_live_available_events_and_every_format() -> None:
    tracefs = live_tracefs_or_skip()
    text = (tracefs / "available_events").read_text()
    events = parse_available_events(text)
    assert len(events) == sum(1 for line in text.splitlines() if line.strip())
    parsed = 0
    for path in sorted(tracefs.glob("events/*/*/format")):
        try:
            text = path.read_text()
        except FileNotFoundError:
            continue  # the event went away (a module unloaded) since the listing
        fmt = parse_format(text)
        assert fmt.name == path.parent.name
        parsed += 1
    assert parsed >= len(events)
