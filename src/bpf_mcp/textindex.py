"""Fast substring search over many short names (pure; no I/O), and the one case folding
every name match uses.

All names are joined into one string, searched with `str.find` (C speed) and mapped back
to entries with a bisect over the entries' start offsets. When a needle matches a large
share of the entries, scanning each name is cheaper and the search switches to that.
"""

from __future__ import annotations

import bisect
import string
from array import array
from collections.abc import Sequence

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold_case(text: str) -> str:
    """`text` with ASCII letters in lower case and every other character as it is: the one
    case folding of every case-insensitive name match (tracepoints, functions, BTF types,
    kfuncs, catalogues). Kernel names are ASCII, so `ß` or the Kelvin sign match only
    themselves, never `ss` or `k`; and the length never changes."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


_SEP = "\n"  # between entries in the joined text
_STAND_IN = "\ufffd"  # for a separator inside a name (same length, so offsets hold)


class SubstringIndex:
    """Entries (by position) whose text contains a needle, in entry order."""

    __slots__ = ("_fold", "_names", "_starts", "_text")

    def __init__(self, names: Sequence[str], *, fold: bool = True) -> None:
        """Index `names`; with `fold`, matching ignores ASCII case (see `fold_case`)."""
        self._fold = fold
        joined = _SEP.join(names)
        if joined.count(_SEP) == max(0, len(names) - 1):
            # The common case: no name holds the separator, so one C-speed fold and
            # split give every entry's folded text.
            text = fold_case(joined) if fold else joined
            keyed = text.split(_SEP) if names else []
        else:
            # Corrupt data can put anything in a name: fold each alone and stand in for
            # the separator inside names, so entries never shift.
            keyed = [fold_case(n) for n in names] if fold else list(names)
            text = _SEP.join(k.replace(_SEP, _STAND_IN) for k in keyed)
        self._text = text
        self._names = keyed
        starts = array("I")
        offset = 0
        for name in keyed:
            starts.append(offset)
            offset += len(name) + 1
        self._starts = starts

    def __len__(self) -> int:
        return len(self._names)

    def search(self, needle: str) -> list[int]:
        """Positions of the entries containing `needle`, ascending. An empty needle
        matches every entry."""
        if self._fold:
            needle = fold_case(needle)
        if not needle:
            return list(range(len(self._names)))
        text, starts, names = self._text, self._starts, self._names
        if _SEP in needle or _STAND_IN in needle:
            # The joined text cannot answer these (they would match across entries or
            # stand-ins): ask each name.
            return [i for i, name in enumerate(names) if needle in name]
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
