"""Archives built by hand, to feed the snapshot reader what `bpf-mcp snapshot` never writes."""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs
import pytest

from bpf_mcp.snapshot import (
    Captured,
    Manifest,
    SnapshotFile,
    capture,
    manifest_json,
    write_snapshot,
)

from ..support import FIXTURE_ROOT


def manifest_for(files: Mapping[str, bytes], **changes: object) -> Manifest:
    """A manifest that truly describes `files`, with any field changed."""
    entries = tuple(
        SnapshotFile(path, len(data), hashlib.sha256(data).hexdigest())
        for path, data in sorted(files.items())
    )
    manifest = Manifest(
        release="6.18.0-test",
        arch="x86_64",
        boot_id="00000000-0000-0000-0000-000000000000",
        captured_at="2026-12-07T12:00:00Z",
        addresses=False,
        files=entries,
    )
    return attrs.evolve(manifest, **changes)  # type: ignore[arg-type]


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, linkname: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o644
    return info, data


def tar_bytes(
    members: Iterable[tuple[tarfile.TarInfo, bytes]],
    *,
    compression: str = "xz",
    tar_format: int = tarfile.USTAR_FORMAT,
) -> bytes:
    """`members` as a tar compressed with xz, gzip or nothing ("none")."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    raw = buffer.getvalue()
    if compression == "xz":
        return lzma.compress(raw, preset=0)
    if compression == "gzip":
        return gzip.compress(raw, mtime=0)
    return raw


def snapshot_bytes(
    files: Mapping[str, bytes],
    manifest: Manifest | None = None,
    *,
    compression: str = "xz",
    tar_format: int = tarfile.USTAR_FORMAT,
) -> bytes:
    """An archive of `files` with `manifest` (default: the true one) as its first member."""
    manifest = manifest or manifest_for(files)
    members = [member("manifest.json", manifest_json(manifest))]
    members += [member(path, data) for path, data in sorted(files.items())]
    return tar_bytes(members, compression=compression, tar_format=tar_format)


SMALL_FILES = {
    "proc/sys/kernel/osrelease": b"6.18.0-test\n",
    "sys/kernel/btf/vmlinux": bytes(range(256)) * 4,
    "sys/kernel/tracing/events/sched/sched_switch/format": b"name: sched_switch\n",
}


@pytest.fixture(scope="session")
def fixture_capture() -> Captured:
    """fixtures/linux-6.18 captured as a snapshot, in memory."""
    return capture(FIXTURE_ROOT, producer="bpf-mcp test")


@pytest.fixture(scope="session")
def fixture_snapshot(fixture_capture: Captured, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fixtures/linux-6.18 written as a snapshot file."""
    out = tmp_path_factory.mktemp("snapshot") / "linux-6.18.tar.xz"
    write_snapshot(out, fixture_capture)
    return out
