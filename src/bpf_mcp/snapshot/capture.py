"""Capture a kernel's BPF surface from a sysroot into a snapshot (blocking file I/O).

Read-only: nothing is mounted, written or changed on the captured system. Every file that
cannot be read is recorded in the manifest with the reason, so an unprivileged capture
works as far as the files allow and says what it missed.
"""

from __future__ import annotations

import datetime
import errno
import gzip
import hashlib
import os
import re
import stat
import tempfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import attrs

from ..system import parse_config
from .archive import DEFAULT_LIMITS, Limits, write_archive
from .layout import (
    BOOT_ID,
    BTF_DIR,
    CONFIG_GZ,
    EVENT_SOURCES,
    KALLSYMS,
    OSRELEASE,
    PLAIN_FILES,
    TRACEFS,
    TRACEFS_FILES,
    TRACEFS_SOURCES,
    arch_from_config,
    is_snapshot_path,
)
from .manifest import Manifest, MissedFile, SnapshotFile

_PIECE = 64 * 1024
_ADDRESS = re.compile(rb"^[0-9A-Fa-f]+(?= )", re.MULTILINE)
_ABSENT = {
    "sys/kernel/tracing": "tracefs is not mounted (as root: mount -t tracefs nodev"
    " /sys/kernel/tracing)",
    "sys/kernel/debug": "debugfs is not mounted, or the kernel lacks the feature (as root:"
    " mount -t debugfs nodev /sys/kernel/debug)",
    "sys/kernel/security": "securityfs is not mounted, or the kernel lacks the LSM (as root:"
    " mount -t securityfs securityfs /sys/kernel/security)",
}
"""Why a file below these directories may not exist, and what to do."""
_TRACEFS_ABSENT = {
    "available_events": "",
    "available_filter_functions": "the kernel has no dynamic ftrace",
    "dyn_ftrace_total_info": "the kernel has no dynamic ftrace",
    "kprobe_events": "the kernel has no kprobe events (CONFIG_KPROBE_EVENTS)",
}


@attrs.frozen
class Captured:
    """A capture held in memory: its manifest and each file's bytes by path."""

    manifest: Manifest
    contents: Mapping[str, bytes] = attrs.field(eq=False, repr=False)


class _Capture:
    """The files read so far and the ones that could not be."""

    def __init__(self, sysroot: Path, limit: int) -> None:
        self.sysroot = sysroot
        self.limit = limit
        self.contents: dict[str, bytes] = {}
        self.missed: list[MissedFile] = []

    def read(self, source: str, target: str | None = None, absent: str = "") -> bytes | None:
        """`sysroot/source` stored at `target` (default the same path), or None with the
        reason recorded; `absent` says why it may not exist (default: from its path)."""
        target = target or source
        try:
            data = _read_regular(self.sysroot / source, self.limit)
        except OSError as exc:
            self.miss(target, _reason(source, exc, absent))
            return None
        self.contents[target] = data
        return data

    def listing(self, source: str, target: str) -> list[str]:
        """The sorted entries of directory `sysroot/source`; none, recorded, if unreadable."""
        try:
            return sorted(os.listdir(self.sysroot / source))
        except OSError as exc:
            self.miss(target, _reason(source, exc))
            return []

    def miss(self, path: str, reason: str) -> None:
        self.missed.append(MissedFile(path, reason))


def capture(
    sysroot: Path = Path("/"),
    *,
    with_addresses: bool = False,
    now: datetime.datetime | None = None,
    producer: str = "bpf-mcp",
    limits: Limits = DEFAULT_LIMITS,
) -> Captured:
    """Read the kernel files of a snapshot below `sysroot` (blocking; about a second).

    Kallsyms addresses become zeros unless `with_addresses`. `now` (UTC) is the capture
    time to record (default: the clock). Never raises for a file: each one that cannot be
    read is recorded in the manifest's `missed`.
    """
    run = _Capture(sysroot, limits.max_file_bytes)
    for name in run.listing(BTF_DIR, BTF_DIR):
        if is_snapshot_path(f"{BTF_DIR}/{name}"):
            run.read(f"{BTF_DIR}/{name}")
    for path in PLAIN_FILES:
        run.read(path)
    release = _line(run.contents.get(OSRELEASE))
    config = _config(run, release)
    kallsyms = run.read(KALLSYMS)
    addresses = False
    if kallsyms is not None:
        hidden = not any(m.group().strip(b"0") for m in _ADDRESS.finditer(kallsyms, 0, 1 << 16))
        addresses = with_addresses and not hidden
        if not addresses:
            run.contents[KALLSYMS] = _ADDRESS.sub(lambda m: b"0" * len(m.group()), kallsyms)
        if with_addresses and hidden:
            run.miss(
                f"{KALLSYMS} addresses",
                "the kernel showed every address as zero to this user (kptr_restrict, or"
                " not root): captured without addresses",
            )
    _tracefs(run)
    _event_sources(run)
    when = (now or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    files = tuple(
        SnapshotFile(path, len(data), hashlib.sha256(data).hexdigest())
        for path, data in sorted(run.contents.items())
    )
    manifest = Manifest(
        release=release,
        arch=_arch(sysroot, config),
        boot_id=_line(run.contents.get(BOOT_ID)),
        captured_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        addresses=addresses,
        files=files,
        missed=tuple(run.missed),
        producer=producer,
    )
    return Captured(manifest, dict(run.contents))


def write_snapshot(out: Path, captured: Captured, *, preset: int = 0) -> None:
    """Write `captured` to `out` as a tar.xz, replacing `out` only when the whole archive
    is written (a temporary file beside it is renamed). Raises OSError."""
    fd, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent or Path("."))
    try:
        with open(fd, "wb") as stream:
            write_archive(stream, captured.manifest, captured.contents, preset=preset)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o444)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_regular(path: Path, limit: int) -> bytes:
    """The content of regular file `path`, at most `limit` bytes; the open does not wait
    (a FIFO put where a kernel file belongs is refused). Raises OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.set_blocking(fd, True)
        # Small pieces: procfs sysctl handlers allocate what one read asks for.
        parts = []
        size = 0
        while size <= limit and (piece := os.read(fd, _PIECE)):
            parts.append(piece)
            size += len(piece)
    finally:
        os.close(fd)
    if size > limit:
        raise OSError(errno.EFBIG, f"larger than {limit} bytes")
    return b"".join(parts)


def _reason(path: str, exc: OSError, absent: str = "") -> str:
    code = exc.errno or 0
    text = f"{exc.strerror or exc} ({errno.errorcode.get(code, code)})"
    if code in (errno.EACCES, errno.EPERM):
        if os.geteuid() == 0:
            text += "; a security policy (sandbox, LSM, lockdown) denies it even to root"
        else:
            text += "; run the capture as root"
    elif code == errno.ENOENT:
        hint = absent or next((h for p, h in _ABSENT.items() if path.startswith(p)), "")
        if hint:
            text += f"; {hint}"
    return text


def _line(data: bytes | None) -> str:
    return data.decode("utf-8", "replace").strip() if data is not None else ""


def _config(run: _Capture, release: str) -> dict[str, str] | None:
    """The kernel config (proc/config.gz, else boot/config-<release>), parsed."""
    data = run.read(CONFIG_GZ)
    if data is not None:
        try:
            return parse_config(gzip.decompress(data).decode("utf-8", "replace"))
        except (OSError, EOFError, zlib.error):
            return None
    if release and is_snapshot_path(f"boot/config-{release}"):
        text = run.read(f"boot/config-{release}")
        if text is not None:
            return parse_config(text.decode("utf-8", "replace"))
    return None


def _arch(sysroot: Path, config: dict[str, str] | None) -> str:
    """The captured kernel's machine: this machine's for `/`; else what its config says,
    falling back to this machine's (a host's root mounted into a container)."""
    found = arch_from_config(config) if config is not None and sysroot != Path("/") else None
    return found or os.uname().machine


def _tracefs(run: _Capture) -> None:
    source = None
    failure: OSError | None = None
    for candidate in TRACEFS_SOURCES:
        try:
            os.stat(run.sysroot / candidate / "available_events")
        except OSError as exc:
            if failure is None or failure.errno == errno.ENOENT:
                failure = exc
            continue
        source = candidate
        break
    if source is None:
        assert failure is not None
        run.miss(TRACEFS, _reason(TRACEFS, failure))
        return
    for name in TRACEFS_FILES:
        run.read(f"{source}/{name}", f"{TRACEFS}/{name}", absent=_TRACEFS_ABSENT[name])
    for category in run.listing(f"{source}/events", f"{TRACEFS}/events"):
        if not (run.sysroot / source / "events" / category).is_dir():
            continue
        events = run.listing(f"{source}/events/{category}", f"{TRACEFS}/events/{category}")
        for event in events:
            relative = f"events/{category}/{event}/format"
            if is_snapshot_path(f"{TRACEFS}/{relative}") and os.path.isdir(
                run.sysroot / source / "events" / category / event
            ):
                run.read(f"{source}/{relative}", f"{TRACEFS}/{relative}")


def _event_sources(run: _Capture) -> None:
    for name in run.listing(EVENT_SOURCES, EVENT_SOURCES):
        if not is_snapshot_path(f"{EVENT_SOURCES}/{name}/type"):
            continue
        run.read(f"{EVENT_SOURCES}/{name}/type")
        directory = f"{EVENT_SOURCES}/{name}/format"
        if (run.sysroot / directory).is_dir():
            for bit in run.listing(directory, directory):
                if is_snapshot_path(f"{directory}/{bit}"):
                    run.read(f"{directory}/{bit}")
