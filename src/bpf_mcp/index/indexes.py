"""Indexes the router holds, one per source, each built whole from a load's chunks.

A refresh builds a new index and the router swaps it in at once, so a query never sees a
half-updated source.
"""

from __future__ import annotations

import bisect
import ctypes
import itertools
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar, cast

import attrs

from ..btf import Btf, Kind
from ..kallsyms import SymbolTable
from ..loaded import LoadedBpf
from ..reference import ReferenceData
from ..results import BpfHook
from ..sources import Source
from ..system import SystemFacts
from ..textindex import NearNames, SubstringIndex
from ..tracefs import TracefsChunk, TracepointRecord
from . import derived
from .loaded import LoadedIndex


@attrs.frozen
class TracefsIndex:
    """Every tracepoint, sorted by name, with a lookup by 'category:event'."""

    mount: str
    records: tuple[TracepointRecord, ...]
    by_name: Mapping[str, TracepointRecord] = attrs.field(eq=False)
    categories: tuple[str, ...] = attrs.field(eq=False)
    """Every category once, sorted."""
    events: tuple[str, ...] = attrs.field(eq=False)
    """Every event name (the part after ':') once, sorted."""
    broken: Mapping[str, str] = attrs.field(factory=dict, eq=False)
    """Why each listed event without a usable format file was left out, by name."""
    near: NearNames = attrs.field(factory=lambda: NearNames(()), eq=False)
    """Every 'category:event', for near matches of a missing one."""

    @classmethod
    def build(cls, chunks: Sequence[TracefsChunk]) -> TracefsIndex:
        records = sorted((r for c in chunks for r in c.records), key=lambda r: r.name)
        mount = chunks[0].mount if chunks else ""
        return cls(
            mount,
            tuple(records),
            {r.name: r for r in records},
            tuple(sorted({r.category for r in records})),
            tuple(sorted({r.event for r in records})),
            {b.name: b.reason for c in chunks for b in c.broken},
            NearNames(r.name for r in records),
        )

    @property
    def names(self) -> Sequence[str]:
        """Every 'category:event', sorted (the keys of `by_name`, in order)."""
        return tuple(self.by_name)


C = TypeVar("C")

_PADDING = "__pfx_"


@attrs.frozen
class KallsymsIndex:
    """The symbol table with its text symbols ordered by name (then by file order), and
    what answers derive from it, all built at once.

    `functions` leaves out the `__pfx_` padding symbols, `with_padding` keeps them; the
    search indexes find names by case-insensitive substring, by position in those
    sequences. The rows are arrays of table rows: treat them as values, do not mutate.
    """

    table: SymbolTable
    functions: array[int]
    search_functions: SubstringIndex = attrs.field(eq=False)
    with_padding: array[int] = attrs.field(eq=False)
    search_with_padding: SubstringIndex = attrs.field(eq=False)
    repeated: frozenset[str] = attrs.field(eq=False)
    areas: derived.TextAreas = attrs.field(eq=False)
    unique_names: tuple[str, ...] = attrs.field(eq=False)
    """Every text symbol name (padding left out) once, sorted."""
    near: NearNames = attrs.field(eq=False)
    """The same names, for near matches of a missing one."""

    @classmethod
    def build(cls, chunks: Sequence[SymbolTable]) -> KallsymsIndex:
        table = SymbolTable.concat(list(chunks))
        names = table.names
        functions = array("I", _text_rows(table, padding=False))
        padded = _with_padding(table, functions)
        unique = tuple(dict.fromkeys(map(names.__getitem__, functions)))
        return cls(
            table,
            functions,
            SubstringIndex(list(map(names.__getitem__, functions))),
            padded,
            SubstringIndex(list(map(names.__getitem__, padded))),
            derived.repeated_names(table, functions),
            derived.text_areas(table, functions),
            unique,
            NearNames(unique, distinct_sorted=True),
        )

    def rows_named(self, name: str) -> list[int]:
        """Rows of the text symbols named exactly `name`, in file order."""
        return derived.rows_named(self.table, self.functions, name)


def _with_padding(table: SymbolTable, functions: array[int]) -> array[int]:
    """The text rows by name, the padding symbols included."""
    names = table.names
    # Sorted by name, the padding symbols form one run, where "__pfx_" would go.
    at = bisect.bisect_left(functions, _PADDING, key=names.__getitem__)
    pads = array("I", _text_rows(table, padding=True))
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
    """The vmlinux BTF and the modules' split BTF on it, with what answers derive from
    vmlinux, all built at once."""

    btf: Btf
    modules: tuple[Btf, ...] = ()
    by_kind: Mapping[Kind, tuple[int, ...]] = attrs.field(factory=dict, eq=False)
    func_names: frozenset[str] = attrs.field(factory=frozenset, eq=False)
    kfunc_ids: tuple[int, ...] = attrs.field(default=(), eq=False)
    contexts: Mapping[str, tuple[str, str]] | None = attrs.field(default=None, eq=False)
    hooks: tuple[BpfHook, ...] = attrs.field(default=(), eq=False)
    raw_typedefs: tuple[int, ...] = attrs.field(default=(), eq=False)
    sorted_names: Mapping[Kind | None, tuple[str, ...]] = attrs.field(factory=dict, eq=False)
    """Named types' names once each, sorted: all of them (key None), and by kind."""
    near: Mapping[str, NearNames] = attrs.field(factory=dict, eq=False)
    """Each object's names (by object name), for near matches of a missing one."""

    @classmethod
    def build(cls, chunks: Sequence[Btf]) -> BtfIndex:
        """vmlinux (the first chunk) and the modules, with their name lookups built now,
        in the worker thread that builds indexes, so no query pays for them."""
        btf, *modules = chunks
        for obj in chunks:
            obj.find("")
            obj.search_names("")
        by_kind: dict[Kind, list[int]] = {}
        for tid in btf.named_ids():
            by_kind.setdefault(btf.kind(tid), []).append(tid)
        sorted_names: dict[Kind | None, tuple[str, ...]] = {
            kind: tuple(sorted(set(map(btf.name, ids)))) for kind, ids in by_kind.items()
        }
        sorted_names[None] = tuple(sorted(set().union(*sorted_names.values())))
        return cls(
            btf,
            tuple(modules),
            {kind: tuple(ids) for kind, ids in by_kind.items()},
            derived.func_names(btf),
            derived.kfunc_ids(btf),
            derived.contexts(btf),
            derived.hooks(btf),
            derived.raw_typedefs(btf),
            sorted_names,
            {
                obj.object_name: NearNames(sorted_names[None], distinct_sorted=True)
                if obj is btf
                else NearNames(obj.unique_names())
                for obj in chunks
            },
        )

    @property
    def objects(self) -> tuple[Btf, ...]:
        """vmlinux, then each module."""
        return (self.btf, *self.modules)

    def named_of_kind(self, kind: Kind) -> tuple[int, ...]:
        """Named ids of vmlinux of one kind, ascending."""
        return self.by_kind.get(kind, ())


SourceIndex = TracefsIndex | KallsymsIndex | BtfIndex | ReferenceData | SystemFacts | LoadedIndex
"""The index of any one source."""


def build_index(source: Source, chunks: Sequence[object]) -> SourceIndex:
    """The index of `source` from the chunks of one complete load.

    Blocking and CPU-heavy (run it in a worker thread). Ends by handing the memory the
    load's temporaries freed back to the system (see `release_freed_memory`).
    """
    index = _build(source, chunks)
    release_freed_memory()
    return index


def _of_type(chunks: Sequence[object], kind: type[C]) -> list[C]:
    """The chunks, each checked to be a `kind` (TypeError names a misrouted chunk)."""
    for chunk in chunks:
        if not isinstance(chunk, kind):
            raise TypeError(f"a {type(chunk).__name__} chunk among {kind.__name__} chunks")
    return cast(list[C], list(chunks))


def _build(source: Source, chunks: Sequence[object]) -> SourceIndex:
    match source:
        case Source.TRACEFS:
            return TracefsIndex.build(_of_type(chunks, TracefsChunk))
        case Source.KALLSYMS:
            return KallsymsIndex.build(_of_type(chunks, SymbolTable))
        case Source.BTF:
            return BtfIndex.build(_of_type(chunks, Btf))
        case Source.REFERENCE:
            (data,) = _of_type(chunks, ReferenceData)
            return data
        case Source.SYSTEM:
            (facts,) = _of_type(chunks, SystemFacts)
            return facts
        case Source.LOADED:
            return LoadedIndex.build(_of_type(chunks, LoadedBpf))


def find_malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (musl, macOS): nothing to call
    trim.argtypes = [ctypes.c_size_t]  # type: ignore[attr-defined]
    trim.restype = ctypes.c_int  # type: ignore[attr-defined]
    return trim


_MALLOC_TRIM = find_malloc_trim()


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
