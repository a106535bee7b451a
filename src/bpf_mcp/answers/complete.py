"""Name completion for resource templates and prompt arguments (pure).

Suggestions are names that start with what the user typed (case-sensitive, as kernel
names are), in sorted order, at most `limit`, with the total count of matches.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from ..btf import Kind
from ..index import Indexes
from ..index.indexes import BtfIndex, KallsymsIndex, TracefsIndex
from ..results import Completions

COMPLETION_LIMIT = 100


def prefixed(names: Sequence[str], prefix: str, limit: int = COMPLETION_LIMIT) -> Completions:
    """The names of sorted `names` that start with `prefix`."""
    start = bisect.bisect_left(names, prefix)
    stop = bisect.bisect_left(names, prefix + "\U0010ffff", lo=start) if prefix else len(names)
    return Completions(tuple(names[start : min(stop, start + limit)]), stop - start)


def btf_kinds(prefix: str) -> Completions:
    labels = sorted(k.label for k in Kind if k != Kind.UNKN)
    return prefixed(labels, prefix)


def btf_names(index: BtfIndex | None, kind: str | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    try:
        wanted = Kind.from_label(kind) if kind else None
    except ValueError:
        return Completions((), 0)
    return prefixed(index.sorted_names.get(wanted, ()), prefix)


def kfunc_names(index: BtfIndex | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    btf = index.btf
    return prefixed(sorted({btf.name(tid) for tid in index.kfunc_ids}), prefix)


def tracepoint_categories(index: TracefsIndex | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    return prefixed(index.categories, prefix)


def tracepoint_events(index: TracefsIndex | None, category: str | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    if category:
        return prefixed(sorted(r.event for r in index.records if r.category == category), prefix)
    return prefixed(index.events, prefix)


def tracepoint_names(index: TracefsIndex | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    return prefixed(index.names, prefix)


def function_names(index: KallsymsIndex | None, prefix: str) -> Completions:
    if index is None:
        return Completions((), 0)
    return prefixed(index.unique_names, prefix)


def complete(what: str, prefix: str, context: dict[str, str], indexes: Indexes) -> Completions:
    """Suggestions for one completion request; an unknown `what` suggests nothing."""
    btf = indexes.btf
    tracefs = indexes.tracefs
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
            return function_names(indexes.kallsyms, prefix)
    return Completions((), 0)
