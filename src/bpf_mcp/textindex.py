"""Fast substring search over many short names (pure; no I/O), and the one case folding
every name match uses.

All names are joined into one string, searched with `str.find` (C speed) and mapped back
to entries with a bisect over the entries' start offsets. When a needle matches a large
share of the entries, scanning each name is cheaper and the search switches to that.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import string
from array import array
from collections.abc import Iterable, Sequence

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

    def search(self, needle: str, limit: int | None = None) -> list[int]:
        """Positions of the entries containing `needle`, ascending; only the first `limit`
        when given. An empty needle matches every entry."""
        if self._fold:
            needle = fold_case(needle)
        count = len(self._names) if limit is None else min(limit, len(self._names))
        if not needle:
            return list(range(count))
        text, starts, names = self._text, self._starts, self._names
        if _SEP in needle or _STAND_IN in needle:
            # The joined text cannot answer these (they would match across entries or
            # stand-ins): ask each name.
            return list(itertools.islice((i for i, n in enumerate(names) if needle in n), count))
        found: list[int] = []
        budget = max(64, len(names) // 128)
        pos = text.find(needle)
        while pos >= 0 and len(found) < count:
            row = bisect.bisect_right(starts, pos) - 1
            found.append(row)
            if len(found) > budget:
                # A common needle: testing each remaining name is cheaper than hopping.
                rest = (i for i in range(row + 1, len(names)) if needle in names[i])
                found.extend(itertools.islice(rest, count - len(found)))
                return found
            nxt = row + 1
            if nxt >= len(names):
                break
            pos = text.find(needle, starts[nxt])
        return found


class NearNames:
    """Names spelled like one that is not among them: for "did you mean" answers.

    Built once from every name (in an index build), it keeps the names in case-folded
    order and, as positions, in the order of their folded reversed spelling. A missing
    name's neighbours in both orders (names sharing its beginning, or its end) are the
    candidates, ranked by similarity: a few hundred comparisons, not one per name, so a
    miss costs about a millisecond however many names there are.
    """

    __slots__ = ("_by_end", "_names")

    WINDOW = 24
    """Neighbours taken on each side of where the name would be, in each order."""

    def __init__(self, names: Iterable[str], *, distinct_sorted: bool = False) -> None:
        """Index `names`; `distinct_sorted` says they are already distinct and sorted
        (an index has them so), which saves sorting them again."""
        unique = [n for n in names if n] if distinct_sorted else sorted(set(names) - {""})
        joined = _SEP.join(unique)
        if not joined.isascii() or joined.count(_SEP) != max(0, len(unique) - 1):
            unique.sort(key=fold_case)  # stable: names equal but for case stay sorted
            ends = [fold_case(n)[::-1] for n in unique]
        else:
            # The common case, at C speed: kernel names are ASCII without separators.
            unique.sort(key=str.lower)
            ends = _SEP.join(unique).lower()[::-1].split(_SEP)[::-1] if unique else []
        self._names = unique
        self._by_end = array("I", sorted(range(len(ends)), key=ends.__getitem__))

    def __len__(self) -> int:
        return len(self._names)

    def near(self, name: str, limit: int, cutoff: float = 0.6) -> list[str]:
        """Up to `limit` names like `name` (never `name` itself): those equal to it but
        for ASCII case first, then the most similar spellings (a similarity of at least
        `cutoff`, 0 to 1), most similar first."""
        names = self._names
        folded = fold_case(name)
        start = bisect.bisect_left(names, folded, key=fold_case)
        end = bisect.bisect_right(names, folded, key=fold_case)
        same = [n for n in names[start:end] if n != name]
        window = self.WINDOW
        candidates = set(names[max(0, start - window) : end + window])
        reverse = folded[::-1]
        at = bisect.bisect_left(self._by_end, reverse, key=lambda i: fold_case(names[i])[::-1])
        candidates.update(names[i] for i in self._by_end[max(0, at - window) : at + window])
        candidates.difference_update(same, (name,))
        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(folded)
        scored = []
        for candidate in candidates:
            matcher.set_seq1(fold_case(candidate))
            if (
                matcher.real_quick_ratio() >= cutoff
                and matcher.quick_ratio() >= cutoff
                and (ratio := matcher.ratio()) >= cutoff
            ):
                scored.append((ratio, candidate))
        # Ties (names alike but for case) go to the one whose letters match `name` as
        # written in more places, then to the first in order.
        best = sorted(scored, key=lambda rc: (-rc[0], -sum(map(str.__eq__, name, rc[1])), rc[1]))[
            :limit
        ]
        return (same + [candidate for _, candidate in best])[:limit]
