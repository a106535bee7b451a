"""The manifest of a snapshot: which kernel it is, what it holds, and what it missed.

`manifest_json` and `parse_manifest` turn a `Manifest` into the archive's first member and
back; parsing checks every field, so a manifest that parses names only safe paths with
well-formed sizes and checksums. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NoReturn

import attrs

from ..errors import NotASnapshot, SnapshotDamaged, SnapshotUnsafe
from ..sources import Source
from .layout import BTF_DIR, KALLSYMS, TRACEFS, check_path

FORMAT = "bpf-mcp-snapshot"
VERSION = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FIELDS = (
    "format",
    "version",
    "producer",
    "release",
    "arch",
    "boot_id",
    "captured_at",
    "addresses",
    "files",
    "missed",
)


@attrs.frozen
class SnapshotFile:
    """One file of a snapshot: its path relative to `/`, size in bytes and SHA-256 (hex)."""

    path: str
    size: int
    sha256: str


@attrs.frozen
class MissedFile:
    """A kernel file (or directory) the capture could not read, and the sentence why."""

    path: str
    reason: str


@attrs.frozen
class Manifest:
    """What a snapshot says about itself.

    `release` and `boot_id` are "" when they could not be read (then `missed` says so);
    `arch` is the machine as `uname -m` names it, or "unknown". `captured_at` is UTC in
    ISO 8601 (`2026-12-07T21:30:00Z`). `addresses` is True when kallsyms kept its
    addresses (else every address is zero, as an unprivileged reader sees them). `files`
    is sorted by path.
    """

    release: str
    arch: str
    boot_id: str
    captured_at: str
    addresses: bool
    files: tuple[SnapshotFile, ...]
    missed: tuple[MissedFile, ...] = ()
    producer: str = "bpf-mcp"

    def file(self, path: str) -> SnapshotFile | None:
        """The entry of `path`, or None when the snapshot does not hold it."""
        return next((f for f in self.files if f.path == path), None)

    @property
    def total_bytes(self) -> int:
        """The size of every file together, uncompressed."""
        return sum(f.size for f in self.files)

    def sources(self) -> tuple[Source, ...]:
        """The kernel sources this snapshot can answer from (the system facts always)."""
        paths = {f.path for f in self.files}
        found = []
        if f"{BTF_DIR}/vmlinux" in paths:
            found.append(Source.BTF)
        if KALLSYMS in paths:
            found.append(Source.KALLSYMS)
        if f"{TRACEFS}/available_events" in paths:
            found.append(Source.TRACEFS)
        found.append(Source.SYSTEM)
        return tuple(found)

    def missing_sources(self) -> dict[Source, str]:
        """Each of BTF, kallsyms and tracefs the snapshot lacks, with why: the capture's
        own reason where it recorded one ("sys/kernel/tracing: Permission denied ...")."""
        held = self.sources()
        reasons = {m.path: m.reason for m in self.missed}
        missing = {}
        for source, paths in _SOURCE_PATHS.items():
            if source in held:
                continue
            why = next((f"{p}: {reasons[p]}" for p in paths if p in reasons), None)
            missing[source] = why or f"the snapshot holds no {paths[-1]}"
        return missing


_SOURCE_PATHS = {
    Source.BTF: (BTF_DIR, f"{BTF_DIR}/vmlinux"),
    Source.KALLSYMS: (KALLSYMS,),
    Source.TRACEFS: (TRACEFS, f"{TRACEFS}/available_events"),
}


def manifest_json(manifest: Manifest) -> bytes:
    """The manifest as the archive stores it: JSON, keys in a fixed order, one file a line."""
    head = {
        "format": FORMAT,
        "version": VERSION,
        "producer": manifest.producer,
        "release": manifest.release,
        "arch": manifest.arch,
        "boot_id": manifest.boot_id,
        "captured_at": manifest.captured_at,
        "addresses": manifest.addresses,
    }
    lines = [json.dumps(head)[:-1] + ","]
    lines.append(' "files": [')
    lines.append(",\n".join(f"  {json.dumps(attrs.asdict(f))}" for f in manifest.files))
    lines.append(' ], "missed": [')
    lines.append(",\n".join(f"  {json.dumps(attrs.asdict(m))}" for m in manifest.missed))
    lines.append(" ]}")
    return ("\n".join(lines) + "\n").encode()


def parse_manifest(data: bytes, *, max_files: int) -> Manifest:
    """The manifest in `data`.

    Raises NotASnapshot when `data` is not a bpf-mcp snapshot manifest at all,
    SnapshotDamaged when it is one with a field missing or malformed (or of a newer
    format version), SnapshotUnsafe when it names a path a snapshot may not hold or more
    than `max_files` files.
    """
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise NotASnapshot(
            "its manifest.json is not JSON: this is not a bpf-mcp snapshot"
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise NotASnapshot(
            f"its manifest.json does not say format {FORMAT!r}: this is not a bpf-mcp snapshot"
        )
    version = raw.get("version")
    if version != VERSION:
        raise SnapshotDamaged(
            f"the snapshot is of format version {version!r}, and this bpf-mcp reads version"
            f" {VERSION}: take the snapshot again with this bpf-mcp, or upgrade bpf-mcp"
        )
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        _damaged(f"fields this format does not have: {', '.join(unknown)}")
    files = _list(raw, "files")
    if len(files) > max_files:
        raise SnapshotUnsafe(
            f"the snapshot lists {len(files)} files, more than the {max_files} a snapshot may"
            " hold: refused"
        )
    entries = tuple(_file(item) for item in files)
    paths = [f.path for f in entries]
    if paths != sorted(set(paths)):
        _damaged("its files are not listed once each in path order")
    return Manifest(
        release=_text(raw, "release"),
        arch=_text(raw, "arch"),
        boot_id=_text(raw, "boot_id"),
        captured_at=_text(raw, "captured_at"),
        addresses=_flag(raw, "addresses"),
        files=entries,
        missed=tuple(_missed(item) for item in _list(raw, "missed")),
        producer=_text(raw, "producer"),
    )


def _damaged(what: str) -> NoReturn:
    raise SnapshotDamaged(f"the snapshot's manifest is malformed ({what}): take the snapshot again")


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or len(value) > 4096:
        _damaged(f"{key!r} is not a string")
    return str(value)


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key)
    if not isinstance(value, bool):
        _damaged(f"{key!r} is not true or false")
    return bool(value)


def _list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    if not isinstance(value, list):
        _damaged(f"{key!r} is not a list")
    return list(value)


def _file(item: Any) -> SnapshotFile:
    if not isinstance(item, dict) or set(item) != {"path", "size", "sha256"}:
        _damaged("a file entry is not {path, size, sha256}")
    path, size, digest = item["path"], item["size"], item["sha256"]
    if not isinstance(path, str):
        _damaged("a file's path is not a string")
    check_path(path)
    if type(size) is not int or size < 0:
        _damaged(f"the size of {path} is not a number of bytes")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        _damaged(f"the sha256 of {path} is not 64 lowercase hex digits")
    return SnapshotFile(path, size, digest)


def _missed(item: Any) -> MissedFile:
    if not isinstance(item, dict) or set(item) != {"path", "reason"}:
        _damaged("a missed entry is not {path, reason}")
    path, reason = item["path"], item["reason"]
    if not isinstance(path, str) or not isinstance(reason, str):
        _damaged("a missed entry's path or reason is not a string")
    return MissedFile(path, reason)
