"""Kernel symbols, one value each or all of them in columns."""

from __future__ import annotations

import array
import itertools
from collections.abc import Iterable

import attrs

from bpf_mcp.kallsyms.errors import KallsymsError

_TEXT_TYPES = frozenset("tTwW")


@attrs.frozen
class KernelSymbol:
    """One line of /proc/kallsyms.

    `symbol_type` is the one-letter type as the file shows it ("T" global text, "t" local
    text, "W"/"w" weak, "D"/"d" data, ...). `module` is the name in the trailing `[module]`
    column (also `bpf` for BPF programs, `__builtin__ftrace` for trampolines), None for the
    core kernel. `address` is 0 for every symbol when the reader may not see addresses.
    """

    name: str
    address: int
    symbol_type: str
    module: str | None

    @property
    def is_text(self) -> bool:
        """True for code: types t, T, w and W."""
        return self.symbol_type in _TEXT_TYPES


def _check_addresses(table: SymbolTable, attribute: attrs.Attribute[object], value: object) -> None:
    if not isinstance(value, array.array) or value.typecode != "Q":
        raise KallsymsError("a SymbolTable's addresses must be an array.array of typecode 'Q'")


@attrs.frozen
class SymbolTable:
    """Every symbol of a kallsyms file, in file order, stored by column for speed and memory.

    Row `i` is `names[i]`, `addresses[i]`, `types[i]` (one character each) and `modules[i]`.
    The table is a value: do not mutate `addresses`. Build one with `parse_kallsyms` or
    `SymbolTable.concat`; the constructor raises KallsymsError when the columns differ in
    length.
    """

    names: tuple[str, ...]
    addresses: array.array[int] = attrs.field(validator=_check_addresses, hash=False)
    types: str
    modules: tuple[str | None, ...]

    def __attrs_post_init__(self) -> None:
        count = len(self.names)
        if not len(self.addresses) == len(self.types) == len(self.modules) == count:
            raise KallsymsError(
                f"a SymbolTable's columns differ in length: {count} names, "
                f"{len(self.addresses)} addresses, {len(self.types)} types, "
                f"{len(self.modules)} modules"
            )

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> KernelSymbol:
        """The symbol in row `index` (negative counts from the end); IndexError past the end."""
        return KernelSymbol(
            name=self.names[index],
            address=self.addresses[index],
            symbol_type=self.types[index],
            module=self.modules[index],
        )

    def is_text(self, index: int) -> bool:
        """True when row `index` is code: types t, T, w and W."""
        return self.types[index] in _TEXT_TYPES

    @property
    def addresses_hidden(self) -> bool:
        """True when every address reads as zero, as a reader without CAP_SYSLOG sees them
        (or anyone under kptr_restrict=2). False for an empty table: nothing is hidden."""
        if not self.names:
            return False
        return self.addresses.tobytes().count(0) == len(self.addresses) * self.addresses.itemsize

    @classmethod
    def concat(cls, tables: Iterable[SymbolTable]) -> SymbolTable:
        """One table holding the rows of `tables`, in order (the empty table for none)."""
        parts = list(tables)
        if len(parts) == 1:
            return parts[0]
        addresses = array.array("Q")
        for part in parts:
            addresses.extend(part.addresses)
        return cls(
            names=tuple(itertools.chain.from_iterable(part.names for part in parts)),
            addresses=addresses,
            types="".join(part.types for part in parts),
            modules=tuple(itertools.chain.from_iterable(part.modules for part in parts)),
        )
