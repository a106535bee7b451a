"""The manifest: JSON round trip, and every malformed field refused with its own error."""

from __future__ import annotations

import json
import string

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.errors import NotASnapshot, SnapshotDamaged, SnapshotUnsafe
from bpf_mcp.snapshot import (
    Manifest,
    MissedFile,
    SnapshotFile,
    is_snapshot_path,
    manifest_json,
    parse_manifest,
)
from bpf_mcp.sources import Source

from .conftest import manifest_for

NAME = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=20)
PATHS = st.one_of(
    st.sampled_from(["proc/kallsyms", "proc/config.gz", "sys/kernel/security/lsm"]),
    NAME.map(lambda n: f"sys/kernel/btf/{n}"),
    st.tuples(NAME, NAME).map(lambda p: f"sys/kernel/tracing/events/{p[0]}/{p[1]}/format"),
    NAME.map(lambda n: f"sys/bus/event_source/devices/{n}/type"),
    NAME.map(lambda n: f"boot/config-6.12.{n}+deb12"),
)
FILES = st.lists(
    st.builds(
        SnapshotFile,
        PATHS,
        st.integers(0, 1 << 40),
        st.text("0123456789abcdef", min_size=64, max_size=64),
    ),
    max_size=20,
    unique_by=lambda f: f.path,
).map(lambda files: tuple(sorted(files, key=lambda f: f.path)))
TEXT = st.text(max_size=60)
MANIFESTS = st.builds(
    Manifest,
    release=TEXT,
    arch=TEXT,
    boot_id=TEXT,
    captured_at=TEXT,
    addresses=st.booleans(),
    files=FILES,
    missed=st.lists(st.builds(MissedFile, TEXT, TEXT), max_size=5).map(tuple),
    producer=TEXT,
)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(MANIFESTS)
def test_a_manifest_survives_its_json(manifest: Manifest) -> None:
    data = manifest_json(manifest)
    assert parse_manifest(data, max_files=100) == manifest
    assert manifest_json(parse_manifest(data, max_files=100)) == data


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes_are_no_manifest(data: bytes) -> None:
    with pytest.raises(NotASnapshot):
        parse_manifest(data, max_files=100)


def _raw(**changes: object) -> bytes:
    raw = json.loads(manifest_json(manifest_for({"proc/kallsyms": b"x"})))
    raw.update(changes)
    return json.dumps(raw).encode()


def _file(
    path: str = "proc/kallsyms", size: object = 1, sha256: object = "0" * 64
) -> dict[str, object]:
    return {"path": path, "size": size, "sha256": sha256}


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"format": "something-else"}, NotASnapshot, "format"),
        ({"version": 2}, SnapshotDamaged, "version 2"),
        ({"surprise": 1}, SnapshotDamaged, "surprise"),
        ({"release": 5}, SnapshotDamaged, "'release'"),
        ({"addresses": "yes"}, SnapshotDamaged, "'addresses'"),
        ({"files": {}}, SnapshotDamaged, "'files'"),
        ({"files": [_file(size=-1)]}, SnapshotDamaged, "size of proc/kallsyms"),
        ({"files": [_file(size=True)]}, SnapshotDamaged, "size of proc/kallsyms"),
        ({"files": [_file(sha256="ABC")]}, SnapshotDamaged, "sha256 of proc/kallsyms"),
        ({"files": [_file(), _file()]}, SnapshotDamaged, "once each"),
        (
            {"files": [_file("sys/kernel/btf/b"), _file("sys/kernel/btf/a")]},
            SnapshotDamaged,
            "order",
        ),
        ({"files": [_file("../etc/passwd")]}, SnapshotUnsafe, "../etc/passwd"),
        ({"files": [_file("/proc/kallsyms")]}, SnapshotUnsafe, "/proc/kallsyms"),
        ({"files": [_file("sys/kernel/btf/../../../x")]}, SnapshotUnsafe, "plain relative"),
        ({"files": [{**_file(), "mode": 7}]}, SnapshotDamaged, "path, size, sha256"),
        ({"missed": [{"path": 1, "reason": "x"}]}, SnapshotDamaged, "missed"),
        ({"files": [_file(f"sys/kernel/btf/m{i:03}") for i in range(101)]}, SnapshotUnsafe, "101"),
    ],
)
def test_malformed_fields_are_refused_by_name(
    changes: dict[str, object], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=None) as caught:
        parse_manifest(_raw(**changes), max_files=100)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    "path",
    [
        "",
        ".",
        "..",
        "proc",
        "proc/",
        "proc//kallsyms",
        "./proc/kallsyms",
        "proc/kallsyms/",
        "sys/kernel/btf/.hidden",
        "sys/kernel/btf/a/b",
        "sys/kernel/btf/a\\b",
        "sys/kernel/btf/a\nb",
        "sys/kernel/btf/a\x00b",
        "sys/kernel/tracing/events/../../../../etc/format",
        "sys/kernel/tracing/events/a/b/enable",
        "etc/shadow",
        "manifest.json",
        "sys/kernel/btf/" + "x" * 300,
    ],
)
def test_only_kernel_files_at_plain_paths_may_be_held(path: str) -> None:
    assert not is_snapshot_path(path)


def test_sources_follow_the_files() -> None:
    both = manifest_for({"sys/kernel/btf/vmlinux": b"", "proc/kallsyms": b""})
    assert both.sources() == (Source.BTF, Source.KALLSYMS, Source.SYSTEM)
    bare = attrs.evolve(both, files=())
    assert bare.sources() == (Source.SYSTEM,)
    assert both.file("proc/kallsyms") is not None
    assert bare.file("proc/kallsyms") is None


def test_missing_sources_say_why_the_capture_missed_them() -> None:
    manifest = attrs.evolve(
        manifest_for({"proc/kallsyms": b""}),
        missed=(MissedFile("sys/kernel/tracing", "Permission denied (EACCES); run as root"),),
    )
    assert manifest.missing_sources() == {
        Source.BTF: "the snapshot holds no sys/kernel/btf/vmlinux",
        Source.TRACEFS: "sys/kernel/tracing: Permission denied (EACCES); run as root",
    }
