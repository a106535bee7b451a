"""--token-file accepts only a small regular file: a device that never ends, a FIFO that
never opens and a huge file are refused at once, naming the file but not its content."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest

from bpf_mcp.cli import TOKEN_FILE_BYTES, UsageError, read_token_file


def test_a_token_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("s3cret\n")
    path.chmod(0o600)
    assert read_token_file(path) == "s3cret"


def test_a_device_is_refused_without_reading() -> None:
    # /dev/null, not /dev/zero: code that read a device would read /dev/zero for ever.
    null = Path("/dev/null")
    if not null.exists():
        pytest.skip("no /dev/null here")
    with pytest.raises(UsageError, match="not a regular file"):
        read_token_file(null)


def _unblock(path: Path) -> None:
    """Open the FIFO for writing if a reader waits on it (else ENXIO, nothing to do)."""
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    path = tmp_path / "token"
    os.mkfifo(path)
    # Opening a FIFO to read waits for a writer: should the open wait, one comes after
    # 5 s, and the test fails instead of hanging.
    watchdog = threading.Timer(5.0, _unblock, (path,))
    watchdog.start()
    try:
        with pytest.raises(UsageError, match="not a regular file"):
            read_token_file(path)
    finally:
        watchdog.cancel()


def test_a_large_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("x" * (TOKEN_FILE_BYTES + 1))
    with pytest.raises(UsageError, match=f"larger than {TOKEN_FILE_BYTES} bytes") as caught:
        read_token_file(path)
    assert "xx" not in str(caught.value)
    path.write_text("y" * TOKEN_FILE_BYTES)
    path.chmod(0o600)
    assert read_token_file(path) == "y" * TOKEN_FILE_BYTES
