"""readers.base.read_bytes: whole files, the size limit exact, live pseudo-files whose
stated size is 0 read to the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpf_mcp.readers.base import UnsuitableFile, read_bytes
from bpf_mcp.readers.sysroot import WHOLE_SYSTEM


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 300_000])
def test_whole_file_up_to_the_limit(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path = tmp_path / "f"
    path.write_bytes(data)
    assert read_bytes(path, limit=300_000, root=WHOLE_SYSTEM) == data


def test_one_byte_past_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a" * 1001)
    assert read_bytes(path, limit=1001, root=WHOLE_SYSTEM) == b"a" * 1001
    with pytest.raises(UnsuitableFile, match="larger than 1000 bytes"):
        read_bytes(path, limit=1000, root=WHOLE_SYSTEM)


def test_pseudo_file_with_no_stated_size_is_read_to_the_end() -> None:
    path = Path("/proc/self/maps")  # st_size 0, content generated on read
    if not path.exists():
        pytest.skip("no /proc here")
    data = read_bytes(path, root=WHOLE_SYSTEM)
    assert data.endswith(b"\n") and data.count(b"\n") > 5
