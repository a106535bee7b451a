"""Pure helpers for matching and paging, shared by every list answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from ..textindex import fold_case

T = TypeVar("T")


@attrs.frozen
class Window:
    """The slice of the matches one page shows."""

    start: int
    stop: int
    total: int

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts, or None when this page is the last."""
        return self.stop if self.stop < self.total else None


def window(total: int, offset: int, limit: int) -> Window:
    """The page of `limit` items starting at `offset` among `total` matches.

    An offset past the end gives an empty last page (next_offset None), not an error.
    """
    start = min(max(offset, 0), total)
    return Window(start, min(start + max(limit, 0), total), total)


def page(items: Sequence[T], offset: int, limit: int) -> tuple[Sequence[T], Window]:
    """The items of one page and its window."""
    w = window(len(items), offset, limit)
    return items[w.start : w.stop], w


def substring_matcher(needle: str | None) -> Callable[[str], bool] | None:
    """A substring test ignoring ASCII case (`fold_case`, as every name match), or None
    when there is nothing to filter on."""
    if not needle:
        return None
    folded = fold_case(needle)
    return lambda text: folded in fold_case(text)
