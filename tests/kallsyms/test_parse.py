"""parse_kallsyms on hand-written text: columns, modules, chunks, and malformed lines."""

from __future__ import annotations

import array

import pytest

from bpf_mcp.kallsyms import KallsymsError, KernelSymbol, SymbolTable, parse_kallsyms
from bpf_mcp.testing.kallsyms import render

SAMPLE = (
    "ffffffff81000000 T _text\n"
    "ffffffff81001000 t __pfx_do_one_initcall\n"
    "ffffffff81001010 t do_one_initcall\n"
    "ffffffff82a00000 D jiffies\n"
    "ffffffff81002000 W weak_function\n"
    "ffffffffc0a01000 t bpf_prog_6deef7357e7b4530_sd_fw_ingress\t[bpf]\n"
    "ffffffffc0b00000 t e1000_probe\t[e1000e]\n"
    "ffffffffc0b00100 T e1000_remove\t[e1000e]\n"
    "ffffffff81003000 t late_core_symbol\n"
)


def test_columns_and_rows() -> None:
    table = parse_kallsyms(SAMPLE)
    assert len(table) == 9
    assert table.types == "TttDWttTt"
    assert table.addresses.typecode == "Q"
    assert table.addresses[0] == 0xFFFFFFFF81000000
    assert table[0] == KernelSymbol(
        name="_text", address=0xFFFFFFFF81000000, symbol_type="T", module=None
    )
    assert table[-1].name == "late_core_symbol"
    assert table[-1].module is None
    assert table[5].module == "bpf"
    assert table.modules[6:8] == ("e1000e", "e1000e")
    # One string per module name, however many rows name it.
    assert table.modules[6] is table.modules[7]


def test_is_text() -> None:
    table = parse_kallsyms(SAMPLE)
    assert [table.is_text(i) for i in range(len(table))] == [
        True,
        True,
        True,
        False,
        True,
        True,
        True,
        True,
        True,
    ]
    assert table[4].is_text
    assert not table[3].is_text


def test_render_round_trip() -> None:
    assert render(parse_kallsyms(SAMPLE)) == SAMPLE


def test_trailing_newline_is_optional() -> None:
    assert parse_kallsyms(SAMPLE.removesuffix("\n")) == parse_kallsyms(SAMPLE)


def test_empty_text_gives_an_empty_table() -> None:
    table = parse_kallsyms("")
    assert len(table) == 0
    assert not table.addresses_hidden


def test_short_and_32_bit_addresses() -> None:
    table = parse_kallsyms("c1000000 T _text\nc1000010 t foo\n")
    assert list(table.addresses) == [0xC1000000, 0xC1000010]
    assert parse_kallsyms("0 T a\nabc t b\n").addresses.tolist() == [0, 0xABC]
    assert parse_kallsyms("FFFFFFFF81000000 T a\n").addresses[0] == 0xFFFFFFFF81000000


def test_addresses_hidden_when_all_zero() -> None:
    hidden = "".join(f"{'0' * 16}{line[16:]}\n" for line in SAMPLE.splitlines())
    assert parse_kallsyms(hidden).addresses_hidden
    assert not parse_kallsyms(SAMPLE).addresses_hidden
    one_real = "0000000000000000 T a\n0000000000000001 T b\n"
    assert not parse_kallsyms(one_real).addresses_hidden


def test_chunks_concatenate_to_the_whole() -> None:
    lines = SAMPLE.splitlines(keepends=True)
    whole = parse_kallsyms(SAMPLE)
    for cut in range(len(lines) + 1):
        parts = [
            parse_kallsyms("".join(lines[:cut])),
            parse_kallsyms("".join(lines[cut:]), first_line=cut + 1),
        ]
        assert SymbolTable.concat(parts) == whole
    assert len(SymbolTable.concat([])) == 0


def test_inconsistent_columns_are_refused() -> None:
    with pytest.raises(KallsymsError, match="differ in length"):
        SymbolTable(names=("a",), addresses=array.array("Q"), types="T", modules=(None,))
    with pytest.raises(KallsymsError, match="typecode 'Q'"):
        SymbolTable(names=("a",), addresses=array.array("I", [1]), types="T", modules=(None,))


@pytest.mark.parametrize(
    "line",
    [
        "",
        "ffffffff81000000",
        "ffffffff81000000 T",
        "ffffffff81000000 T a b",
        "ffffffff81000000  T a",
        "ffffffff81000000 T  a",
        " ffffffff81000000 T a",
        "ffffffff81000000 T a ",
        "ffffffff81000000\tT a",
        "ffffffff81000000 TT a",
        "ffffffff81000000 1 a",
        "ffffffff81000000 \u00e9 a",
        "gfffffff81000000 T a",
        "0x81000000 T a",
        "1_000 T a",
        "+100 T a",
        "1ffffffff81000000 T a",
        "ffffffff81000000 T a\t[]",
        "ffffffff81000000 T a\t[mod",
        "ffffffff81000000 T a\tmod]",
        "ffffffff81000000 T a\t[mo]d]",
        "ffffffff81000000 T a [mod]",
        "ffffffff81000000 T a\t[mod] x",
        "ffffffff81000000 T a\r",
        "ffffffff81000000 T a\u00a0b",
    ],
)
def test_malformed_line_is_named(line: str) -> None:
    text = "ffffffff81000000 T first\nffffffff81000001 t second\n" + line + "\n"
    text += "ffffffff81000002 t last\n"
    with pytest.raises(KallsymsError) as caught:
        parse_kallsyms(text, first_line=100)
    assert caught.value.line == 102
    assert str(caught.value).startswith("line 102: expected '<hex address> <type letter> <name>'")


def test_malformed_line_among_module_lines() -> None:
    text = "ffffffff81000000 T a\nffffffffc0000000 t b\t[m]\nffffffffc0000001 tt c\t[m]\n"
    with pytest.raises(KallsymsError) as caught:
        parse_kallsyms(text)
    assert caught.value.line == 3


def test_error_message_quotes_a_long_line_briefly() -> None:
    with pytest.raises(KallsymsError) as caught:
        parse_kallsyms("x" * 10_000)
    assert len(str(caught.value)) < 250
