"""A snapshot on disk: one xz-compressed ustar archive, written in a fixed order and read
back strictly.

The writer puts `manifest.json` first and then the files in path order, each a read-only
regular file with the capture time as its date, so the same capture gives the same bytes.

The reader trusts nothing in the archive. It accepts only plain ustar headers of regular
files (no links, directories, devices, or pax and GNU extension headers), reads the
manifest first (so a snapshot of the wrong architecture or of too many files is refused
before any file is written), and then each file in bounded pieces, checking its name,
size and SHA-256 against the manifest as it writes it below a new private directory,
one path component at a time without following links. Nothing is renamed into place
unless every listed file arrived whole.
"""

from __future__ import annotations

import contextlib
import datetime
import gzip
import hashlib
import io
import lzma
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import attrs

from ..errors import (
    NotASnapshot,
    SnapshotDamaged,
    SnapshotError,
    SnapshotUnsafe,
    SnapshotWrongArch,
)
from .layout import MANIFEST_NAME, arch_family, is_snapshot_path
from .manifest import Manifest, manifest_json, parse_manifest

BLOCK = 512
_PIECE = 1 << 20
_XZ_MAGIC = b"\xfd7zXZ\x00"
_GZIP_MAGIC = b"\x1f\x8b"
_USTAR_MAGICS = (b"ustar\x0000", b"ustar  \x00")
_TYPE_NAMES = {
    b"1": "a hard link",
    b"2": "a symbolic link",
    b"3": "a character device",
    b"4": "a block device",
    b"5": "a directory",
    b"6": "a FIFO",
    b"7": "a contiguous file",
    b"x": "a pax extended header",
    b"g": "a pax global header",
    b"L": "a GNU long name",
    b"K": "a GNU long link name",
    b"S": "a GNU sparse file",
}


@attrs.frozen
class Limits:
    """How much a snapshot may hold before it is refused as hostile. Real snapshots are
    tens of MiB uncompressed (a distribution kernel with all its module BTF and tracefs
    formats), so the defaults leave room without letting an archive fill a disk."""

    max_files: int = 50_000
    max_file_bytes: int = 64 << 20
    max_total_bytes: int = 512 << 20
    max_manifest_bytes: int = 16 << 20


DEFAULT_LIMITS = Limits()

# -- writing ----------------------------------------------------------------------------------


def write_archive(
    stream: BinaryIO, manifest: Manifest, contents: Mapping[str, bytes], *, preset: int = 0
) -> None:
    """Write the snapshot to `stream` as one tar.xz: `manifest.json`, then every file of
    `manifest.files` in order, its bytes taken from `contents`.

    Raises ValueError when `contents` does not match the manifest (a missing file, or a
    size or checksum that differs): the manifest is the promise the reader checks.
    """
    stamp = int(_captured_epoch(manifest.captured_at))
    with (
        lzma.open(stream, "wb", format=lzma.FORMAT_XZ, preset=preset) as xz,
        tarfile.open(fileobj=xz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        _add(tar, MANIFEST_NAME, manifest_json(manifest), stamp)
        for entry in manifest.files:
            data = contents.get(entry.path)
            if data is None or len(data) != entry.size:
                raise ValueError(f"{entry.path}: its content does not match the manifest's size")
            if hashlib.sha256(data).hexdigest() != entry.sha256:
                raise ValueError(f"{entry.path}: its content does not match the manifest's sha256")
            _add(tar, entry.path, data, stamp)


def _add(tar: tarfile.TarFile, name: str, data: bytes, stamp: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o444
    info.mtime = stamp
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def _captured_epoch(captured_at: str) -> float:
    try:
        when = datetime.datetime.fromisoformat(captured_at.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp())


# -- reading ----------------------------------------------------------------------------------


def _decompressed(raw: BinaryIO, where: str) -> io.BufferedIOBase:
    """The decompressed stream of `raw`, an xz or gzip file; NotASnapshot otherwise."""
    magic = raw.read(len(_XZ_MAGIC))
    raw.seek(0)
    if magic == _XZ_MAGIC:
        return lzma.LZMAFile(raw, format=lzma.FORMAT_XZ)
    if magic.startswith(_GZIP_MAGIC):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    raise NotASnapshot(
        f"{where} is not a bpf-mcp snapshot: it is neither xz- nor gzip-compressed"
        " (a snapshot is the .tar.xz that `bpf-mcp snapshot --out FILE` writes)"
    )


@attrs.frozen
class _Header:
    name: str
    size: int


class _Stream:
    """The decompressed tar stream of one archive, read in bounded pieces; every failure
    of the compressed data becomes a SnapshotError naming the file."""

    def __init__(self, data: io.BufferedIOBase, where: str, limits: Limits) -> None:
        self.data = data
        self.where = where
        self.total = 0
        # Headers and padding add at most two blocks a file, and a final record of zeros.
        self.bound = (
            limits.max_total_bytes
            + limits.max_manifest_bytes
            + (limits.max_files + 1) * 2 * BLOCK
            + 20 * BLOCK
        )

    def read(self, size: int, *, first: bool = False) -> bytes:
        """Exactly `size` bytes; fewer only at the end of the data."""
        parts = []
        wanted = size
        while wanted:
            try:
                piece = self.data.read(min(wanted, _PIECE))
            except EOFError:
                raise SnapshotDamaged(
                    f"{self.where} is truncated: its compressed data ends early; copy the"
                    " snapshot again"
                ) from None
            except (lzma.LZMAError, zlib.error, OSError) as exc:
                if first:
                    raise NotASnapshot(
                        f"{self.where} is not a bpf-mcp snapshot: its compressed data cannot"
                        f" be read ({exc})"
                    ) from None
                raise SnapshotDamaged(
                    f"{self.where} is damaged: its compressed data is corrupt ({exc}); copy"
                    " the snapshot again"
                ) from None
            if not piece:
                break
            parts.append(piece)
            wanted -= len(piece)
        data = b"".join(parts)
        self.total += len(data)
        if self.total > self.bound:
            raise SnapshotUnsafe(
                f"{self.where} expands to more than {self.bound} bytes: refused as a"
                " compression bomb"
            )
        return data

    def header(self, *, first: bool = False) -> _Header | None:
        """The next member's header, or None at the end of the archive."""
        block = self.read(BLOCK, first=first)
        if len(block) < BLOCK:
            if first:
                raise NotASnapshot(f"{self.where} is not a bpf-mcp snapshot: it holds no archive")
            raise SnapshotDamaged(
                f"{self.where} is truncated: its archive ends inside a header; copy it again"
            )
        if block == bytes(BLOCK):
            return None
        return _parse_header(block, self.where, first=first)

    def content(self, size: int) -> Iterator[bytes]:
        """The member's `size` bytes in pieces, then its padding to the next block."""
        left = size
        while left:
            piece = self.read(min(left, _PIECE))
            if not piece:
                raise SnapshotDamaged(
                    f"{self.where} is truncated: its archive ends inside a file; copy it again"
                )
            left -= len(piece)
            yield piece
        self.read(-size % BLOCK)

    def trailer(self) -> None:
        """After the end-of-archive block: only zeros may follow."""
        while piece := self.read(_PIECE):
            if piece.count(0) != len(piece):
                raise SnapshotDamaged(
                    f"{self.where} is damaged: data follows the end of its archive"
                )


def _parse_header(block: bytes, where: str, *, first: bool) -> _Header:
    refuse = NotASnapshot if first else SnapshotDamaged
    stored = _octal(block[148:156])
    computed = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
    if stored is None or stored != computed or block[257:265] not in _USTAR_MAGICS:
        raise refuse(
            f"{where} is not a bpf-mcp snapshot: it is not a ustar archive"
            if first
            else f"{where} is damaged: a tar header is corrupt; copy the snapshot again"
        )
    name_field = block[0:100].split(b"\0", 1)[0]
    prefix = block[345:500].split(b"\0", 1)[0]
    try:
        name = (prefix + b"/" + name_field if prefix else name_field).decode("ascii")
    except UnicodeDecodeError:
        raise SnapshotUnsafe(
            f"{where} holds a file whose name is not plain ASCII: refused"
        ) from None
    kind = block[156:157]
    if kind not in (b"0", b"\0"):
        what = _TYPE_NAMES.get(kind, f"a member of type {kind!r}")
        if first:
            raise NotASnapshot(f"{where} is not a bpf-mcp snapshot: its first member is {what}")
        raise SnapshotUnsafe(
            f"{where} holds {name[:200]!r} as {what}; a snapshot holds regular files only:"
            " refused, nothing was extracted"
        )
    size = _octal(block[124:136])
    if size is None:
        raise refuse(f"{where} is damaged: the size of {name[:200]!r} is not a number")
    return _Header(name, size)


def _octal(field: bytes) -> int | None:
    text = field.rstrip(b"\0 ").lstrip(b" ")
    if not text or any(c not in b"01234567" for c in text):
        return None
    return int(text, 8)


def _manifest(stream: _Stream, limits: Limits) -> Manifest:
    head = stream.header(first=True)
    if head is None or head.name != MANIFEST_NAME:
        raise NotASnapshot(
            f"{stream.where} is not a bpf-mcp snapshot: its first member is not {MANIFEST_NAME}"
        )
    if head.size > limits.max_manifest_bytes:
        raise SnapshotUnsafe(
            f"{stream.where}: its manifest is {head.size} bytes, more than the"
            f" {limits.max_manifest_bytes} allowed: refused"
        )
    data = b"".join(stream.content(head.size))
    try:
        manifest = parse_manifest(data, max_files=limits.max_files)
    except SnapshotError as exc:
        raise type(exc)(f"{stream.where}: {exc}") from None
    for entry in manifest.files:
        if entry.size > limits.max_file_bytes:
            raise SnapshotUnsafe(
                f"{stream.where}: {entry.path} is {entry.size} bytes, more than the"
                f" {limits.max_file_bytes} a snapshot file may be: refused"
            )
    if manifest.total_bytes > limits.max_total_bytes:
        raise SnapshotUnsafe(
            f"{stream.where}: its files add up to {manifest.total_bytes} bytes, more than"
            f" the {limits.max_total_bytes} a snapshot may hold: refused"
        )
    return manifest


def read_manifest(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Manifest:
    """The manifest of the snapshot at `path`, reading only the archive's first member
    (cheap: use it to list a snapshot's kernel without extracting it).

    Raises NotASnapshot, SnapshotDamaged or SnapshotUnsafe for the archive, OSError when
    `path` cannot be opened. The files themselves are not checked: `open_snapshot` does.
    """
    with open(path, "rb") as raw, _decompressed(raw, str(path)) as data:
        return _manifest(_Stream(data, str(path), limits), limits)


def check_arch(manifest: Manifest, expect_arch: str, where: str) -> None:
    """Raise SnapshotWrongArch unless the snapshot is of `expect_arch` (spellings of one
    architecture, such as amd64 and x86_64, count as the same)."""
    if arch_family(manifest.arch) != arch_family(expect_arch):
        shown = "an unrecorded architecture" if manifest.arch == "unknown" else manifest.arch
        raise SnapshotWrongArch(
            f"{where} is a snapshot of {shown} (kernel {manifest.release or 'unknown'}), not"
            f" of {expect_arch} as expected: refused. Take the snapshot on a {expect_arch}"
            " machine, or load it where that architecture is expected"
        )


def open_snapshot(
    path: Path,
    into_dir: Path,
    *,
    expect_arch: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Manifest:
    """Verify the snapshot at `path` and extract it as a sysroot at `into_dir`; return its
    manifest (also written to `into_dir/manifest.json`).

    `into_dir` must not exist (or be an empty directory); its parent must. The files are
    written below a new private directory beside it, which becomes `into_dir` only when
    every file listed arrived with its size and SHA-256, so on any error `into_dir` is
    left as it was. With `expect_arch` (e.g. `os.uname().machine`), a snapshot of another
    architecture is refused before anything is written.

    Raises NotASnapshot (not a snapshot), SnapshotDamaged (a wrong checksum or size,
    truncation, a malformed manifest), SnapshotUnsafe (paths that leave the directory,
    links or special files, sizes beyond `limits`), SnapshotWrongArch; OSError when
    `path` cannot be opened or `into_dir` cannot be written (FileExistsError when it is
    not empty). Blocking (seconds for a large snapshot): run it in a worker thread.
    """
    if into_dir.exists() and (not into_dir.is_dir() or any(into_dir.iterdir())):
        raise FileExistsError(f"{into_dir} exists and is not an empty directory")
    where = str(path)
    with open(path, "rb") as raw, _decompressed(raw, where) as data:
        stream = _Stream(data, where, limits)
        manifest = _manifest(stream, limits)
        if expect_arch is not None:
            check_arch(manifest, expect_arch, where)
        staging = Path(tempfile.mkdtemp(prefix=f".{into_dir.name}.", dir=into_dir.parent))
        tree = _Tree(staging)
        try:
            _extract(stream, manifest, tree)
            with tree.create(MANIFEST_NAME) as out:
                out.write(manifest_json(manifest))
            tree.close()
            staging.chmod(0o755)
            os.replace(staging, into_dir)
        except BaseException:
            tree.close()
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return manifest


def _extract(stream: _Stream, manifest: Manifest, tree: _Tree) -> None:
    expected = {entry.path: entry for entry in manifest.files}
    seen: set[str] = set()
    while (head := stream.header()) is not None:
        if not is_snapshot_path(head.name):
            raise SnapshotUnsafe(
                f"{stream.where} holds {head.name[:300]!r}, which is not a kernel file a"
                " snapshot holds (or not a plain relative path): refused, nothing was"
                " extracted"
            )
        entry = expected.get(head.name)
        if entry is None:
            raise SnapshotDamaged(
                f"{stream.where} holds {head.name}, which its manifest does not list"
                + (" twice" if head.name in seen else "")
                + ": the archive was altered; take the snapshot again"
            )
        if head.size != entry.size:
            raise SnapshotDamaged(
                f"{stream.where} is damaged: {entry.path} is {head.size} bytes in the archive"
                f" but {entry.size} in its manifest"
            )
        del expected[head.name]
        seen.add(head.name)
        digest = hashlib.sha256()
        with tree.create(entry.path) as out:
            for piece in stream.content(head.size):
                digest.update(piece)
                out.write(piece)
        if digest.hexdigest() != entry.sha256:
            raise SnapshotDamaged(
                f"{stream.where} is damaged: the SHA-256 of {entry.path} is not the one its"
                " manifest records (the file was altered or corrupted); take the snapshot"
                " again"
            )
    stream.trailer()
    if expected:
        missing = sorted(expected)
        raise SnapshotDamaged(
            f"{stream.where} is truncated: {len(missing)} of its {len(manifest.files)} files"
            f" are missing (the first: {missing[0]}); copy the snapshot again"
        )


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class _Tree:
    """Creates files below a root directory, each directory on the way opened without
    following links (and made when missing). Keeps the descriptors of the last file's
    directories open, so files in path order cost one open each."""

    def __init__(self, root: Path) -> None:
        self.names: list[str] = []
        self.fds: list[int] = [os.open(root, _DIR_FLAGS)]

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()

    def _directory(self, parents: list[str]) -> int:
        keep = 0
        while keep < min(len(parents), len(self.names)) and parents[keep] == self.names[keep]:
            keep += 1
        while len(self.names) > keep:
            self.names.pop()
            os.close(self.fds.pop())
        for part in parents[keep:]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=self.fds[-1])
            self.fds.append(os.open(part, _DIR_FLAGS, dir_fd=self.fds[-1]))
            self.names.append(part)
        return self.fds[-1]

    @contextlib.contextmanager
    def create(self, relative: str) -> Iterator[BinaryIO]:
        """A new read-only file at `relative`; OSError if anything is already there."""
        *parents, name = relative.split("/")
        fd = os.open(name, _NEW_FLAGS, 0o444, dir_fd=self._directory(parents))
        with open(fd, "wb") as f:
            yield f
