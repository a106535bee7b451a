"""Indexes the router holds, one per source, each built whole from a load's chunks.

A refresh builds a new index and the router swaps it in at once, so a query never sees a
half-updated source.
"""

from __future__ import annotations

import bisect
import ctypes
import itertools
from array import array
from collections.abc import Callable, Sequence
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


_PADDING = "__pfx_"


@attrs.frozen
class KallsymsIndex:
    """The symbol table with its text symbols ordered by name (then by file order).

    `functions` leaves out the `__pfx_` padding symbols, `with_padding` keeps them; the
    search indexes find names by case-insensitive substring, by position in those
    sequences. The rows are arrays of table rows: treat them as values, do not mutate.
    Everything with the padding is built on first use (few queries ask for it), from the
    same table, so it equals what an eager build would give.
    """

    table: SymbolTable
    functions: array[int]
    search_functions: SubstringIndex = attrs.field(eq=False)
    _padded: dict[str, Any] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    @classmethod
    def build(cls, chunks: Sequence[SymbolTable]) -> KallsymsIndex:
        table = SymbolTable.concat(list(chunks))
        rows = _text_rows(table, padding=False)
        names = table.names
        return cls(table, array("I", rows), SubstringIndex(list(map(names.__getitem__, rows))))

    @property
    def with_padding(self) -> array[int]:
        """The text rows by name, the padding symbols included."""
        rows: array[int] | None = self._padded.get("rows")
        if rows is None:
            rows = self._padded.setdefault("rows", self._with_padding())
        return rows

    @property
    def search_with_padding(self) -> SubstringIndex:
        """The substring index of `with_padding`."""
        search: SubstringIndex | None = self._padded.get("search")
        if search is None:
            names = self.table.names
            built = SubstringIndex(list(map(names.__getitem__, self.with_padding)))
            search = self._padded.setdefault("search", built)
        return search

    def _with_padding(self) -> array[int]:
        names = self.table.names
        # Sorted by name, the padding symbols form one run, where "__pfx_" would go.
        functions = self.functions
        at = bisect.bisect_left(functions, _PADDING, key=names.__getitem__)
        pads = array("I", _text_rows(self.table, padding=True))
        return functions[:at] + pads + functions[at:]


_IS_TEXT = bytes(chr(code) in "tTwW" for code in range(256))


def _text_rows(table: SymbolTable, *, padding: bool) -> list[int]:
    """The rows of the text symbols that are (or are not) `__pfx_` padding, sorted by name
    and, for equal names, in file order.

    Built with C-level operations, not a Python loop over every row: one byte per row
    says whether it is text, one whether it is padding, and the two are combined as
    integers of a bit per byte.
    """
    names = table.names
    count = len(names)
    text = int.from_bytes(table.types.encode("ascii", "replace").translate(_IS_TEXT), "little")
    pad = int.from_bytes(bytes(map(str.startswith, names, itertools.repeat(_PADDING))), "little")
    keep = (text & (pad if padding else ~pad)).to_bytes(count, "little")
    rows = list(itertools.compress(range(count), keep))
    rows.sort(key=names.__getitem__)  # stable: equal names keep file order
    return rows


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
    """The index of `source` from the chunks of one complete load.

    Blocking and CPU-heavy (run it in a worker thread). Ends by handing the memory the
    load's temporaries freed back to the system (see `release_freed_memory`).
    """
    index = _build(source, chunks)
    release_freed_memory()
    return index


def _build(source: Source, chunks: Sequence[Any]) -> Any:
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


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (musl, macOS): nothing to call
    trim.argtypes = [ctypes.c_size_t]  # type: ignore[attr-defined]
    trim.restype = ctypes.c_int  # type: ignore[attr-defined]
    return trim


_MALLOC_TRIM = _find_malloc_trim()


def release_freed_memory() -> None:
    """Return the C heap's free pages to the system, where the C library can (glibc).

    Sources are read and indexed in worker threads, and glibc keeps what those threads
    free (a load's file text, line lists and other temporaries, ~18 MB over a start on a
    6.18 kernel) in per-thread arenas it does not shrink by itself, so the server's RSS
    would carry it for good. `malloc_trim` gives it back: a few ms, and it takes no lock
    a caller of this function could hold. Elsewhere this does nothing.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
