"""Snapshots: one kernel's BPF surface captured into a single archive, and read back as a
sysroot the readers can serve.

    captured = capture(Path("/"))                        # blocking reads
    write_snapshot(Path("host.snapshot.tar.xz"), captured)
    manifest = open_snapshot(Path("host.snapshot.tar.xz"), Path("/tmp/host"),
                             expect_arch=os.uname().machine)
    # /tmp/host is now a sysroot: Config(sysroot=Path("/tmp/host"))

`read_manifest` reads only the manifest (release, arch, sources) without extracting.
Every refusal is a `SnapshotError` (errors.py) with a sentence saying why.
"""

from __future__ import annotations

from .archive import Limits, check_arch, open_snapshot, read_manifest, write_archive
from .capture import Captured, capture, write_snapshot
from .layout import MANIFEST_NAME, arch_family, arch_from_config, is_snapshot_path
from .manifest import Manifest, MissedFile, SnapshotFile, manifest_json, parse_manifest

__all__ = [
    "MANIFEST_NAME",
    "Captured",
    "Limits",
    "Manifest",
    "MissedFile",
    "SnapshotFile",
    "arch_family",
    "arch_from_config",
    "capture",
    "check_arch",
    "is_snapshot_path",
    "manifest_json",
    "open_snapshot",
    "parse_manifest",
    "read_manifest",
    "write_archive",
    "write_snapshot",
]
