"""The index of the loaded-BPF source: the last scan, with lookups by id and the
references between objects answers follow (which programs use a map, which links hold a
program)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ..loaded import BtfObject, Link, LoadedBpf, Map, Program


def _inverse(pairs: Sequence[tuple[int, int]]) -> dict[int, tuple[int, ...]]:
    found: dict[int, list[int]] = {}
    for key, value in pairs:
        found.setdefault(key, []).append(value)
    return {key: tuple(sorted(values)) for key, values in found.items()}


@attrs.frozen
class LoadedIndex:
    """One scan of the kernel's loaded BPF objects and its lookups."""

    scan: LoadedBpf
    programs: Mapping[int, Program] = attrs.field(eq=False)
    maps: Mapping[int, Map] = attrs.field(eq=False)
    links: Mapping[int, Link] = attrs.field(eq=False)
    btf: Mapping[int, BtfObject] = attrs.field(eq=False)
    programs_of_map: Mapping[int, tuple[int, ...]] = attrs.field(eq=False)
    """Map id -> ids of the programs that use it."""
    links_of_program: Mapping[int, tuple[int, ...]] = attrs.field(eq=False)
    """Program id -> ids of the links that attach it."""

    @classmethod
    def build(cls, chunks: Sequence[LoadedBpf]) -> LoadedIndex:
        (scan,) = chunks
        return cls(
            scan,
            {p.id: p for p in scan.programs},
            {m.id: m for m in scan.maps},
            {lk.id: lk for lk in scan.links},
            {b.id: b for b in scan.btf},
            _inverse([(m, p.id) for p in scan.programs for m in p.map_ids]),
            _inverse([(lk.prog_id, lk.id) for lk in scan.links]),
        )
