"""What an object declares in its own BTF: maps (`.maps`), struct_ops maps, externs.

libbpf reads map definitions from the `.maps` data section: each variable is a struct
whose members encode the map's attributes as pointers to arrays (`__uint(type, N)` is
`int (*type)[N]`) or pointers to the key and value types. Externs are variables or
functions placed in the `.ksyms` (kernel symbols, kfuncs) and `.kconfig` (kernel config
values) data sections.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from ..btf import Btf, Kind
from .elf import BpfObject
from .relations import resolve_size

__all__ = ["ExternDecl", "MapDecl", "StructOpsDecl", "declared_externs", "declared_maps"]

LINKAGE_EXTERN = 2
_INT_ATTRS = ("type", "max_entries", "map_flags", "key_size", "value_size", "pinning")


@attrs.frozen
class MapDecl:
    """A map the object defines: name, map type number, key/value sizes (None if not
    given), max entries, and its section (`.maps`, or `.data`/`.rodata`/`.bss`...)."""

    name: str
    type: int
    key_size: int | None
    value_size: int | None
    max_entries: int
    section: str


@attrs.frozen
class StructOpsDecl:
    """A struct_ops map: its variable name, struct type name, and members holding programs."""

    name: str
    type_name: str
    section: str
    members: tuple[str, ...]


@attrs.frozen
class ExternDecl:
    """An extern the object needs resolved: name, section (.ksyms or .kconfig), whether it
    is a function (kfunc), weak, and its type in the object's BTF with modifiers and
    typedefs skipped (a variable's type, a function's prototype; 0 for void)."""

    name: str
    section: str
    function: bool
    weak: bool
    type_id: int


def _datasecs(btf: Btf, prefix: str) -> Iterator[tuple[str, int]]:
    for tid in btf.ids_of_kind(Kind.DATASEC):
        name = btf.name(tid)
        if name == prefix or name.startswith(prefix + "."):
            yield name, tid


def _pointed_array_len(btf: Btf, tid: int) -> int | None:
    """N for a member of type `int (*)[N]`, the encoding of `__uint(name, N)`."""
    tid = btf.resolve(tid)
    if btf.kind(tid) is not Kind.PTR:
        return None
    target = btf.resolve(btf.ref(tid))
    if btf.kind(target) is not Kind.ARRAY:
        return None
    return btf.array(target).nelems


def declared_maps(btf: Btf) -> tuple[list[MapDecl], list[StructOpsDecl]]:
    """The BTF-defined maps of `.maps` and the struct_ops maps of `.struct_ops*`."""
    maps: list[MapDecl] = []
    for section, sec_id in _datasecs(btf, ".maps"):
        for entry in btf.datasec_entries(sec_id):
            if btf.kind(entry.type_id) is not Kind.VAR:
                continue
            maps.append(_map(btf, section, entry.type_id))
    ops: list[StructOpsDecl] = []
    for prefix in (".struct_ops", "?.struct_ops"):
        for section, sec_id in _datasecs(btf, prefix):
            for entry in btf.datasec_entries(sec_id):
                if btf.kind(entry.type_id) is not Kind.VAR:
                    continue
                struct_id = btf.resolve(btf.ref(entry.type_id))
                members: tuple[str, ...] = ()
                if btf.kind(struct_id) in (Kind.STRUCT, Kind.UNION):
                    members = tuple(
                        m.name
                        for m in btf.members(struct_id)
                        if btf.kind(btf.resolve(m.type_id)) is Kind.PTR
                    )
                ops.append(
                    StructOpsDecl(btf.name(entry.type_id), btf.name(struct_id), section, members)
                )
    return maps, ops


def _map(btf: Btf, section: str, var_id: int) -> MapDecl:
    name = btf.name(var_id)
    struct_id = btf.resolve(btf.ref(var_id))
    values: dict[str, int] = {}
    sizes: dict[str, int | None] = {}
    if btf.kind(struct_id) is Kind.STRUCT:
        for member in btf.members(struct_id):
            if member.name in _INT_ATTRS:
                found = _pointed_array_len(btf, member.type_id)
                if found is not None:
                    values[member.name] = found
            elif member.name in ("key", "value"):
                pointer = btf.resolve(member.type_id)
                if btf.kind(pointer) is Kind.PTR:
                    sizes[member.name] = resolve_size(btf, btf.ref(pointer))
    return MapDecl(
        name,
        values.get("type", 0),
        sizes.get("key", values.get("key_size")),
        sizes.get("value", values.get("value_size")),
        values.get("max_entries", 0),
        section,
    )


def declared_externs(obj: BpfObject, btf: Btf) -> list[ExternDecl]:
    """The externs in `.ksyms` and `.kconfig`, weak when their ELF symbol is weak."""
    weak = {s.name for s in obj.symbols if s.bind == "STB_WEAK" and s.section_index < 0}
    found: list[ExternDecl] = []
    for prefix in (".ksyms", ".kconfig"):
        for section, sec_id in _datasecs(btf, prefix):
            for entry in btf.datasec_entries(sec_id):
                tid = entry.type_id
                kind = btf.kind(tid)
                if kind not in (Kind.VAR, Kind.FUNC):
                    continue
                name = btf.name(tid)
                found.append(
                    ExternDecl(
                        name,
                        section,
                        kind is Kind.FUNC,
                        name in weak,
                        btf.resolve(btf.ref(tid)),
                    )
                )
    return found
