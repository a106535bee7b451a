"""Mutated real kallsyms text: the parser may refuse it, but only with KallsymsError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.testing.kallsyms import (
    mutated,
    only_kallsyms_error_escapes,
    sample,
    splits_concatenate_to_the_whole,
)

from .conftest import fixture_text

SAMPLE = sample(fixture_text())


@settings(derandomize=True, max_examples=200, deadline=None)
@given(mutated(SAMPLE), st.integers(1, 10**6))
def test_only_kallsyms_error_escapes(text: str, first_line: int) -> None:
    only_kallsyms_error_escapes(text, first_line)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(SAMPLE.splitlines())), max_size=6))
def test_any_split_at_line_boundaries_concatenates_to_the_whole(cuts: list[int]) -> None:
    splits_concatenate_to_the_whole(SAMPLE, cuts)
