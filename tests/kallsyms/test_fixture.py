"""parse_kallsyms against the /proc/kallsyms captured from a real 6.18 kernel."""

from __future__ import annotations

from collections import Counter

import pytest

from bpf_mcp.kallsyms import KallsymsError, SymbolTable, base_name, is_padding, parse_kallsyms
from bpf_mcp.testing.kallsyms import render

from .conftest import fixture_text

CHUNK_LINES = 16384


def test_counts() -> None:
    text = fixture_text()
    table = parse_kallsyms(text)
    assert len(table) == text.count("\n") == 122_165
    text_rows = [i for i in range(len(table)) if table.is_text(i)]
    assert len(text_rows) == 122_091
    assert sum(is_padding(table.names[i]) for i in text_rows) == 57_851
    assert sum(table.names[i].endswith(".cold") for i in text_rows) == 2_949
    plain_functions = [
        table.names[i]
        for i in text_rows
        if not is_padding(table.names[i]) and base_name(table.names[i]) == table.names[i]
    ]
    assert sum(1 for count in Counter(plain_functions).values() if count > 1) == 281
    assert not table.addresses_hidden
    assert set(table.modules) == {None}
    assert table[0].name == "srso_alias_untrain_ret"


def test_clones_have_their_bases() -> None:
    table = parse_kallsyms(fixture_text())
    clones = [name for name in table.names if base_name(name) != name]
    assert any(".isra." in name for name in clones)
    assert any(".constprop." in name for name in clones)
    assert any(".part." in name for name in clones)
    assert all("." not in base_name(name) or ".cold" not in name for name in clones)


def test_render_round_trip() -> None:
    text = fixture_text()
    assert render(parse_kallsyms(text)) == text


def test_chunked_parse_equals_whole() -> None:
    text = fixture_text()
    lines = text.splitlines(keepends=True)
    chunks = [
        parse_kallsyms("".join(lines[start : start + CHUNK_LINES]), first_line=start + 1)
        for start in range(0, len(lines), CHUNK_LINES)
    ]
    assert SymbolTable.concat(chunks) == parse_kallsyms(text)


def test_error_in_a_late_chunk_names_the_file_line() -> None:
    lines = fixture_text().splitlines(keepends=True)
    start = 3 * CHUNK_LINES
    chunk = lines[start : start + CHUNK_LINES]
    chunk[7] = chunk[7].replace(" ", "  ", 1)
    with pytest.raises(KallsymsError) as caught:
        parse_kallsyms("".join(chunk), first_line=start + 1)
    assert caught.value.line == start + 8
