"""The system reader's inputs are bounded: a config.gz that inflates far is refused while
it inflates, and a small file whose text has no kernel shape is refused, not quoted."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest

from bpf_mcp.config import Config
from bpf_mcp.readers.system import CONFIG_TEXT_BYTES, collect
from bpf_mcp.system.inflate import InflateError, gunzip


def _bomb(size: int) -> bytes:
    """A gzip member of `size` zero bytes, about a thousandth of that compressed."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(size >> 20)]
    return b"".join([*parts, packer.flush()])


def test_a_config_gz_that_inflates_too_far_is_refused(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    bomb = _bomb(8 * CONFIG_TEXT_BYTES)
    assert len(bomb) < CONFIG_TEXT_BYTES // 16
    (tmp_path / "proc/config.gz").write_bytes(bomb)
    facts = collect(Config(sysroot=tmp_path))
    fact = facts.file("config")
    assert fact is not None and fact.state == "error"
    assert f"inflates to more than {CONFIG_TEXT_BYTES} bytes" in fact.detail
    assert facts.config is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not gzip at all", "not a valid gzip file"),
        (gzip.compress(b"CONFIG_A=y\n")[:-12], "cut short"),
    ],
)
def test_gunzip_names_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(InflateError, match=message) as caught:
        gunzip(data, 1 << 20)
    assert "CONFIG" not in str(caught.value)


def test_gunzip_reads_every_member_up_to_the_limit() -> None:
    data = gzip.compress(b"CONFIG_A=y\n") + gzip.compress(b"CONFIG_B=m\n") + bytes(8)
    assert gunzip(data, 22) == b"CONFIG_A=y\nCONFIG_B=m\n"
    with pytest.raises(InflateError, match="more than 21 bytes"):
        gunzip(data, 21)


@pytest.mark.parametrize(
    ("relative", "text", "attribute"),
    [
        ("proc/sys/kernel/osrelease", "root:$6$salt$hash:19000:0:99999:7:::\n", "release"),
        ("proc/version", "root:x:0:0:root:/root:/bin/bash\n", "version"),
        ("sys/kernel/security/lsm", "root:x:0:0\n", "lsms"),
        ("sys/kernel/security/lockdown", "Authorization: Bearer abc\n", "lockdown"),
    ],
)
def test_text_of_no_kernel_shape_is_refused_not_quoted(
    tmp_path: Path, relative: str, text: str, attribute: str
) -> None:
    (tmp_path / relative).parent.mkdir(parents=True)
    (tmp_path / relative).write_text(text)
    facts = collect(Config(sysroot=tmp_path))
    assert getattr(facts, attribute) in (None, ())
    (fact,) = [f for f in facts.files if f.path == str(tmp_path / relative)]
    assert fact.state == "error" and "shape" in fact.detail
    assert text.strip()[:6] not in repr(facts)


def test_a_sysctl_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "proc/sys/kernel/kptr_restrict"
    path.parent.mkdir(parents=True)
    path.write_text("root:$6$salt\n")
    facts = collect(Config(sysroot=tmp_path))
    assert facts.sysctls["kernel.kptr_restrict"] is None
    assert "salt" not in repr(facts)
    path.write_text("2\n")
    assert collect(Config(sysroot=tmp_path)).sysctls["kernel.kptr_restrict"] == "2"
