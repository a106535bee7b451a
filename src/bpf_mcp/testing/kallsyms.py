"""kallsyms text: rendered from a table, sampled from a capture, and mutated, with the
properties the parser keeps over mutated text (only KallsymsError escapes; pieces split
at line boundaries concatenate to the whole)."""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

from bpf_mcp.kallsyms import KallsymsError, SymbolTable, parse_kallsyms
from bpf_mcp.testing.text import edited

PUNCTUATION = st.sampled_from(list(" \t\n[]0123456789abcdefxTtW_.\r\0"))
"""Characters that matter to the grammar; mutations mix them with any character."""
JUNK = st.text(st.one_of(PUNCTUATION, st.characters()), max_size=12)


def render(table: SymbolTable) -> str:
    """The kallsyms text `table` was parsed from (for 16-digit addresses)."""
    lines = []
    for index in range(len(table)):
        symbol = table[index]
        line = f"{symbol.address:016x} {symbol.symbol_type} {symbol.name}"
        if symbol.module is not None:
            line += f"\t[{symbol.module}]"
        lines.append(line + "\n")
    return "".join(lines)


def sample(text: str) -> str:
    """Core lines of kallsyms `text`, a run of them as module lines, then core lines again:
    both shapes and their seams, small enough to mutate."""
    lines = text.splitlines(keepends=True)
    return (
        "".join(lines[:40])
        + "".join(line.replace("\n", "\t[bpf]\n") for line in lines[40:60])
        + "".join(lines[-20:])
    )


def mutated(text: str) -> st.SearchStrategy[str]:
    """`text` with a few edits."""
    return edited([text], JUNK, lines=False)


def only_kallsyms_error_escapes(text: str, first_line: int) -> None:
    """Parsing `text` gives a consistent table, or a KallsymsError naming one of its lines
    (counted from `first_line`); anything else fails the property."""
    try:
        table = parse_kallsyms(text, first_line=first_line)
    except KallsymsError as error:
        line = error.line
    else:
        assert len(table) == len(table.names) == len(table.addresses) == len(table.types)
        assert all(len(name) > 0 for name in table.names)
        return
    assert line is not None
    assert first_line <= line <= first_line + text.count("\n")


def splits_concatenate_to_the_whole(text: str, cuts: list[int]) -> None:
    """`text` parsed in pieces cut at the line numbers `cuts` concatenates to `text` parsed
    whole, and renders back to `text`."""
    lines = text.splitlines(keepends=True)
    bounds = [0, *sorted(cuts), len(lines)]
    parts = [
        parse_kallsyms("".join(lines[start:end]), first_line=start + 1)
        for start, end in itertools.pairwise(bounds)
    ]
    whole = SymbolTable.concat(parts)
    assert whole == parse_kallsyms(text)
    assert render(whole) == text
