"""A one-slot memo for values derived from an index (pure; no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LastOf(Generic[K, V]):
    """Remembers the value derived from the most recent key object (by identity), so a
    set built from an index is rebuilt only when the router swaps in a new index."""

    def __init__(self, derive: Callable[[K], V]) -> None:
        self._derive = derive
        self._key: K | None = None
        self._value: V | None = None

    def __call__(self, key: K) -> V:
        if self._key is not key or self._value is None:
            self._value = self._derive(key)
            self._key = key
        return self._value
