"""Captured kernel text with a few drawn edits: what the text parsers are fuzzed with."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

EDITS = ("delete", "insert", "replace", "truncate")


@st.composite
def edited(
    draw: st.DrawFn, texts: Sequence[str], junk: st.SearchStrategy[str], *, lines: bool
) -> str:
    """One of `texts` with one to four edits at drawn places: a deletion, an insertion or
    a one-character replacement of `junk`, a truncation, and (`lines`) two lines swapped
    and perhaps one repeated."""
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        match draw(st.sampled_from([*EDITS, "lines"] if lines else EDITS)):
            case "delete":
                text = text[:where] + text[where + draw(st.integers(1, 20)) :]
            case "insert":
                text = text[:where] + draw(junk) + text[where:]
            case "replace":
                text = text[:where] + draw(junk) + text[where + 1 :]
            case "truncate":
                text = text[:where]
            case _:
                split = text.split("\n")
                first = draw(st.integers(0, len(split) - 1))
                second = draw(st.integers(0, len(split) - 1))
                split[first], split[second] = split[second], split[first]
                if draw(st.booleans()):
                    split.insert(first, split[second])
                text = "\n".join(split)
    return text
