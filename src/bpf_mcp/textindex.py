"""Fast substring search over many short names (pure; no I/O).

All names are joined into one string, searched with `str.find` (C speed) and mapped back
to entries with a bisect over the entries' start offsets. When a needle matches a large
share of the entries, scanning each name is cheaper and the search switches to that.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Sequence


class SubstringIndex:
    """Entries (by position) whose text contains a needle, in entry order."""

    __slots__ = ("_fold", "_names", "_starts", "_text")

    def __init__(self, names: Sequence[str], *, fold: bool = True) -> None:
        """Index `names`; with `fold`, matching ignores ASCII case."""
        self._fold = fold
        joined = "\n".join(names)
        self._text = joined.lower() if fold else joined
        self._names = self._text.split("\n") if names else []
        starts = array("I")
        offset = 0
        for name in self._names:
            starts.append(offset)
            offset += len(name) + 1
        self._starts = starts

    def __len__(self) -> int:
        return len(self._names)

    def search(self, needle: str) -> list[int]:
        """Positions of the entries containing `needle`, ascending. An empty needle
        matches every entry; a needle with a newline matches none."""
        if self._fold:
            needle = needle.lower()
        if not needle:
            return list(range(len(self._names)))
        if "\n" in needle:
            return []
        text, starts, names = self._text, self._starts, self._names
        found: list[int] = []
        budget = max(64, len(names) // 128)
        pos = text.find(needle)
        while pos >= 0:
            row = bisect.bisect_right(starts, pos) - 1
            found.append(row)
            if len(found) > budget:
                # A common needle: testing each remaining name is cheaper than hopping.
                found.extend(i for i in range(row + 1, len(names)) if needle in names[i])
                return found
            nxt = row + 1
            if nxt >= len(names):
                break
            pos = text.find(needle, starts[nxt])
        return found
