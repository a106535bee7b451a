"""Readers over small sysroots: where each looks, and the sentence each failure gives."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import trio

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.errors import SourceError, SourceUnavailable
from bpf_mcp.queries import GetBtfTypes, ListTracepoints
from bpf_mcp.readers.base import failure_from_os_error
from bpf_mcp.readers.btf import BtfReader
from bpf_mcp.readers.tracefs import TracefsReader, locate
from bpf_mcp.sources import Source

FORMAT = """name: demo
ID: 7
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;

\tfield:int value;\toffset:8;\tsize:4;\tsigned:1;

print fmt: "value=%d", REC->value
"""


def make_tracefs(root: Path, where: str = "sys/kernel/tracing") -> Path:
    tracing = root / where
    (tracing / "events/demo/demo").mkdir(parents=True)
    (tracing / "events/demo/demo/format").write_text(FORMAT)
    (tracing / "available_events").write_text("demo:demo\n")
    return tracing


def test_unmounted_tracefs_names_the_mount_command(tmp_path: Path) -> None:
    (tmp_path / "sys/kernel/tracing").mkdir(parents=True)
    with pytest.raises(SourceError) as err:
        locate(Config(sysroot=tmp_path))
    failure = err.value.failure
    assert failure.cause == "not-mounted"
    assert "mount -t tracefs nodev /sys/kernel/tracing" in str(err.value)
    assert str(tmp_path / "sys/kernel/tracing") in str(err.value)


def test_debugfs_location_is_the_fallback(tmp_path: Path) -> None:
    expected = make_tracefs(tmp_path, "sys/kernel/debug/tracing")
    assert locate(Config(sysroot=tmp_path)) == expected


@pytest.mark.parametrize(
    ("exc", "cause", "words"),
    [
        (FileNotFoundError(errno.ENOENT, "x"), "missing", "does not exist"),
        (PermissionError(errno.EACCES, "x"), "permission", "permission denied"),
        (PermissionError(errno.EPERM, "x"), "permission", "permission denied"),
        (OSError(errno.EIO, "x"), "io", "Input/output error"),
    ],
)
def test_os_errors_become_failures_with_fixes(exc: OSError, cause: str, words: str) -> None:
    failure = failure_from_os_error(
        Source.TRACEFS, Path("/p"), exc, fix_missing="mount it", fix_permission="be root"
    )
    assert failure.cause == cause
    assert words in failure.sentence()
    if cause == "missing":
        assert failure.sentence().endswith("To fix: mount it.")
    if cause == "permission":
        assert failure.sentence().endswith("To fix: be root.")


async def test_tracefs_reader_serves_a_small_tree(tmp_path: Path) -> None:
    make_tracefs(tmp_path)
    async with open_bpf_mcp(Config(sysroot=tmp_path), readers=[TracefsReader()]) as handle:
        with trio.fail_after(10):
            result = await handle.query(ListTracepoints(include_fields=True))
    (tp,) = result.items
    assert tp.fields is not None
    assert (tp.name, tp.id, [f.name for f in tp.fields]) == (
        "demo:demo",
        7,
        ["common_type", "value"],
    )


async def test_truncated_btf_is_corrupt_not_a_crash(tmp_path: Path, fixture_root: Path) -> None:
    blob = (fixture_root / "sys/kernel/btf/vmlinux").read_bytes()
    (tmp_path / "sys/kernel/btf").mkdir(parents=True)
    (tmp_path / "sys/kernel/btf/vmlinux").write_bytes(blob[: len(blob) // 3])
    async with open_bpf_mcp(Config(sysroot=tmp_path), readers=[BtfReader()]) as handle:
        with trio.fail_after(10), pytest.raises(SourceUnavailable, match="BTF blob is malformed"):
            await handle.query(GetBtfTypes())
