"""The indexes built from each source's data, and the view answers read them through."""

from .indexes import BtfIndex, KallsymsIndex, SourceIndex, TracefsIndex, build_index
from .loaded import LoadedIndex
from .view import Indexes, View

__all__ = [
    "BtfIndex",
    "Indexes",
    "KallsymsIndex",
    "LoadedIndex",
    "SourceIndex",
    "TracefsIndex",
    "View",
    "build_index",
]
