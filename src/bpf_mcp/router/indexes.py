"""Indexes the router holds, one per source, each built whole from a load's chunks.

A refresh builds a new index and the router swaps it in at once, so a query never sees a
half-updated source.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

import attrs

from ..btf import Btf, Kind
from ..kallsyms import SymbolTable
from ..reference import ReferenceData
from ..sources import Source
from ..system import SystemFacts
from ..textindex import SubstringIndex
from ..tracefs import EventFormat


@attrs.frozen
class TracepointRecord:
    """One event of `available_events` with its parsed format and the raw text."""

    category: str
    event: str
    format: EventFormat
    raw: str

    @property
    def name(self) -> str:
        return f"{self.category}:{self.event}"


@attrs.frozen
class TracefsChunk:
    """What the tracefs reader sends: where it read, and a batch of events."""

    mount: str
    records: tuple[TracepointRecord, ...]


@attrs.frozen
class TracefsIndex:
    """Every tracepoint, sorted by name, with a lookup by 'category:event'."""

    mount: str
    records: tuple[TracepointRecord, ...]
    by_name: dict[str, TracepointRecord] = attrs.field(eq=False)

    @classmethod
    def build(cls, chunks: Sequence[TracefsChunk]) -> TracefsIndex:
        records = sorted((r for c in chunks for r in c.records), key=lambda r: r.name)
        mount = chunks[0].mount if chunks else ""
        return cls(mount, tuple(records), {r.name: r for r in records})


_TEXT = frozenset("tTwW")
_PADDING = "__pfx_"
_PADDING_END = "__pfx`"  # the first string after every "__pfx_..." in sort order


@attrs.frozen
class KallsymsIndex:
    """The symbol table with text symbols ordered by name (then by file order).

    `functions` leaves out the `__pfx_` padding symbols, `with_padding` keeps them; the
    search indexes find names by case-insensitive substring, by position in those tuples.
    """

    table: SymbolTable
    functions: tuple[int, ...]
    with_padding: tuple[int, ...]
    search_functions: SubstringIndex = attrs.field(eq=False)
    search_with_padding: SubstringIndex = attrs.field(eq=False)

    @classmethod
    def build(cls, chunks: Sequence[SymbolTable]) -> KallsymsIndex:
        table = SymbolTable.concat(list(chunks))
        names = table.names
        text = [i for i, kind in enumerate(table.types) if kind in _TEXT]
        text.sort(key=names.__getitem__)  # stable: equal names keep file order
        ordered = [names[i] for i in text]
        # Sorted by name, the padding symbols form one contiguous run.
        start = bisect.bisect_left(ordered, _PADDING)
        stop = bisect.bisect_left(ordered, _PADDING_END, lo=start)
        return cls(
            table,
            tuple(text[:start] + text[stop:]),
            tuple(text),
            SubstringIndex(ordered[:start] + ordered[stop:]),
            SubstringIndex(ordered),
        )


@attrs.frozen
class BtfIndex:
    """The vmlinux BTF and the modules' split BTF on it, with lazily computed id lists."""

    btf: Btf
    modules: tuple[Btf, ...] = ()
    _by_kind: dict[Kind, tuple[int, ...]] = attrs.field(factory=dict, eq=False)

    @classmethod
    def build(cls, chunks: Sequence[Btf]) -> BtfIndex:
        """vmlinux (the first chunk) and the modules, with their name lookups built now,
        in the worker thread that builds indexes, so no query pays for them."""
        btf, *modules = chunks
        for obj in chunks:
            obj.find("")
            obj.search_names("")
        return cls(btf, tuple(modules))

    @property
    def objects(self) -> tuple[Btf, ...]:
        """vmlinux, then each module."""
        return (self.btf, *self.modules)

    def named_of_kind(self, kind: Kind) -> tuple[int, ...]:
        """Named ids of vmlinux of one kind, ascending (computed once, then cached)."""
        ids = self._by_kind.get(kind)
        if ids is None:
            btf = self.btf
            ids = tuple(btf.filter_kind(btf.named_ids(), kind))
            self._by_kind[kind] = ids
        return ids


def build_index(source: Source, chunks: Sequence[Any]) -> Any:
    """The index of `source` from the chunks of one complete load."""
    match source:
        case Source.TRACEFS:
            return TracefsIndex.build(chunks)
        case Source.KALLSYMS:
            return KallsymsIndex.build(chunks)
        case Source.BTF:
            return BtfIndex.build(chunks)
        case Source.REFERENCE:
            (data,) = chunks
            assert isinstance(data, ReferenceData)
            return data
        case Source.SYSTEM:
            (facts,) = chunks
            assert isinstance(facts, SystemFacts)
            return facts
