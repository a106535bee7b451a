"""Name lookups over one BTF object: exact match, substring search and ids by kind.

Each part is built on first use: the named ids from the records' name offsets alone
(cheap), the names themselves when a lookup needs them, the exact-name table on the
first `find` and the joined-string substring index on the first search.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import string
from array import array
from collections.abc import Sequence

from ..textindex import SubstringIndex
from ._strings import StringTable
from .model import Kind


class NameIndex:
    """The named ids of one object with their names, for exact and substring lookups.

    Treat as immutable: lazily built parts are only ever replaced by equal values, so
    concurrent readers are safe.
    """

    __slots__ = ("_first_of", "_more_of", "_names", "_offsets", "_search", "_strings", "ids")

    def __init__(self, first_id: int, offsets: Sequence[int], strings: StringTable) -> None:
        """Index the ids from `first_id` on, given each one's name offset in `strings`."""
        positions = strings.nonempty(offsets)
        self.ids: tuple[int, ...] = tuple([first_id + i for i in positions])
        # Kept until the names are read: an array, not a list of 71k int objects.
        self._offsets = array("I", [offsets[i] for i in positions])
        self._strings = strings
        self._names: list[str] | None = None
        self._first_of: dict[str, int] | None = None
        self._more_of: dict[str, list[int]] = {}
        self._search: SubstringIndex | None = None

    @property
    def names(self) -> list[str]:
        """The name of each id in `ids`, in the same order.

        Raises BtfError for the first name offset outside the string section.
        """
        names = self._names
        if names is None:
            names = self._strings.get_many(self._offsets, self.ids)
            self._names = names
        return names

    def unique_names(self) -> Sequence[str]:
        """Every distinct name, in the order of its first id."""
        return list(self._exact())

    def _exact(self) -> dict[str, int]:
        first_of = self._first_of
        if first_of is None:
            names = self.names
            # Most names are unique: the first id per name, lists only for repeats.
            first_of = dict(zip(reversed(names), reversed(self.ids), strict=True))
            more_of: dict[str, list[int]] = {}
            if len(first_of) < len(names):
                repeats = [
                    (name, tid)
                    for tid, name in zip(self.ids, names, strict=True)
                    if first_of[name] != tid
                ]
                for name, tid in repeats:
                    more_of.setdefault(name, []).append(tid)
            self._more_of = more_of
            self._first_of = first_of
        return first_of

    def find(self, name: str) -> tuple[int, ...]:
        """The ids named exactly `name`, ascending."""
        first = self._exact().get(name)
        if first is None:
            return ()
        return (first, *self._more_of.get(name, ()))

    def search(self, needle: str, *, case_sensitive: bool, limit: int | None = None) -> list[int]:
        """The ids whose name contains `needle` (ASCII case ignored unless
        `case_sensitive`), ascending; the first `limit` when given."""
        ids = self.ids
        if case_sensitive and any(c in string.ascii_letters for c in needle):
            names = self.names
            exact = (ids[r] for r in self._rows(needle) if needle in names[r])
            return list(itertools.islice(exact, limit))
        return [ids[r] for r in self._rows(needle, limit)]

    def glob(self, pattern: str, *, case_sensitive: bool) -> list[int]:
        """The ids whose whole name matches the shell-style `pattern` (`*`, `?`, `[set]`),
        ascending."""
        # re.ASCII: case is ignored for ASCII letters only, as `fold_case` does.
        flags = re.ASCII if case_sensitive else re.ASCII | re.IGNORECASE
        rx = re.compile(fnmatch.translate(pattern), flags)
        # Only names holding the pattern's longest literal run can match: search for it.
        literal = max(_GLOB_SYNTAX.split(pattern), key=len)
        ids = self.ids
        names = self.names
        rows: Sequence[int] = self._rows(literal) if literal else range(len(ids))
        return [ids[r] for r in rows if rx.match(names[r])]

    def _rows(self, needle: str, limit: int | None = None) -> list[int]:
        index = self._search
        if index is None:
            index = SubstringIndex(self.names, fold=True)
            self._search = index
        return index.search(needle, limit)


_GLOB_SYNTAX = re.compile(r"[*?]|\[!?\]?[^\]]*\]")


def ids_by_kind(first_id: int, kinds: bytes) -> dict[Kind, tuple[int, ...]]:
    """Group ids from `first_id` on by kind, given each id's kind number in order."""
    lists: dict[int, list[int]] = {}
    for i, kind in enumerate(kinds):
        found = lists.get(kind)
        if found is None:
            lists[kind] = [first_id + i]
        else:
            found.append(first_id + i)
    return {Kind(kind): tuple(ids) for kind, ids in lists.items()}
