"""Reading a snapshot back: a faithful sysroot from a good archive, a clear refusal of a
damaged, foreign or hostile one, and nothing written outside the target either way."""

from __future__ import annotations

import hashlib
import io
import lzma
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpf_mcp.errors import (
    NotASnapshot,
    SnapshotDamaged,
    SnapshotError,
    SnapshotUnsafe,
    SnapshotWrongArch,
)
from bpf_mcp.snapshot import (
    Captured,
    Limits,
    manifest_json,
    open_snapshot,
    read_manifest,
    write_archive,
    write_snapshot,
)

from ..support import FIXTURE_ROOT
from .conftest import (
    SMALL_FILES,
    manifest_for,
    member,
    snapshot_bytes,
    tar_bytes,
)

SETTINGS = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _open(data: bytes, where: Path, **kw: object) -> tuple[Path, Path]:
    """Write `data` as `where/in.tar.xz`, open it into `where/out`; return both paths."""
    archive = where / "in.tar.xz"
    archive.write_bytes(data)
    out = where / "out"
    open_snapshot(archive, out, **kw)  # type: ignore[arg-type]
    return archive, out


def _refused(data: bytes, where: Path, error: type[SnapshotError], **kw: object) -> str:
    """Open `data`, expecting `error`; check nothing but the archive was left behind."""
    with pytest.raises(error) as caught:
        _open(data, where, **kw)
    assert sorted(p.name for p in where.iterdir()) == ["in.tar.xz"]
    return str(caught.value)


# -- a good snapshot ------------------------------------------------------------------------


def test_the_fixture_kernel_comes_back_as_its_sysroot(
    fixture_capture: Captured, fixture_snapshot: Path, tmp_path: Path
) -> None:
    into = tmp_path / "linux-6.18"
    manifest = open_snapshot(fixture_snapshot, into, expect_arch="x86_64")
    assert manifest == fixture_capture.manifest
    assert manifest == read_manifest(fixture_snapshot)
    assert manifest.release == (FIXTURE_ROOT / "proc/sys/kernel/osrelease").read_text().strip()
    assert manifest.arch == "x86_64"  # from the fixture's config: not this machine's uname
    tree = _tree(into)
    assert tree.pop("manifest.json")
    assert tree == dict(fixture_capture.contents)
    for path in ("sys/kernel/btf/vmlinux", "proc/config.gz", "proc/version"):
        assert tree[path] == (FIXTURE_ROOT / path).read_bytes()
    assert (into / "proc/kallsyms").stat().st_mode & 0o777 == 0o444


def test_kallsyms_keeps_names_and_types_but_not_addresses(fixture_capture: Captured) -> None:
    original = (FIXTURE_ROOT / "proc/kallsyms").read_text().splitlines()
    stored = fixture_capture.contents["proc/kallsyms"].decode().splitlines()
    assert len(stored) == len(original)
    assert {line.split(" ", 1)[0] for line in stored} == {"0" * 16}
    assert [line.split(" ", 1)[1] for line in stored] == [
        line.split(" ", 1)[1] for line in original
    ]
    assert not fixture_capture.manifest.addresses


def test_the_same_capture_writes_the_same_bytes(fixture_capture: Captured, tmp_path: Path) -> None:
    write_snapshot(tmp_path / "a", fixture_capture)
    write_snapshot(tmp_path / "b", fixture_capture)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    with tarfile.open(tmp_path / "a") as tar:
        names = tar.getnames()
        assert all(m.mode == 0o444 and m.isreg() for m in tar.getmembers())
    assert names[0] == "manifest.json"
    assert names[1:] == sorted(names[1:]) == [f.path for f in fixture_capture.manifest.files]


def test_a_gzip_recompression_is_read_too(tmp_path: Path) -> None:
    _, out = _open(snapshot_bytes(SMALL_FILES, compression="gzip"), tmp_path)
    assert _tree(out) | {"manifest.json": b""} == SMALL_FILES | {"manifest.json": b""}


def test_the_target_must_be_new_or_empty(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("mine")
    archive = tmp_path / "in.tar.xz"
    archive.write_bytes(snapshot_bytes(SMALL_FILES))
    with pytest.raises(FileExistsError):
        open_snapshot(archive, tmp_path / "busy")
    assert (tmp_path / "busy" / "x").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    open_snapshot(archive, tmp_path / "empty")
    assert (tmp_path / "empty/proc/sys/kernel/osrelease").exists()


def test_the_writer_refuses_contents_that_break_the_manifest_promise() -> None:
    manifest = manifest_for(SMALL_FILES)
    for contents in (
        {**SMALL_FILES, "proc/sys/kernel/osrelease": b"6.18.0-tesT\n"},
        {k: v for k, v in SMALL_FILES.items() if k != "sys/kernel/btf/vmlinux"},
    ):
        with pytest.raises(ValueError, match="does not match the manifest"):
            write_archive(io.BytesIO(), manifest, contents)


# -- damaged, foreign, or no snapshot at all ----------------------------------------------


def test_a_wrong_checksum_is_refused_naming_the_file(tmp_path: Path) -> None:
    altered = {**SMALL_FILES, "sys/kernel/btf/vmlinux": bytes(1024)}
    data = snapshot_bytes(altered, manifest_for(SMALL_FILES))
    message = _refused(data, tmp_path, SnapshotDamaged)
    assert "SHA-256 of sys/kernel/btf/vmlinux" in message


def test_a_size_that_differs_from_the_manifest_is_refused(tmp_path: Path) -> None:
    altered = {**SMALL_FILES, "proc/sys/kernel/osrelease": b"6.18\n"}
    message = _refused(
        snapshot_bytes(altered, manifest_for(SMALL_FILES)), tmp_path, SnapshotDamaged
    )
    assert "proc/sys/kernel/osrelease is 5 bytes in the archive but 12" in message


def test_a_file_the_manifest_does_not_list_is_refused(tmp_path: Path) -> None:
    extra = {**SMALL_FILES, "proc/kallsyms": b"0 T x\n"}
    message = _refused(snapshot_bytes(extra, manifest_for(SMALL_FILES)), tmp_path, SnapshotDamaged)
    assert "proc/kallsyms, which its manifest does not list" in message


def test_a_listed_file_that_never_comes_is_truncation(tmp_path: Path) -> None:
    fewer = {k: v for k, v in SMALL_FILES.items() if "btf" not in k}
    message = _refused(snapshot_bytes(fewer, manifest_for(SMALL_FILES)), tmp_path, SnapshotDamaged)
    assert "truncated: 1 of its 3 files are missing (the first: sys/kernel/btf/vmlinux)" in message


@pytest.fixture(scope="module")
def medium_snapshot(fixture_capture: Captured) -> bytes:
    """Forty of the fixture's files: big enough for several compressed blocks."""
    files = {
        path: fixture_capture.contents[path]
        for path in sorted(fixture_capture.contents)
        if path.startswith("sys/kernel/tracing/events/")
    }
    chosen = dict(list(files.items())[:40])
    chosen["proc/config.gz"] = fixture_capture.contents["proc/config.gz"]
    return snapshot_bytes(chosen)


@SETTINGS
@given(cut=st.floats(0, 1, exclude_max=True))
def test_a_truncated_archive_is_refused(
    medium_snapshot: bytes, tmp_path_factory: pytest.TempPathFactory, cut: float
) -> None:
    where = tmp_path_factory.mktemp("cut")
    message = _refused(medium_snapshot[: int(len(medium_snapshot) * cut)], where, SnapshotError)
    assert "truncated" in message or "not a bpf-mcp snapshot" in message


def test_the_whole_fixture_snapshot_cut_short_is_truncated(
    fixture_snapshot: Path, tmp_path: Path
) -> None:
    data = fixture_snapshot.read_bytes()
    message = _refused(data[: len(data) * 3 // 4], tmp_path, SnapshotDamaged)
    assert "is truncated: its compressed data ends early; copy the snapshot again" in message


@SETTINGS
@given(at=st.integers(0, 5000), flip=st.integers(1, 255))
def test_a_flipped_byte_is_refused_or_harmless(
    tmp_path_factory: pytest.TempPathFactory, at: int, flip: int
) -> None:
    data = bytearray(snapshot_bytes(SMALL_FILES))
    data[at % len(data)] ^= flip
    where = tmp_path_factory.mktemp("flip")
    try:
        _, out = _open(bytes(data), where)
    except SnapshotError:
        assert sorted(p.name for p in where.iterdir()) == ["in.tar.xz"]
    else:
        tree = _tree(out)
        del tree["manifest.json"]
        assert tree == SMALL_FILES


def test_another_architecture_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    data = snapshot_bytes(SMALL_FILES, manifest_for(SMALL_FILES, arch="aarch64"))
    message = _refused(data, tmp_path, SnapshotWrongArch, expect_arch="x86_64")
    assert "snapshot of aarch64 (kernel 6.18.0-test), not of x86_64" in message
    _open(data, tmp_path, expect_arch="arm64")  # Debian's name for the same machine


def test_an_unrecorded_architecture_is_not_taken_for_the_expected_one(tmp_path: Path) -> None:
    data = snapshot_bytes(SMALL_FILES, manifest_for(SMALL_FILES, arch="unknown"))
    message = _refused(data, tmp_path, SnapshotWrongArch, expect_arch="x86_64")
    assert "an unrecorded architecture" in message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "neither xz- nor gzip-compressed"),
        (b"hello, world\n", "neither xz- nor gzip-compressed"),
        ((FIXTURE_ROOT / "sys/kernel/btf/vmlinux").read_bytes()[:4096], "neither xz"),
        ((FIXTURE_ROOT / "proc/config.gz").read_bytes(), "not a ustar archive"),
        (lzma.compress(b""), "holds no archive"),
        (lzma.compress(b"x" * 2000), "not a ustar archive"),
        (b"\xfd7zXZ\x00garbage", "compressed data cannot be read"),
        (
            tar_bytes([member("sys/kernel/btf/" + "m" * 120, b"x")], tar_format=tarfile.PAX_FORMAT),
            "a pax extended header",
        ),
        (tar_bytes([member("proc/kallsyms", b"x")]), "first member is not manifest"),
        (tar_bytes([member("manifest.json", b"{}")]), "does not say format"),
        (tar_bytes([member("manifest.json", b"\xff")]), "not JSON"),
        (snapshot_bytes(SMALL_FILES, compression="none"), "neither xz"),
    ],
)
def test_what_is_not_a_snapshot_is_said_to_be_none(tmp_path: Path, data: bytes, words: str) -> None:
    message = _refused(data, tmp_path, NotASnapshot)
    assert words in message
    assert "in.tar.xz" in message


# -- hostile archives -----------------------------------------------------------------------


BAD_NAMES = st.sampled_from(
    [
        "../escape",
        "../../tmp/escape",
        "/tmp/escape",
        "sys/kernel/btf/../../../../escape",
        "proc/../../escape",
        "sys/kernel/btf/.hidden",
        "sys/kernel/btf/a/b",
        "etc/passwd",
        "manifest.json",
        "sys/kernel/btf/" + "v" * 300,
    ]
)
GOOD_NAMES = st.sampled_from([*sorted(SMALL_FILES), "proc/kallsyms", "sys/kernel/btf/mod"])
KINDS = st.sampled_from(
    [
        tarfile.SYMTYPE,
        tarfile.LNKTYPE,
        tarfile.DIRTYPE,
        tarfile.FIFOTYPE,
        tarfile.CHRTYPE,
        tarfile.BLKTYPE,
        tarfile.REGTYPE,
    ]
)


@st.composite
def hostile_members(draw: st.DrawFn) -> list[tuple[tarfile.TarInfo, bytes]]:
    """A real manifest of SMALL_FILES, its files, and somewhere among them one member
    that tries to escape: a bad name, or a link or special file at a good name."""
    members = [member(path, data) for path, data in sorted(SMALL_FILES.items())]
    kind = draw(KINDS)
    name = draw(BAD_NAMES if kind == tarfile.REGTYPE else BAD_NAMES | GOOD_NAMES)
    target = draw(st.sampled_from(["/etc/passwd", "../../..", "/", "proc/kallsyms"]))
    members.insert(draw(st.integers(0, len(members))), member(name, b"pwned", kind, target))
    return members


@SETTINGS
@given(members=hostile_members(), pax=st.booleans())
def test_a_hostile_archive_neither_escapes_nor_extracts(
    tmp_path_factory: pytest.TempPathFactory,
    members: list[tuple[tarfile.TarInfo, bytes]],
    pax: bool,
) -> None:
    where = tmp_path_factory.mktemp("hostile")
    head = member("manifest.json", _manifest_of(SMALL_FILES))
    try:
        data = tar_bytes(
            [head, *members], tar_format=tarfile.PAX_FORMAT if pax else tarfile.GNU_FORMAT
        )
    except ValueError:  # a name the tar writer itself refuses
        return
    _refused(data, where, SnapshotError)
    assert not (where.parent / "escape").exists()
    assert not Path("/tmp/escape").exists()


def _manifest_of(files: dict[str, bytes]) -> bytes:
    return manifest_json(manifest_for(files))


def test_links_and_extension_headers_are_named_in_the_refusal(tmp_path: Path) -> None:
    head = member("manifest.json", _manifest_of(SMALL_FILES))
    link = member("sys/kernel/btf/vmlinux", b"", tarfile.SYMTYPE, "/etc/passwd")
    message = _refused(tar_bytes([head, link]), tmp_path, SnapshotUnsafe)
    assert "'sys/kernel/btf/vmlinux' as a symbolic link" in message
    long = member("sys/kernel/btf/" + "m" * 120, b"x")
    message = _refused(
        tar_bytes([head, long], tar_format=tarfile.GNU_FORMAT), tmp_path, SnapshotUnsafe
    )
    assert "a GNU long name" in message


def test_a_manifest_larger_than_the_bound_is_refused_unread(tmp_path: Path) -> None:
    manifest = manifest_for(SMALL_FILES, release="r" * 4000)
    data = snapshot_bytes(SMALL_FILES, manifest)
    message = _refused(data, tmp_path, SnapshotUnsafe, limits=Limits(max_manifest_bytes=1024))
    assert "manifest is" in message and "more than the 1024 allowed" in message


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (Limits(max_files=2), "lists 3 files, more than the 2"),
        (Limits(max_file_bytes=512), "sys/kernel/btf/vmlinux is 1024 bytes, more than the 512"),
        (Limits(max_total_bytes=1000), "files add up to 1055 bytes, more than the 1000"),
    ],
)
def test_a_manifest_beyond_the_bounds_is_refused(
    tmp_path: Path, limits: Limits, words: str
) -> None:
    message = _refused(snapshot_bytes(SMALL_FILES), tmp_path, SnapshotUnsafe, limits=limits)
    assert words in message


def test_a_compression_bomb_stops_at_the_bound(tmp_path: Path) -> None:
    # A true manifest and files, then 64 MiB of zeros after the end of the archive:
    # xz makes them ~10 KiB; the reader stops once the stream passes its bound.
    raw = lzma.decompress(snapshot_bytes(SMALL_FILES))
    bomb = lzma.compress(raw + bytes(64 << 20), preset=0)
    assert len(bomb) < 100_000
    message = _refused(
        bomb,
        tmp_path,
        SnapshotUnsafe,
        limits=Limits(max_files=10, max_total_bytes=1 << 20, max_manifest_bytes=1 << 16),
    )
    assert "refused as a compression bomb" in message
    _open(bomb, tmp_path)  # the same archive within the default bounds: zeros are padding


def test_a_pax_header_cannot_smuggle_a_size(tmp_path: Path) -> None:
    # A pax header would make another reader take its size or path; this reader refuses it.
    info, data = member("sys/kernel/btf/vmlinux", SMALL_FILES["sys/kernel/btf/vmlinux"])
    info.pax_headers = {"path": "../escape", "size": str(1 << 40)}
    head = member("manifest.json", _manifest_of(SMALL_FILES))
    archive = tar_bytes([head, (info, data)], tar_format=tarfile.PAX_FORMAT)
    message = _refused(archive, tmp_path, SnapshotUnsafe)
    assert "pax extended header" in message


def test_the_checksums_match_what_sha256sum_says(fixture_capture: Captured) -> None:
    for entry in fixture_capture.manifest.files[:50]:
        data = fixture_capture.contents[entry.path]
        assert entry.size == len(data)
        assert entry.sha256 == hashlib.sha256(data).hexdigest()


def test_no_staging_directory_is_left_behind(tmp_path: Path) -> None:
    _, out = _open(snapshot_bytes(SMALL_FILES), tmp_path)
    assert out.stat().st_mode & 0o777 == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.tar.xz", "out"]


def test_the_manifest_is_read_without_extracting(tmp_path: Path) -> None:
    archive = tmp_path / "in.tar.xz"
    archive.write_bytes(snapshot_bytes(SMALL_FILES))
    assert read_manifest(archive) == manifest_for(SMALL_FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.tar.xz"]
