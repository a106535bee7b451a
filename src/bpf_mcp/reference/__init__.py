"""The BPF reference data we ship: one-line descriptions and fallback enum values."""

from __future__ import annotations

import json
from typing import Any

import attrs


class ReferenceError(Exception):
    """The reference data file is not what this version of bpf-mcp expects."""


@attrs.frozen
class ReferenceEntry:
    """One enumerator: its C name, its value in Linux 6.18, and our description."""

    constant: str
    value: int
    description: str


@attrs.frozen
class ReferenceNote:
    """A name (a kfunc parameter suffix, a config flag) and what it means, in our words."""

    name: str
    text: str


@attrs.frozen
class ReferenceData:
    """Descriptions and fallback values of the BPF enums (`bpf_prog_type`, `bpf_map_type`,
    `bpf_func_id`, `bpf_attach_type`, `bpf_link_type`), and our notes on kfunc parameter
    annotations and BPF-relevant kernel config flags.

    The tables after `map_types` may be absent from a document (they came later); they are
    then empty.
    """

    prog_types: tuple[ReferenceEntry, ...]
    map_types: tuple[ReferenceEntry, ...]
    helpers: tuple[ReferenceEntry, ...] = ()
    attach_types: tuple[ReferenceEntry, ...] = ()
    link_types: tuple[ReferenceEntry, ...] = ()
    kfunc_annotations: tuple[ReferenceNote, ...] = ()
    config_flags: tuple[ReferenceNote, ...] = ()
    _lookup: dict[tuple[str, str], str] = attrs.field(
        init=False, factory=dict, eq=False, repr=False
    )

    def description(self, table: str, constant: str) -> str | None:
        """Our description of `constant` in `table` ("prog_types", "map_types", "helpers",
        "attach_types", "link_types"), if any."""
        lookup = self._lookup
        if not lookup:
            for name in ENTRY_TABLES:
                for entry in getattr(self, name):
                    lookup[name, entry.constant] = entry.description
        return lookup.get((table, constant))


ENTRY_TABLES = ("prog_types", "map_types", "helpers", "attach_types", "link_types")


def _entries(doc: dict[str, Any], key: str, *, required: bool) -> tuple[ReferenceEntry, ...]:
    rows = doc.get(key)
    if rows is None and not required:
        return ()
    if not isinstance(rows, list) or not rows:
        raise ReferenceError(f"'{key}' is missing or empty")
    out = []
    for n, row in enumerate(rows):
        if (
            not isinstance(row, list)
            or len(row) != 3
            or not isinstance(row[0], str)
            or type(row[1]) is not int
            or not isinstance(row[2], str)
        ):
            raise ReferenceError(f"'{key}' row {n} is not [constant, value, description]")
        out.append(ReferenceEntry(row[0], row[1], row[2]))
    return tuple(out)


def parse_reference(text: str) -> ReferenceData:
    """Parse the shipped reference JSON. Raises ReferenceError naming what is wrong."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReferenceError(f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != 1:
        raise ReferenceError("not a format-1 reference document")
    return ReferenceData(
        prog_types=_entries(doc, "prog_types", required=True),
        map_types=_entries(doc, "map_types", required=True),
        helpers=_entries(doc, "helpers", required=False),
        attach_types=_entries(doc, "attach_types", required=False),
        link_types=_entries(doc, "link_types", required=False),
        kfunc_annotations=_notes(doc, "kfunc_annotations"),
        config_flags=_notes(doc, "config_flags"),
    )


def _notes(doc: dict[str, Any], key: str) -> tuple[ReferenceNote, ...]:
    rows = doc.get(key, [])
    if not isinstance(rows, list):
        raise ReferenceError(f"'{key}' is not a list")
    out = []
    for n, row in enumerate(rows):
        if (
            not isinstance(row, list)
            or len(row) != 2
            or not all(isinstance(part, str) and part for part in row)
        ):
            raise ReferenceError(f"'{key}' row {n} is not [name, text]")
        out.append(ReferenceNote(row[0], row[1]))
    return tuple(out)
