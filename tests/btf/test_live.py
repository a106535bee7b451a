"""The running kernel's own BTF."""

from __future__ import annotations

from typing import Any

import pytest

from bpf_mcp.btf import Btf, Kind

pytestmark = pytest.mark.live


@pytest.mark.oracle
def test_counts_match_bpftool(vmlinux: Btf, live_dump: list[dict[str, Any]]) -> None:
    types = live_dump
    assert len(vmlinux) == len(types)
    for kind in (Kind.FUNC, Kind.STRUCT, Kind.ENUM64, Kind.DECL_TAG):
        assert len(vmlinux.ids_of_kind(kind)) == sum(t["kind"] == kind.name for t in types)


def test_well_known_types(vmlinux: Btf) -> None:
    assert vmlinux.first_id == 1
    assert vmlinux.byte_order == "little"
    (task,) = [t for t in vmlinux.find("task_struct") if vmlinux.kind(t) is Kind.STRUCT]
    assert any(m.name == "pid" for m in vmlinux.members(task))
    (prog_type,) = [t for t in vmlinux.find("bpf_prog_type") if vmlinux.kind(t) is Kind.ENUM]
    values = {v.name: v.value for v in vmlinux.enum_values(prog_type)}
    assert values["BPF_PROG_TYPE_UNSPEC"] == 0
    assert "__MAX_BPF_PROG_TYPE" in values


def test_kfuncs_carry_decl_tags(vmlinux: Btf) -> None:
    kfuncs = [
        vmlinux.ref(t) for t in vmlinux.ids_of_kind(Kind.DECL_TAG) if vmlinux.name(t) == "bpf_kfunc"
    ]
    if not kfuncs:
        pytest.skip("this kernel's BTF tags no kfuncs")
    assert all(vmlinux.kind(f) is Kind.FUNC for f in kfuncs)
    assert ("bpf_kfunc", -1) in vmlinux.decl_tags(kfuncs[0])


def test_every_accessor_on_every_id(vmlinux: Btf) -> None:
    for tid in range(vmlinux.last_id + 1):
        kind = vmlinux.kind(tid)
        vmlinux.name(tid)
        vmlinux.size(tid)
        if kind in (Kind.STRUCT, Kind.UNION):
            vmlinux.members(tid)
        elif kind is Kind.FUNC_PROTO:
            vmlinux.params(tid)
        elif kind in (Kind.ENUM, Kind.ENUM64):
            vmlinux.enum_values(tid)
        vmlinux.resolve(tid)
