"""Name lookups over one BTF object: exact match, substring search and ids by kind."""

from __future__ import annotations

from collections.abc import Sequence

from .model import Kind


class NameIndex:
    """The named ids of one object with their names, for exact and substring lookups."""

    __slots__ = ("_first_of", "_folded", "_more_of", "_names", "ids")

    def __init__(self, first_id: int, names: list[str]) -> None:
        """Index `names`, the name of each id from `first_id` on ("" when anonymous)."""
        self.ids: tuple[int, ...] = tuple(first_id + i for i, name in enumerate(names) if name)
        self._names: list[str] = [name for name in names if name]
        # Most names are unique: keep the first id per name, and lists only for repeats.
        first_of: dict[str, int] = {}
        more_of: dict[str, list[int]] = {}
        for tid, name in zip(self.ids, self._names, strict=True):
            if name in first_of:
                more_of.setdefault(name, []).append(tid)
            else:
                first_of[name] = tid
        self._first_of = first_of
        self._more_of = more_of
        self._folded: list[str] | None = None

    def find(self, name: str) -> tuple[int, ...]:
        """The ids named exactly `name`, ascending."""
        first = self._first_of.get(name)
        if first is None:
            return ()
        return (first, *self._more_of.get(name, ()))

    def search(self, needle: str, *, case_sensitive: bool) -> list[int]:
        """The ids whose name contains `needle` (case-folded unless `case_sensitive`)."""
        names: Sequence[str] = self._names
        if not case_sensitive:
            folded = self._folded
            if folded is None:
                folded = [name.casefold() for name in self._names]
                self._folded = folded
            names = folded
            needle = needle.casefold()
        return [tid for tid, name in zip(self.ids, names, strict=True) if needle in name]


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
