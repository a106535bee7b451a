"""Near matches for a name that does not exist, for "did you mean" in NotFound errors."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from ..textindex import NearNames

MAX_SUGGESTIONS = 5
CONTAINING = 200
"""Names containing the missing one considered, at most (the shortest are shown)."""


def close_names(
    name: str,
    near: NearNames,
    containing: Iterable[str] = (),
    *,
    limit: int = MAX_SUGGESTIONS,
    cutoff: float = 0.6,
) -> list[str]:
    """Names close to `name`: the same letters in another case, the most similar spellings
    (from `near`, built with the index), then the shortest of the first names of
    `containing` (names that contain it). Costs about a millisecond, whatever the number
    of names."""
    similar = near.near(name, limit, cutoff)
    holding = sorted(itertools.islice(containing, CONTAINING), key=lambda n: (len(n), n))
    found = dict.fromkeys([*similar, *holding])
    found.pop(name, None)
    return list(found)[:limit]


def did_you_mean(names: Sequence[str]) -> str:
    """' Did you mean: a, b?' or '' when there is nothing to suggest."""
    if not names:
        return ""
    return " Did you mean: " + ", ".join(names) + "?"
