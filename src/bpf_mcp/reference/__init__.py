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
class ReferenceData:
    """Descriptions and fallback values of `enum bpf_prog_type` and `enum bpf_map_type`."""

    prog_types: tuple[ReferenceEntry, ...]
    map_types: tuple[ReferenceEntry, ...]

    def description(self, table: str, constant: str) -> str | None:
        """Our description of `constant` in `table` ("prog_types" / "map_types"), if any."""
        for entry in getattr(self, table):
            if entry.constant == constant:
                return str(entry.description)
        return None


def _entries(doc: dict[str, Any], key: str) -> tuple[ReferenceEntry, ...]:
    rows = doc.get(key)
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
    return ReferenceData(_entries(doc, "prog_types"), _entries(doc, "map_types"))
