"""The text of /proc/kallsyms: `<address> <type> <name>[<TAB>[<module>]]` per line.

The kernel prints each line with `"%px %c %s\\t[%s]\\n"` (module symbols) or
`"%px %c %s\\n"` (see `s_show` in kernel/kallsyms.c). 122k lines are common, so the parser
works on whole columns with C-level string operations and checks the result by rebuilding
the text; only a text that fails that check is walked line by line, to name the bad line.
"""

from __future__ import annotations

import array
import sys
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
    if "\t" not in body:
        table = _parse_columns(body, body.count("\n") + 1, with_modules=False)
        if table is None:
            _raise_for_first_bad_line(body.split("\n"), first_line)
        return table
    lines = body.split("\n")
    # Module symbols (and BPF programs, ftrace trampolines) come in runs, usually after
    # the core kernel's: parse each run of lines of one shape by columns.
    tables: list[SymbolTable] = []
    start = 0
    for end in range(1, len(lines) + 1):
        if end < len(lines) and ("\t" in lines[end]) == ("\t" in lines[start]):
            continue
        run = lines[start:end]
        table = _parse_columns("\n".join(run), len(run), with_modules="\t" in lines[start])
        if table is None:
            _raise_for_first_bad_line(run, first_line + start)
        tables.append(table)
        start = end
    return SymbolTable.concat(tables)


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
        # Fixed-width hex is big-endian bytes: decode it in one call.
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            return None
        words = array.array("Q" if width == 16 else "I")
        words.frombytes(raw)
        if sys.byteorder == "little":
            words.byteswap()
        return words if width == 16 else array.array("Q", words)
    if not set(digits) <= _HEX_DIGITS or max(map(len, column)) > 16:
        return None
    return array.array("Q", (int(address, 16) for address in column))


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
            got = f"{line[:80]!r}{'...' if len(line) > 80 else ''}" if line else "an empty line"
            raise KallsymsError(f"{_EXPECTED}, got {got}", line=number)
    last = first_line + len(lines) - 1
    raise KallsymsError(f"{_EXPECTED}, but lines {first_line}-{last} are not", line=first_line)
