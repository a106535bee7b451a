"""Name completion for resource templates and prompt arguments (pure).

Suggestions are names that start with what the user typed (case-sensitive, as kernel
names are), in sorted order, at most `limit`, with the total count of matches.
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from ..btf import Kind
from ..results import Completions
from ..sources import Source
from .indexes import BtfIndex, KallsymsIndex, TracefsIndex

COMPLETION_LIMIT = 100


def prefixed(names: Sequence[str], prefix: str, limit: int = COMPLETION_LIMIT) -> Completions:
    """The names of sorted `names` that start with `prefix`."""
    start = bisect.bisect_left(names, prefix)
    stop = bisect.bisect_left(names, prefix + "\U0010ffff", lo=start) if prefix else len(names)
    return Completions(tuple(names[start : min(stop, start + limit)]), stop - start)


@attrs.frozen
class SortedNames:
    """Sorted, de-duplicated name lists computed once per index.

    Entries are keyed by the index object's identity and hold a weak reference to it, so
    a list is never served for a newer index that happens to reuse a freed one's id.
    """

    cache: dict[tuple[int, str], tuple[weakref.ref[Any], tuple[str, ...]]] = attrs.field(
        factory=dict
    )

    def get(self, index: Any, key: str, build: Callable[[], Iterable[str]]) -> tuple[str, ...]:
        entry = self.cache.get((id(index), key))
        if entry is not None and entry[0]() is index:
            return entry[1]
        names = tuple(sorted(set(build())))
        if len(self.cache) > 64:
            self.cache.clear()
        self.cache[(id(index), key)] = (weakref.ref(index), names)
        return names


NAMES = SortedNames()


def btf_kinds(prefix: str) -> Completions:
    labels = sorted(k.label for k in Kind if k != Kind.UNKN)
    return prefixed(labels, prefix)


def btf_names(index: BtfIndex | None, kind: str | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    btf = index.btf
    try:
        wanted = Kind.from_label(kind) if kind else None
    except ValueError:
        return Completions((), 0)
    key = f"btf:{wanted.label if wanted else '*'}"
    ids = index.named_of_kind(wanted) if wanted else btf.named_ids()
    return prefixed(NAMES.get(index, key, lambda: (btf.name(i) for i in ids)), prefix)


def kfunc_names(index: BtfIndex | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    btf = index.btf

    def build() -> list[str]:
        return [
            btf.name(btf.ref(tag))
            for tag in index.named_of_kind(Kind.DECL_TAG)
            if btf.name(tag) == "bpf_kfunc" and btf.decl_tag_component(tag) == -1
        ]

    return prefixed(NAMES.get(index, "kfunc", build), prefix)


def tracepoint_categories(index: TracefsIndex | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    return prefixed(NAMES.get(index, "cat", lambda: (r.category for r in index.records)), prefix)


def tracepoint_events(index: TracefsIndex | None, category: str | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    if category:
        key = f"ev:{category}"
        events = NAMES.get(
            index, key, lambda: (r.event for r in index.records if r.category == category)
        )
    else:
        events = NAMES.get(index, "ev:*", lambda: (r.event for r in index.records))
    return prefixed(events, prefix)


def tracepoint_names(index: TracefsIndex | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    return prefixed(NAMES.get(index, "tp", lambda: (r.name for r in index.records)), prefix)


def function_names(index: KallsymsIndex | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    names = index.table.names
    return prefixed(NAMES.get(index, "fn", lambda: (names[i] for i in index.functions)), prefix)


def complete(what: str, prefix: str, context: dict[str, str], indexes: Any) -> Completions:
    """Suggestions for one completion request; an unknown `what` suggests nothing."""
    btf = indexes.get(Source.BTF)
    tracefs = indexes.get(Source.TRACEFS)
    match what:
        case "btf_kind":
            return btf_kinds(prefix)
        case "btf_name":
            return btf_names(btf, context.get("kind"), prefix)
        case "kfunc":
            return kfunc_names(btf, prefix)
        case "tracepoint_category":
            return tracepoint_categories(tracefs, prefix)
        case "tracepoint_event":
            return tracepoint_events(tracefs, context.get("category"), prefix)
        case "tracepoint":
            return tracepoint_names(tracefs, prefix)
        case "function":
            return function_names(indexes.get(Source.KALLSYMS), prefix)
    return Completions((), 0)
