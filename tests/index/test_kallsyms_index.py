"""KallsymsIndex against a plain eager build of the same orders, on the captured kernel.

The index builds its function order with C-level maps and the padding order only on first
use; these tests rebuild both the obvious way and compare.
"""

from __future__ import annotations

import pytest

from bpf_mcp.index.indexes import KallsymsIndex
from bpf_mcp.kallsyms import SymbolTable, parse_kallsyms
from tests.support import FIXTURE_ROOT

NEEDLES = ["", "vfs_", "__PFX_VFS", "isra", "read", "x", "_", "no such name", "\n"]


@pytest.fixture(scope="module")
def table() -> SymbolTable:
    return parse_kallsyms((FIXTURE_ROOT / "proc/kallsyms").read_text())


def eager(table: SymbolTable) -> tuple[list[int], list[int]]:
    """(functions, with_padding): text rows sorted by name, without and with padding."""
    names = table.names
    text = sorted((i for i in range(len(table)) if table.types[i] in "tTwW"), key=names.__getitem__)
    return [i for i in text if not names[i].startswith("__pfx_")], text


def found(rows: list[int], names: tuple[str, ...], needle: str) -> list[int]:
    if not needle:
        return list(range(len(rows)))
    folded = needle.lower()
    return [i for i, row in enumerate(rows) if folded in names[row].lower()]


def test_orders_equal_an_eager_build(table: SymbolTable) -> None:
    functions, with_padding = eager(table)
    index = KallsymsIndex.build([table])
    assert list(index.functions) == functions
    assert list(index.with_padding) == with_padding


def test_searches_equal_a_scan(table: SymbolTable) -> None:
    functions, with_padding = eager(table)
    index = KallsymsIndex.build([table])
    for needle in NEEDLES:
        assert index.search_functions.search(needle) == found(functions, table.names, needle)
        assert index.search_with_padding.search(needle) == found(with_padding, table.names, needle)


def test_small_tables() -> None:
    text = (
        "0000000000000010 t __pfx_b\n"
        "0000000000000020 t b\n"
        "0000000000000030 T a\n"
        "0000000000000040 D __pfx_data\n"
        "0000000000000050 t __pfx_a\n"
        "0000000000000060 W a\n"
        "0000000000000070 t zz\n"
    )
    table = parse_kallsyms(text)
    functions, with_padding = eager(table)
    index = KallsymsIndex.build([table])
    assert list(index.functions) == functions == [2, 5, 1, 6]
    assert list(index.with_padding) == with_padding == [4, 0, 2, 5, 1, 6]
    for lines in (text.splitlines(keepends=True)[:k] for k in range(8)):
        part = parse_kallsyms("".join(lines))
        built = KallsymsIndex.build([part])
        assert (list(built.functions), list(built.with_padding)) == eager(part)
