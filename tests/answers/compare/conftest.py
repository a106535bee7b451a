"""Two real kernels to compare: fixtures/linux-6.18 and Debian's 6.12 (fixtures/linux-6.12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpf_mcp.btf import parse_btf
from bpf_mcp.index.indexes import BtfIndex

from ...support import FIXTURE_ROOT

MODULES_6_12 = ("nf_conntrack", "sch_fq", "tcp_bbr", "veth")


def vmlinux_path(root: Path) -> Path:
    return root / "sys/kernel/btf/vmlinux"


@pytest.fixture(scope="session")
def btf_6_18() -> BtfIndex:
    return BtfIndex.build([parse_btf(vmlinux_path(FIXTURE_ROOT).read_bytes())])


@pytest.fixture(scope="session")
def btf_6_12(linux_6_12_root: Path) -> BtfIndex:
    """Debian 6.12: vmlinux only (what bpftool and pahole read from the one file)."""
    return BtfIndex.build([parse_btf(vmlinux_path(linux_6_12_root).read_bytes())])


@pytest.fixture(scope="session")
def btf_6_12_modules(linux_6_12_root: Path, btf_6_12: BtfIndex) -> BtfIndex:
    """Debian 6.12 with its four modules' split BTF."""
    directory = linux_6_12_root / "sys/kernel/btf"
    modules = [
        parse_btf((directory / name).read_bytes(), base=btf_6_12.btf, object_name=name)
        for name in MODULES_6_12
    ]
    return BtfIndex.build([btf_6_12.btf, *modules])
