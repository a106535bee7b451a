"""Near matches for a name that does not exist, for "did you mean" in NotFound errors."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence

MAX_SUGGESTIONS = 5
_PER_PIECE = 200
_PIECE = 4


def close_names(
    name: str,
    universe: Sequence[str] | None = None,
    *,
    search: Callable[[str], Iterable[str]] | None = None,
    limit: int = MAX_SUGGESTIONS,
) -> list[str]:
    """Names close to `name`: those containing it first, then the most similar spellings.

    With `universe`, every name is a candidate (fine for a few thousand). With `search` (a
    substring search over a large set), candidates are the names that contain `name` or
    one of its 4-character pieces, so typos are found without comparing every name.
    """
    if search is not None:
        containing = _take(search(name), _PER_PIECE)
        candidates = set(containing)
        for start in range(0, max(1, len(name) - _PIECE + 1), 2):
            candidates.update(_take(search(name[start : start + _PIECE]), _PER_PIECE))
    else:
        names = universe or ()
        containing = [n for n in names if name in n]
        candidates = set(names)
    containing.sort(key=lambda n: (len(n), n))
    similar = difflib.get_close_matches(name, sorted(candidates), n=limit, cutoff=0.6)
    return list(dict.fromkeys([*similar, *containing]))[:limit]


def _take(names: Iterable[str], count: int) -> list[str]:
    out = []
    for name in names:
        out.append(name)
        if len(out) >= count:
            break
    return out


def did_you_mean(names: Sequence[str]) -> str:
    """' Did you mean: a, b?' or '' when there is nothing to suggest."""
    if not names:
        return ""
    return " Did you mean: " + ", ".join(names) + "?"
