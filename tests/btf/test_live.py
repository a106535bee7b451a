"""The running kernel's own BTF."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from bpf_mcp.btf import Btf, Kind, parse_btf

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


def test_index_is_fast(vmlinux_bytes: bytes) -> None:
    """Budget 150 ms (about 45 ms measured); doubled to allow for a busy machine."""
    best = min(_timed(lambda: parse_btf(vmlinux_bytes)) for _ in range(5))
    assert best < 0.3


def test_search_and_find_are_fast(vmlinux: Btf) -> None:
    vmlinux.named_ids()  # builds the index
    best = min(_timed(lambda: vmlinux.search_names("bpf_")) for _ in range(5))
    assert best < 0.04  # budget 20 ms, doubled
    best = min(_timed(lambda: vmlinux.search_names("Bpf_", case_sensitive=False)) for _ in range(5))
    assert best < 0.04
    best = min(_timed(lambda: vmlinux.find("task_struct")) for _ in range(5))
    assert best < 0.001


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start
