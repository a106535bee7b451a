"""Mutated real kallsyms text: the parser may refuse it, but only with KallsymsError."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.kallsyms import KallsymsError, SymbolTable, parse_kallsyms

from .conftest import fixture_text, render

LINES = fixture_text().splitlines(keepends=True)
# Core lines, a run of module lines, then core lines again: both shapes and their seams.
SAMPLE = (
    "".join(LINES[:40])
    + "".join(line.replace("\n", "\t[bpf]\n") for line in LINES[40:60])
    + "".join(LINES[-20:])
)
PUNCTUATION = st.sampled_from(list(" \t\n[]0123456789abcdefxTtW_.\r\0"))
JUNK = st.text(st.one_of(PUNCTUATION, st.characters()), max_size=12)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = SAMPLE
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        match draw(st.sampled_from(["delete", "insert", "replace", "truncate"])):
            case "delete":
                text = text[:where] + text[where + draw(st.integers(1, 20)) :]
            case "insert":
                text = text[:where] + draw(JUNK) + text[where:]
            case "replace":
                text = text[:where] + draw(JUNK) + text[where + 1 :]
            case _:
                text = text[:where]
    return text


@settings(derandomize=True, max_examples=200, deadline=None)
@given(mutated(), st.integers(1, 10**6))
def test_only_kallsyms_error_escapes(text: str, first_line: int) -> None:
    try:
        table = parse_kallsyms(text, first_line=first_line)
    except KallsymsError as error:
        line = error.line
    else:
        assert len(table) == len(table.names) == len(table.addresses) == len(table.types)
        assert all(len(name) > 0 for name in table.names)
        return
    # The error names a line of the text, counted from first_line.
    assert line is not None
    assert first_line <= line <= first_line + text.count("\n")


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(SAMPLE.splitlines())), max_size=6))
def test_any_split_at_line_boundaries_concatenates_to_the_whole(cuts: list[int]) -> None:
    lines = SAMPLE.splitlines(keepends=True)
    bounds = [0, *sorted(cuts), len(lines)]
    parts = [
        parse_kallsyms("".join(lines[start:end]), first_line=start + 1)
        for start, end in itertools.pairwise(bounds)
    ]
    whole = SymbolTable.concat(parts)
    assert whole == parse_kallsyms(SAMPLE)
    assert render(whole) == SAMPLE
