"""Btf.member_names is members()'s names, for every struct and union of the fixture."""

from __future__ import annotations

import pytest

from bpf_mcp.btf import Btf, BtfError, Kind, parse_btf

from .conftest import FIXTURE_VMLINUX


def test_member_names_equal_the_members_names() -> None:
    btf = parse_btf(FIXTURE_VMLINUX.read_bytes())
    checked = 0
    for tid in range(1, btf.last_id + 1):
        if btf.kind(tid) in (Kind.STRUCT, Kind.UNION):
            assert btf.member_names(tid) == tuple(m.name for m in btf.members(tid)), tid
            checked += 1
    assert checked > 10_000


def test_member_names_of_a_non_composite_is_an_error() -> None:
    btf: Btf = parse_btf(FIXTURE_VMLINUX.read_bytes())
    (int_id,) = [t for t in btf.find("int") if btf.kind(t) is Kind.INT]
    with pytest.raises(BtfError):
        btf.member_names(int_id)
