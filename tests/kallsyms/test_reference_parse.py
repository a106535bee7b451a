"""parse_kallsyms against a plain line-by-line reading of the same format.

The parser reads whole columns at once (by fixed offsets or by tokens); the reference here
reads one line at a time with a regular expression, so any shortcut in the column code
that accepts a line the format forbids, or misreads one, shows as a difference.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.kallsyms import KallsymsError, parse_kallsyms
from bpf_mcp.testing.kallsyms import mutated, sample

from .conftest import fixture_text

SAMPLE = sample(fixture_text())

_LINE = re.compile(r"([0-9a-fA-F]{1,16}) ([A-Za-z]) (\S+)(?:\t\[([^\[\]\s]+)\])?", re.ASCII)
_NO_SPACE = re.compile(r"\S+")


def reference(text: str) -> list[tuple[str, int, str, str | None]] | int:
    """Each line's (name, address, letter, module), or the 1-based number of the first
    line that is not `<hex> <letter> <name>[\\t[module]]`."""
    body = text.removesuffix("\n")
    if not body:
        return 1 if text else []
    rows = []
    for number, line in enumerate(body.split("\n"), start=1):
        match = _LINE.fullmatch(line)
        # str.split's whitespace (Unicode) must be absent from names and modules, too.
        if match is None or any(
            part is not None and not _NO_SPACE.fullmatch(part) for part in match.groups()
        ):
            return number
        address, letter, name, module = match.groups()
        rows.append((name, int(address, 16), letter, module))
    return rows


def parsed(text: str) -> list[tuple[str, int, str, str | None]] | int:
    try:
        table = parse_kallsyms(text)
    except KallsymsError as error:
        return error.line if error.line is not None else -1
    return [
        (table.names[i], table.addresses[i], table.types[i], table.modules[i])
        for i in range(len(table))
    ]


def test_fixture_equals_reference() -> None:
    text = fixture_text()
    assert parsed(text) == reference(text)


def test_sample_equals_reference() -> None:
    assert parsed(SAMPLE) == reference(SAMPLE)


def test_core_lines_in_other_widths_equal_reference() -> None:
    core = "".join(fixture_text().splitlines(keepends=True)[:50])
    narrow = "\n".join(line[8:] for line in core.splitlines()) + "\n"
    assert parsed(narrow) == reference(narrow)
    mixed = core.replace("ffffffff8", "8", 1)
    assert parsed(mixed) == reference(mixed)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(mutated(SAMPLE))
def test_mutations_equal_reference(text: str) -> None:
    assert parsed(text) == reference(text)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ffffffff81000000", "00000000", "0000000000000000", "abc"]),
            st.sampled_from([" ", "  ", "\t", " \u00a0"]),
            st.sampled_from(["T", "t", "W", "1", "TT", ""]),
            st.sampled_from([" ", "  ", "\x1c"]),
            st.sampled_from(
                ["vfs_read", "a", "", "a b", "a\x85b", "x.isra.0", "\u00e9", "\u00e9 ", "a\x80 "]
            ),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_near_miss_core_lines_equal_reference(parts: list[tuple[str, ...]]) -> None:
    text = "".join("".join(line) + "\n" for line in parts)
    assert parsed(text) == reference(text)
