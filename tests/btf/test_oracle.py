"""Every type, every field, compared with bpftool on the same bytes."""

from __future__ import annotations

from typing import Any

import pytest

from bpf_mcp.btf import Btf, parse_btf

from .conftest import BLOBS, FIXTURE_VMLINUX
from .oracle import dump, mismatches

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize("name", ["kinds", "tags", "base"])
def test_fixture_blobs_match_bpftool(tool: str, name: str) -> None:
    path = BLOBS / f"{name}.btf"
    btf = parse_btf(path.read_bytes(), object_name=name)
    types = dump(tool, path)
    assert [t["id"] for t in types] == list(range(1, btf.last_id + 1))
    assert mismatches(btf, types) == []


def test_split_fixture_matches_bpftool(tool: str) -> None:
    base = parse_btf((BLOBS / "base.btf").read_bytes(), object_name="base")
    module = parse_btf((BLOBS / "module.btf").read_bytes(), base=base, object_name="module")
    types = dump(tool, BLOBS / "module.btf", base=BLOBS / "base.btf")
    assert [t["id"] for t in types] == list(range(module.first_id, module.last_id + 1))
    assert mismatches(module, types) == []


@pytest.mark.live
def test_live_vmlinux_matches_bpftool(vmlinux: Btf, live_dump: list[dict[str, Any]]) -> None:
    assert len(live_dump) == len(vmlinux) == vmlinux.last_id
    assert mismatches(vmlinux, live_dump) == []


def test_fixture_vmlinux_matches_bpftool(tool: str) -> None:
    if not FIXTURE_VMLINUX.exists():
        pytest.skip(f"{FIXTURE_VMLINUX} has not been captured")
    btf = parse_btf(FIXTURE_VMLINUX.read_bytes())
    types = dump(tool, FIXTURE_VMLINUX)
    assert len(types) == len(btf) == btf.last_id
    assert mismatches(btf, types) == []
