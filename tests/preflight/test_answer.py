"""check_bpf_object over the server's own indexes of the captured kernel."""

from __future__ import annotations

import base64

import pytest

from bpf_mcp.answers import answer
from bpf_mcp.errors import InvalidArgument
from bpf_mcp.index import View
from bpf_mcp.queries import CheckBpfObject
from bpf_mcp.results import BpfObjectCheck

from .conftest import OBJECTS


def check(view: View, name: str, **options: str) -> BpfObjectCheck:
    data = base64.b64encode((OBJECTS / f"{name}.bpf.o").read_bytes()).decode()
    query = CheckBpfObject(data_base64=data, path=f"{name}.bpf.o", **options)  # type: ignore[arg-type]
    return answer(query, view)


def test_a_good_object(view: View) -> None:
    result = check(view, "core_fields")
    assert result.verdict == "yes"
    assert result.object == "core_fields.bpf.o"
    assert result.relocations.total == result.relocations.ok > 0
    # Only problems are listed by default: here there are none.
    assert all(p.relocations == () for p in result.programs)
    assert "verifier" in result.verifier
    assert "BTF" in result.kernel and "tracepoints from" in result.kernel


def test_all_relocations_on_request(view: View) -> None:
    result = check(view, "core_fields", relocations="all")
    assert sum(len(p.relocations) for p in result.programs) == result.relocations.total


def test_problems_are_listed(view: View) -> None:
    result = check(view, "missing_field")
    assert result.verdict == "no"
    assert result.relocations.poisoned == 2
    assert {r.status for p in result.programs for r in p.relocations} == {"poisoned"}


def test_function_verdicts_decide_kprobes(view: View) -> None:
    result = check(view, "probes")
    kprobe = next(p for p in result.programs if p.name == "kp_unlinkat")
    assert kprobe.attach == "no"
    assert any("kprobes" in r.fact for r in kprobe.reasons)


def test_lsm_and_trampolines(view: View) -> None:
    result = check(view, "trampolines")
    lsm = next(p for p in result.programs if p.name == "lsm_open")
    assert lsm.load == "yes"


def test_kallsyms_decides_typed_ksyms(view: View) -> None:
    result = check(view, "ksym_var")
    (extern,) = result.externs
    assert (extern.name, extern.verdict) == ("runqueues", "no")


def test_bad_base64(view: View) -> None:
    with pytest.raises(InvalidArgument, match="not valid base64"):
        answer(CheckBpfObject(data_base64="not base64!"), view)


def test_a_path_the_transport_did_not_read(view: View) -> None:
    with pytest.raises(InvalidArgument, match="path was not read"):
        answer(CheckBpfObject(path="/tmp/x.o"), view)


def test_neither_data_nor_path() -> None:
    with pytest.raises(ValueError, match="data_base64"):
        CheckBpfObject()


def test_a_large_answer_shrinks_to_the_budget(view: View) -> None:
    from bpf_mcp.transports.budget import fit_to_budget, fits

    result = check(view, "many_relocations", relocations="all")
    budget = 16 * 1024
    assert not fits(result, budget)
    small = fit_to_budget(result, budget)
    assert fits(small, budget)
    assert small.note is not None and "relocation" in small.note
    assert small.relocations == result.relocations  # the counts stay
