"""Mutated real tracefs text: the parsers may refuse it, but only with FormatError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.testing.tracefs import (
    PUNCTUATION,
    events_refused_only_with_format_error,
    events_sample,
    format_refused_only_with_format_error,
    format_samples,
    mutated,
)

from .conftest import FIXTURE_TRACEFS

SAMPLES = format_samples(FIXTURE_TRACEFS)
EVENTS = events_sample(FIXTURE_TRACEFS)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(mutated(SAMPLES))
def test_parse_format_raises_only_format_error(text: str) -> None:
    format_refused_only_with_format_error(text)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(mutated([EVENTS]))
def test_parse_available_events_raises_only_format_error(text: str) -> None:
    events_refused_only_with_format_error(text)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.text(st.one_of(PUNCTUATION, st.characters()), max_size=200))
def test_parse_format_on_arbitrary_text(text: str) -> None:
    format_refused_only_with_format_error(text)
