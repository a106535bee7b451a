"""`bpf-mcp snapshot`: capture this kernel's BPF surface into one archive.

The archive is what `--kernel NAME=FILE` serves on another machine. Progress and what
could not be read go to stderr; nothing is written to stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .snapshot import capture, write_snapshot


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bpf-mcp snapshot",
        description="Capture this kernel's BPF surface (vmlinux and module BTF, tracefs"
        " events and formats, kallsyms names, config, release, BPF sysctls, ftrace and"
        " kprobe lists, LSMs, boot id) into one tar.xz with a manifest of sizes and"
        " SHA-256 sums. Read-only; works unprivileged as far as the files allow and"
        " records what it could not read.",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="archive to write")
    parser.add_argument(
        "--sysroot",
        type=Path,
        default=Path(os.environ.get("BPF_MCP_SYSROOT", "/")),
        help="read every kernel file below this directory (env BPF_MCP_SYSROOT; default /)",
    )
    parser.add_argument(
        "--with-addresses",
        action="store_true",
        help="keep kallsyms addresses (by default every address is written as zero)",
    )
    return parser


def main(argv: Sequence[str]) -> int:
    """Run `bpf-mcp snapshot`; returns the exit code (2 for bad options, 1 when the
    archive cannot be written)."""
    args = build_parser().parse_args(argv)
    if not args.sysroot.is_dir():
        print(f"bpf-mcp snapshot: --sysroot {args.sysroot} is not a directory", file=sys.stderr)
        return 2
    out: Path = args.out
    if out.is_dir() or not out.absolute().parent.is_dir():
        print(
            f"bpf-mcp snapshot: --out {out}: expected a file in an existing directory",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    captured = capture(
        args.sysroot.resolve(), with_addresses=args.with_addresses, producer=_producer()
    )
    try:
        write_snapshot(out, captured)
    except OSError as exc:
        print(f"bpf-mcp snapshot: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    manifest = captured.manifest
    for missed in manifest.missed:
        print(f"bpf-mcp snapshot: not captured: {missed.path}: {missed.reason}", file=sys.stderr)
    print(
        f"bpf-mcp snapshot: wrote {out} ({out.stat().st_size} bytes) in"
        f" {time.perf_counter() - started:.1f} s: kernel {manifest.release or '(unknown)'}"
        f" {manifest.arch}, {len(manifest.files)} files ({manifest.total_bytes} bytes),"
        f" sources {', '.join(s.value for s in manifest.sources())},"
        f" {len(manifest.missed)} not captured",
        file=sys.stderr,
    )
    return 0


def _producer() -> str:
    try:
        return f"bpf-mcp {version('bpf-mcp')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "bpf-mcp"
