"""The text of /proc/kallsyms: `<address> <type> <name>[<TAB>[<module>]]` per line.

The kernel prints each line with `"%px %c %s\\t[%s]\\n"` (module symbols) or
`"%px %c %s\\n"` (see `s_show` in kernel/kallsyms.c). 122k lines are common, so the parser
works on whole columns with C-level string operations: core-kernel lines by fixed offsets
(`%px` prints a pointer's width), other lines by tokens checked by rebuilding the text.
Only a text that fails those checks is walked line by line, to name the bad line.
"""

from __future__ import annotations

import array
import itertools
import re
import sys
from operator import contains, itemgetter
from typing import NoReturn

from bpf_mcp.kallsyms.errors import KallsymsError
from bpf_mcp.kallsyms.table import SymbolTable

_EXPECTED = "expected '<hex address> <type letter> <name>' with an optional '\\t[module]'"
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def parse_kallsyms(text: str, *, first_line: int = 1) -> SymbolTable:
    """Every symbol in `text`, the contents (or a run of whole lines) of /proc/kallsyms.

    `first_line` is the number of the first line of `text` in the whole file, for error
    messages when a caller parses the file in chunks split at line boundaries. A final
    newline is optional; an empty text gives an empty table.

    Raises KallsymsError naming the first malformed line.
    """
    body = text.removesuffix("\n")
    if not body:
        if text:
            raise KallsymsError(f"{_EXPECTED}, got an empty line", line=first_line)
        return SymbolTable(names=(), addresses=array.array("Q"), types="", modules=())
    lines = body.split("\n")
    if "\t" not in body:
        return _parse_run(lines, first_line, with_modules=False)
    # Module symbols (and BPF programs, ftrace trampolines) come in runs, usually after
    # the core kernel's: parse each run of lines of one shape by columns. One byte per
    # line says whether it holds a tab; a run ends where the other byte value appears.
    tabbed = bytes(map(contains, lines, itertools.repeat("\t")))
    tables: list[SymbolTable] = []
    start = 0
    while start < len(lines):
        with_modules = tabbed[start] == 1
        end = tabbed.find(b"\x00" if with_modules else b"\x01", start)
        if end < 0:
            end = len(lines)
        tables.append(_parse_run(lines[start:end], first_line + start, with_modules=with_modules))
        start = end
    return SymbolTable.concat(tables)


def _parse_run(lines: list[str], first_line: int, *, with_modules: bool) -> SymbolTable:
    """The table of `lines`, all of one shape; raises KallsymsError naming the first bad one."""
    table = None if with_modules else _parse_fixed_width(lines)
    if table is None:
        table = _parse_columns("\n".join(lines), len(lines), with_modules=with_modules)
    if table is None:
        _raise_for_first_bad_line(lines, first_line)
    return table


def _parse_fixed_width(lines: list[str]) -> SymbolTable | None:
    """The table of core-kernel `lines` whose addresses all have the width of a pointer,
    as the kernel prints them (`%px`); None when any line is otherwise (the general
    parser then decides).

    Every line is `<address> <letter> <name>` at fixed offsets, so two C-level slices per
    line (itemgetter) give every column, and no string is made per address or letter.
    """
    width = lines[0].find(" ")
    if width not in (8, 16):
        return None
    count = len(lines)
    stride = width + 3
    # Each line's address, space, letter and space: `stride` characters per line.
    heads = "".join(map(itemgetter(slice(stride)), lines))
    if len(heads) != stride * count or not heads.isascii():
        return None
    blank = " " * count
    types = heads[width + 1 :: stride]
    if heads[width::stride] != blank or heads[width + 2 :: stride] != blank:
        return None
    if not types.isalpha():
        return None
    # fromhex skips whitespace: with the letters blanked out too, it reads the addresses
    # alone, and a full length proves each is `width` hex digits.
    digits = bytearray(heads, "ascii")
    digits[width + 1 :: stride] = blank.encode()
    try:
        raw = bytes.fromhex(digits.decode())
    except ValueError:
        return None
    if len(raw) * 2 != width * count:
        return None
    names = list(map(itemgetter(slice(stride, None)), lines))
    if not all(names) or _holds_whitespace(names):
        return None
    return SymbolTable(
        names=tuple(names),
        addresses=_words(raw, width),
        types=types,
        modules=(None,) * count,
    )


_WHITESPACE = re.compile(r"\s")
_ASCII_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _holds_whitespace(names: list[str]) -> bool:
    """True when any of `names` holds a character `str.split` splits on."""
    joined = "".join(names)
    if joined.isascii():
        return any(char in joined for char in _ASCII_WHITESPACE)
    # Unicode \s is str.isspace, what str.split splits on.
    return _WHITESPACE.search(joined) is not None


def _parse_columns(body: str, count: int, *, with_modules: bool) -> SymbolTable | None:
    """The table for `count` lines all of one shape, or None when any line is malformed."""
    width = 4 if with_modules else 3
    tokens = body.split()
    if len(tokens) != width * count:
        return None
    addresses = tokens[0::width]
    types = tokens[1::width]
    names = tokens[2::width]
    if with_modules:
        brackets = tokens[3::width]
        lines = map(" ".join, zip(addresses, types, names, strict=True))
        rows = map("\t".join, zip(lines, brackets, strict=True))
    else:
        rows = map(" ".join, zip(addresses, types, names, strict=True))
    rebuilt = "\n".join(rows)
    # Tokens hold no whitespace, so equality proves every line has exactly this shape.
    if rebuilt != body:
        return None
    type_letters = "".join(types)
    if len(type_letters) != count or not (type_letters.isascii() and type_letters.isalpha()):
        return None
    address_column = _addresses(addresses)
    if address_column is None:
        return None
    modules: tuple[str | None, ...]
    if with_modules:
        module_column = _modules(brackets)
        if module_column is None:
            return None
        modules = module_column
    else:
        modules = (None,) * count
    return SymbolTable(
        names=tuple(names), addresses=address_column, types=type_letters, modules=modules
    )


def _addresses(column: list[str]) -> array.array[int] | None:
    widths = set(map(len, column))
    digits = "".join(column)
    if len(widths) == 1 and (width := widths.pop()) in (8, 16):
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            return None
        return _words(raw, width)
    if not set(digits) <= _HEX_DIGITS or max(map(len, column)) > 16:
        return None
    return array.array("Q", (int(address, 16) for address in column))


def _words(raw: bytes, width: int) -> array.array[int]:
    """The addresses of `raw`, fixed-width hex of `width` digits decoded to big-endian
    bytes, as 64-bit words."""
    words = array.array("Q" if width == 16 else "I")
    words.frombytes(raw)
    if sys.byteorder == "little":
        words.byteswap()
    return words if width == 16 else array.array("Q", words)


def _modules(column: list[str]) -> tuple[str, ...] | None:
    names: dict[str, str] = {}
    modules: list[str] = []
    for bracketed in column:
        module = bracketed[1:-1]
        if not (bracketed.startswith("[") and bracketed.endswith("]")) or not module:
            return None
        if "[" in module or "]" in module:
            return None
        # One string per module name, however many symbols it has.
        modules.append(names.setdefault(module, module))
    return tuple(modules)


def _raise_for_first_bad_line(lines: list[str], first_line: int) -> NoReturn:
    # The same checks, one line at a time, so the message names the line.
    for number, line in enumerate(lines, start=first_line):
        if _parse_columns(line, 1, with_modules="\t" in line) is None:
            # The line's length, never its text: the file may be anything put where
            # kallsyms belongs, and this message reaches logs and clients.
            got = f"other text ({len(line)} characters)" if line else "an empty line"
            raise KallsymsError(f"{_EXPECTED}, got {got}", line=number)
    last = first_line + len(lines) - 1
    raise KallsymsError(f"{_EXPECTED}, but lines {first_line}-{last} are not", line=first_line)
