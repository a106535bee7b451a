#!/usr/bin/env python3
"""Capture the kernel files bpf-mcp reads into a sysroot-shaped fixture directory.

Run as root on the kernel to capture:

    python scripts/capture_fixtures.py --out fixtures/linux-$(uname -r | cut -d- -f1)

Every file lands at its host path relative to `/` (so `--sysroot <out>` works directly),
except that tracefs is always stored at `sys/kernel/tracing/`, wherever it was read from.
`CAPTURE.json` records the kernel, the time, counts, and for every file either its size or
the errno that kept it from being read: nothing unreadable is faked.

If tracefs (or debugfs, for the kprobes blacklist, or securityfs, for lockdown and the
active LSMs) is not mounted and the script runs as root, it mounts it for the capture, says
so on stderr, and unmounts it afterwards.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

MANIFEST = "CAPTURE.json"
TRACEFS = "sys/kernel/tracing"
DEBUGFS = "sys/kernel/debug"
SECURITYFS = "sys/kernel/security"
LEGACY_TRACEFS = "sys/kernel/debug/tracing"

PLAIN_FILES = (
    "proc/kallsyms",
    "proc/version",
    "proc/config.gz",
    "proc/modules",
    "proc/sys/kernel/osrelease",
    "proc/sys/kernel/unprivileged_bpf_disabled",
    "proc/sys/kernel/kptr_restrict",
    "proc/sys/kernel/perf_event_paranoid",
    "proc/sys/kernel/random/boot_id",
    "proc/sys/net/core/bpf_jit_enable",
    "proc/sys/net/core/bpf_jit_harden",
    "proc/sys/net/core/bpf_jit_kallsyms",
    "sys/kernel/security/lockdown",
    "sys/kernel/security/lsm",
    "sys/kernel/debug/kprobes/blacklist",
)
TRACEFS_FILES = (
    "available_events",
    "dyn_ftrace_total_info",
    "available_filter_functions",
    "kprobe_events",
)
EVENT_SOURCES = "sys/bus/event_source/devices"
BTF_DIR = "sys/kernel/btf"


class Capture:
    """Copies files from `root` into `out` and remembers what happened to each."""

    def __init__(self, root: Path, out: Path) -> None:
        self.root = root
        self.out = out
        self.files: dict[str, dict[str, Any]] = {}

    def copy(self, source: str, target: str | None = None) -> bytes | None:
        """Copy `root/source` to `out/target` (default: the same relative path).

        Returns the bytes, or None when the file could not be read (recorded with its errno).
        /proc and sysfs files report size 0, so they are read, never stat-copied.
        """
        target = target or source
        try:
            data = (self.root / source).read_bytes()
        except OSError as error:
            self.record_error(target, error, source)
            return None
        destination = self.out / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
        entry: dict[str, Any] = {"status": "ok", "bytes": len(data)}
        if source != target:
            entry["source"] = "/" + source
        self.files[target] = entry
        return data

    def record_error(self, target: str, error: OSError, source: str | None = None) -> None:
        code = error.errno if error.errno is not None else 0
        entry: dict[str, Any] = {
            "status": "missing" if code == errno.ENOENT else "error",
            "errno": errno.errorcode.get(code, str(code)),
            "error": error.strerror or str(error),
        }
        if source is not None and source != target:
            entry["source"] = "/" + source
        self.files[target] = entry


def is_mounted(path: Path, fstype: str) -> bool:
    try:
        mounts = Path("/proc/self/mounts").read_text()
    except OSError:
        return False
    return any(
        fields[1] == str(path) and fields[2] == fstype
        for fields in (line.split() for line in mounts.splitlines())
        if len(fields) >= 3
    )


@contextmanager
def mounted(path: Path, fstype: str, notes: list[str]) -> Iterator[None]:
    """Mount `fstype` at `path` for the block when it is absent and we are root."""
    if is_mounted(path, fstype) or os.geteuid() != 0 or not path.is_dir():
        yield
        return
    result = subprocess.run(
        ["mount", "-t", fstype, "nodev", str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        note = f"could not mount {fstype} at {path}: {result.stderr.strip()}"
        print(f"capture: {note}", file=sys.stderr)
        notes.append(note)
        yield
        return
    note = f"mounted {fstype} at {path} for the capture (unmounted afterwards)"
    print(f"capture: {note}", file=sys.stderr)
    notes.append(note)
    try:
        yield
    finally:
        subprocess.run(["umount", str(path)], check=False)


def tracefs_source(root: Path) -> tuple[str | None, OSError]:
    """The mount (relative to `root`) holding `available_events`, else why there is none."""
    reason: OSError = FileNotFoundError(errno.ENOENT, "tracefs is not mounted")
    for candidate in (TRACEFS, LEGACY_TRACEFS):
        try:
            (root / candidate / "available_events").stat()
        except FileNotFoundError:
            continue
        except OSError as error:
            if reason.errno == errno.ENOENT:
                reason = error
            continue
        return candidate, reason
    return None, reason


def capture_tracefs(capture: Capture, source: str) -> dict[str, int]:
    for name in TRACEFS_FILES:
        capture.copy(f"{source}/{name}", f"{TRACEFS}/{name}")
    formats = 0
    for category in list_dirs(capture, f"{source}/events", f"{TRACEFS}/events"):
        relative = f"events/{category}"
        for event in list_dirs(capture, f"{source}/{relative}", f"{TRACEFS}/{relative}"):
            path = f"{relative}/{event}/format"
            if capture.copy(f"{source}/{path}", f"{TRACEFS}/{path}") is not None:
                formats += 1
    counts = {"event_format_files": formats}
    available = capture.files.get(f"{TRACEFS}/available_events", {})
    if available.get("status") == "ok":
        text = (capture.out / TRACEFS / "available_events").read_text()
        counts["available_events"] = sum(1 for line in text.splitlines() if line.strip())
    return counts


def list_dirs(capture: Capture, source: str, target: str) -> list[str]:
    """The sorted names of the directories in `root/source`; an error is recorded."""
    try:
        entries = sorted((capture.root / source).iterdir())
    except OSError as error:
        capture.record_error(target, error, source)
        return []
    return [entry.name for entry in entries if entry.is_dir()]


def capture_event_sources(capture: Capture) -> int:
    """One directory per PMU, holding its `type` and, where present, its `format/` bits."""
    devices = capture.root / EVENT_SOURCES
    try:
        names = sorted(entry.name for entry in devices.iterdir())
    except OSError as error:
        capture.record_error(EVENT_SOURCES, error)
        return 0
    for name in names:
        (capture.out / EVENT_SOURCES / name).mkdir(parents=True, exist_ok=True)
        capture.copy(f"{EVENT_SOURCES}/{name}/type")
        format_dir = devices / name / "format"
        if format_dir.is_dir():
            for bit in sorted(format_dir.iterdir()):
                capture.copy(f"{EVENT_SOURCES}/{name}/format/{bit.name}")
    return len(names)


def capture_btf(capture: Capture) -> int:
    try:
        names = sorted(entry.name for entry in (capture.root / BTF_DIR).iterdir())
    except OSError as error:
        capture.record_error(f"{BTF_DIR}/vmlinux", error)
        return 0
    for name in names:
        capture.copy(f"{BTF_DIR}/{name}")
    return len(names)


def capture_boot_config(capture: Capture) -> None:
    """The distribution's copy of the kernel config, the fallback for /proc/config.gz."""
    try:
        release = (capture.root / "proc/sys/kernel/osrelease").read_text().strip()
    except OSError:
        return
    if release and "/" not in release:
        capture.copy(f"boot/config-{release}")


MOUNT_TYPES = frozenset({"proc", "sysfs", "tracefs", "debugfs", "securityfs", "bpf"})


def capture_mounts(capture: Capture) -> None:
    """The mount table, cut down to the file systems bpf-mcp reads: the rest of a
    machine's mounts say nothing about its kernel and may be private."""
    data = capture.copy("proc/mounts")
    if data is None:
        return
    kept = [
        line
        for line in data.decode("utf-8", "replace").splitlines()
        if len(line.split()) >= 3 and line.split()[2] in MOUNT_TYPES
    ]
    text = "".join(line + "\n" for line in kept).encode()
    (capture.out / "proc/mounts").write_bytes(text)
    capture.files["proc/mounts"] = {
        "status": "ok",
        "bytes": len(text),
        "note": f"only the mounts of type {', '.join(sorted(MOUNT_TYPES))}",
    }


def count_lines(capture: Capture, relative: str) -> int | None:
    if capture.files.get(relative, {}).get("status") != "ok":
        return None
    return (capture.out / relative).read_bytes().count(b"\n")


def run(root: Path, out: Path) -> dict[str, Any]:
    capture = Capture(root, out)
    notes: list[str] = []
    counts: dict[str, int | None] = {}
    if os.geteuid() != 0:
        notes.append(
            f"captured as uid {os.geteuid()}, not root: files root alone may read are "
            "recorded as errors, and proc/kallsyms shows every address as zero"
        )
    with ExitStack() as stack:
        if root == Path("/"):
            if tracefs_source(root)[0] is None:
                stack.enter_context(mounted(root / TRACEFS, "tracefs", notes))
            stack.enter_context(mounted(root / DEBUGFS, "debugfs", notes))
            stack.enter_context(mounted(root / SECURITYFS, "securityfs", notes))
        counts["btf_files"] = capture_btf(capture)
        for relative in PLAIN_FILES:
            capture.copy(relative)
        capture_boot_config(capture)
        capture_mounts(capture)
        source, reason = tracefs_source(root)
        if source is None:
            notes.append(f"tracefs could not be read, nothing captured from it: {reason}")
            capture.record_error(f"{TRACEFS}/available_events", reason)
        else:
            counts.update(capture_tracefs(capture, source))
        counts["event_source_devices"] = capture_event_sources(capture)
    counts["kallsyms_lines"] = count_lines(capture, "proc/kallsyms")
    counts["kprobes_blacklist_lines"] = count_lines(capture, "sys/kernel/debug/kprobes/blacklist")
    release = (root / "proc/sys/kernel/osrelease").read_text().strip()
    version = (root / "proc/version").read_text().strip()
    return {
        "kernel_release": release,
        "kernel_version": version,
        "machine": platform.machine(),
        "captured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "captured_as_uid": os.geteuid(),
        "tracefs_read_from": f"/{source}" if source else None,
        "notes": notes,
        "counts": counts,
        "files": dict(sorted(capture.files.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="fixture directory to create")
    parser.add_argument(
        "--root", type=Path, default=Path("/"), help="where to read from (default: /)"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace --out if it holds an earlier capture"
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    if out.exists() and any(out.iterdir()):
        if not args.force:
            parser.error(f"{out} exists and is not empty (pass --force to replace a capture)")
        if not (out / MANIFEST).exists():
            parser.error(f"{out} holds no {MANIFEST}: not replacing what may not be a capture")
    if os.geteuid() != 0:
        print(
            "capture: not root: expect permission errors (recorded in the manifest)",
            file=sys.stderr,
        )
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    manifest = run(args.root, partial)
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=False) + "\n")
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    failed = {path: entry for path, entry in manifest["files"].items() if entry["status"] != "ok"}
    print(
        f"capture: {out}: {len(manifest['files']) - len(failed)} files, counts "
        f"{json.dumps(manifest['counts'])}",
        file=sys.stderr,
    )
    for path, entry in failed.items():
        print(f"capture: not captured: {path}: {entry['errno']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
