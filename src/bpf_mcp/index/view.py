"""What an answer may read: the ready indexes, the sources' statuses, the settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import attrs

from ..errors import SourceUnavailable
from ..reference import ReferenceData
from ..sources import Source
from ..status import SourceStatus
from ..system import SystemFacts
from .indexes import BtfIndex, KallsymsIndex, SourceIndex, TracefsIndex
from .loaded import LoadedIndex

IndexT = TypeVar("IndexT")


@attrs.frozen
class Indexes:
    """One index per source that has one ready; None where it has not."""

    tracefs: TracefsIndex | None = None
    kallsyms: KallsymsIndex | None = None
    btf: BtfIndex | None = None
    reference: ReferenceData | None = None
    system: SystemFacts | None = None
    loaded: LoadedIndex | None = None

    @classmethod
    def of(cls, by_source: Mapping[Source, SourceIndex]) -> Indexes:
        """The typed form of a source -> index mapping (TypeError for a misplaced index)."""
        return cls(
            _typed(by_source, Source.TRACEFS, TracefsIndex),
            _typed(by_source, Source.KALLSYMS, KallsymsIndex),
            _typed(by_source, Source.BTF, BtfIndex),
            _typed(by_source, Source.REFERENCE, ReferenceData),
            _typed(by_source, Source.SYSTEM, SystemFacts),
            _typed(by_source, Source.LOADED, LoadedIndex),
        )


def _typed(
    by_source: Mapping[Source, SourceIndex], source: Source, kind: type[IndexT]
) -> IndexT | None:
    index = by_source.get(source)
    if index is not None and not isinstance(index, kind):
        raise TypeError(f"{type(index).__name__} is not an index of {source.value}")
    return index


def _missing(source: Source) -> SourceUnavailable:
    return SourceUnavailable(f"The {source.value} source has no data loaded yet.")


@attrs.frozen
class View:
    """What a query may read: the ready indexes, the statuses, and the server's settings.

    The properties named after a source return its index, for answers whose query
    `needs` that source (the router answers them only once it is ready); an index that is
    merely preferred is read from `indexes`, where it may be None.
    """

    indexes: Indexes
    statuses: Mapping[Source, SourceStatus]
    sysroot: str = "/"
    refresh_interval: float = 5.0

    @property
    def tracefs(self) -> TracefsIndex:
        if self.indexes.tracefs is None:
            raise _missing(Source.TRACEFS)
        return self.indexes.tracefs

    @property
    def kallsyms(self) -> KallsymsIndex:
        if self.indexes.kallsyms is None:
            raise _missing(Source.KALLSYMS)
        return self.indexes.kallsyms

    @property
    def btf(self) -> BtfIndex:
        if self.indexes.btf is None:
            raise _missing(Source.BTF)
        return self.indexes.btf

    @property
    def reference(self) -> ReferenceData:
        if self.indexes.reference is None:
            raise _missing(Source.REFERENCE)
        return self.indexes.reference

    @property
    def system(self) -> SystemFacts:
        if self.indexes.system is None:
            raise _missing(Source.SYSTEM)
        return self.indexes.system

    @property
    def loaded(self) -> LoadedIndex:
        if self.indexes.loaded is None:
            raise _missing(Source.LOADED)
        return self.indexes.loaded
