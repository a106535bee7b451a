"""check_object over the corpus, against the captured kernel (fixtures/linux-6.18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpf_mcp.preflight import KernelFacts, ObjectCheck, ProgramCheck, check_object

from .conftest import OBJECTS, corpus

# object -> (verdict, {program: (load, attach)}) on the captured kernel.
EXPECTED: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "core_fields": ("yes", {"exec_fields": ("yes", "yes"), "fork_fields": ("yes", "yes")}),
    "core_bitfields": ("yes", {"switch_bits": ("yes", "yes"), "skb_bits": ("yes", "yes")}),
    "core_anon": ("yes", {"skb_dev": ("yes", "yes")}),
    "core_types": ("yes", {"type_relos": ("yes", "yes"), "field_mismatch": ("yes", "yes")}),
    "flavors": ("yes", {"task_state": ("yes", "yes")}),
    "many_relocations": ("yes", {"many_fields": ("yes", "yes")}),
    "subprograms": ("yes", {"exec_parent": ("yes", "yes"), "exit_not_autoloaded": ("yes", "yes")}),
    "maps": ("yes", {"count_exit": ("yes", "yes")}),
    "kconfig": ("yes", {"read_config": ("yes", "yes")}),
    "kfuncs": ("yes", {"use_kfuncs": ("yes", "yes")}),
    "struct_ops": ("yes", {"pf_ssthresh": ("yes", "yes")}),
    "tracing_sections": ("yes", {p: ("yes", "yes") for p in ("tp_switch", "iter_tasks")}),
    "trampolines": ("yes", {p: ("yes", "yes") for p in ("enter_unlinkat", "lsm_open")}),
    "net_sections": ("yes", {p: ("yes", "yes") for p in ("xdp_pass", "sock_ops", "lookup")}),
    "net_newer": ("no", {"tcx_in": ("yes", "yes"), "session": ("yes", "no")}),
    "probes": (
        "no",
        {
            "kp_unlinkat": ("yes", "no"),
            "ks_openat": ("yes", "no"),
            "up_readline": ("yes", "unknown"),
        },
    ),
    "missing_field": ("no", {"old_state": ("no", "yes"), "gone_type": ("no", "yes")}),
    "missing_targets": (
        "no",
        {
            "no_function": ("no", "yes"),
            "no_btf_tp": ("no", "yes"),
            "no_hook": ("no", "yes"),
            "no_iter": ("no", "yes"),
            "no_event": ("yes", "no"),
            "no_raw": ("yes", "no"),
        },
    ),
    "unknown_sections": (
        "no",
        {"unknown_section": ("no", "yes"), "newer_attach_type": ("no", "yes")},
    ),
    "bad_helper": ("no", {"call_future": ("no", "yes")}),
    "kfunc_missing": ("no", {"call_missing": ("no", "yes")}),
    "kfunc_badproto": ("no", {"bad_proto": ("no", "yes")}),
    "kconfig_missing": ("no", {"read_missing": ("no", "yes")}),
    "ksym_var": ("no", {"this_rq": ("no", "yes")}),
    "map_wrong_type": ("no", {"use_maps": ("no", "yes")}),
    "legacy_maps": ("no", {"use_old": ("no", "yes")}),
    "struct_ops_missing": ("no", {"ops_init": ("no", "yes")}),
}


def check(name: str, facts: KernelFacts) -> ObjectCheck:
    path = OBJECTS / f"{name}.bpf.o"
    return check_object(path.read_bytes(), facts, name=path.name)


def program(result: ObjectCheck, name: str) -> ProgramCheck:
    return next(p for p in result.programs if p.name == name)


def test_every_object_has_an_expectation() -> None:
    assert {p.name.removesuffix(".bpf.o") for p in corpus()} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_verdicts_on_the_captured_kernel(name: str, fixture_facts: KernelFacts) -> None:
    verdict, programs = EXPECTED[name]
    result = check(name, fixture_facts)
    assert result.verdict == verdict
    for prog_name, (load, attach) in programs.items():
        prog = program(result, prog_name)
        assert (prog.load, prog.attach) == (load, attach), prog.reasons
    for prog in result.programs:
        # A verdict short of yes always says why, naming the program and a source.
        if prog.verdict != "yes" and result.verdict != "no":
            assert prog.reasons
        for reason in prog.reasons:
            assert reason.element.startswith(f"program {prog.name}")
            assert reason.source and reason.fact


def test_corpus_size(fixture_facts: KernelFacts) -> None:
    results = [check_object(p.read_bytes(), fixture_facts) for p in corpus()]
    programs = [prog for r in results for prog in r.programs]
    assert len(programs) >= 30
    assert len({p.section.split("/")[0] for p in programs}) >= 15


def test_relocations_report_libbpf_values(fixture_facts: KernelFacts) -> None:
    prog = program(check("core_fields", fixture_facts), "exec_fields")
    pid = next(r for r in prog.relocations if r.access == "task_struct.pid")
    assert (pid.kind, pid.ok, pid.target_value) == ("byte_off", True, 1264)
    comm = next(r for r in prog.relocations if r.kind == "byte_sz")
    assert (comm.access, comm.target_value) == ("task_struct.comm", 16)
    rlim = next(r for r in prog.relocations if "rlim" in r.access)
    assert rlim.access == "signal_struct.rlim[7].rlim_cur"


def test_bitfields_get_shifts(fixture_facts: KernelFacts) -> None:
    prog = program(check("core_bitfields", fixture_facts), "switch_bits")
    kinds = {r.kind for r in prog.relocations if r.access == "task_struct.in_execve"}
    assert kinds == {"byte_off", "byte_sz", "lshift_u64", "rshift_u64", "signed"}
    rshift = next(
        r
        for r in prog.relocations
        if r.access == "task_struct.in_execve" and r.kind == "rshift_u64"
    )
    assert rshift.target_value == 63  # a one-bit field


def test_flavors_resolve_to_the_kernels_type(fixture_facts: KernelFacts) -> None:
    prog = program(check("flavors", fixture_facts), "task_state")
    by_access = {(r.kind, r.access): r for r in prog.relocations}
    new = by_access[("field_exists", "task_struct___new.__state")]
    old = by_access[("field_exists", "task_struct___old.state")]
    assert (new.target_value, old.target_value) == (1, 0)
    assert by_access[("byte_off", "task_struct___old.state")].status == "poisoned"
    assert prog.load == "yes"  # the poisoned read is dead code once patched


def test_missing_field_says_what_is_missing(fixture_facts: KernelFacts) -> None:
    prog = program(check("missing_field", fixture_facts), "old_state")
    (reason,) = prog.reasons
    assert "task_struct has no member state" in reason.fact
    assert reason.verdict == "no"


def test_types_and_enums(fixture_facts: KernelFacts) -> None:
    prog = program(check("core_types", fixture_facts), "type_relos")
    values = {(r.kind, r.access): r.target_value for r in prog.relocations}
    assert values[("type_exists", "not_in_kernel___x")] == 0
    assert values[("type_matches", "rlimit___wrong")] == 0
    assert values[("enumval_value", "bpf_func_id___mine::BPF_FUNC_map_update_elem___mine")] == 2
    assert values[("enumval_exists", "bpf_func_id___mine::BPF_FUNC_future_helper___mine")] == 0


def test_object_level_reasons(fixture_facts: KernelFacts) -> None:
    wrong = check("map_wrong_type", fixture_facts)
    assert {m.name: m.verdict for m in wrong.maps} == {"future_map": "no", "untyped_map": "no"}
    assert any("map type 99" in r.fact for r in wrong.reasons)
    kfunc = check("kfunc_badproto", fixture_facts)
    assert any("incompatible" in r.fact for r in kfunc.reasons)
    helper = program(check("bad_helper", fixture_facts), "call_future")
    assert [(h.id, h.exists) for h in helper.helpers] == [(300, False)]


def test_metadata(fixture_facts: KernelFacts) -> None:
    result = check("maps", fixture_facts)
    assert result.license == "GPL"
    assert result.btf_types > 0
    assert "verifier" in result.outside
    assert [m.type for m in result.maps] == [
        "BPF_MAP_TYPE_HASH",
        "BPF_MAP_TYPE_PERCPU_ARRAY",
        "BPF_MAP_TYPE_RINGBUF",
        "BPF_MAP_TYPE_LRU_HASH",
    ]
    counts = result.maps[0]
    assert (counts.key_size, counts.value_size, counts.max_entries) == (4, 8, 1024)


def test_without_optional_facts_the_answer_is_unknown(fixture_facts: KernelFacts) -> None:
    bare = KernelFacts(btf=fixture_facts.btf)
    tp = program(check("tracing_sections", bare), "tp_switch")
    assert tp.attach == "unknown"
    kp = program(check("probes", bare), "kp_unlinkat")
    assert kp.attach == "unknown"


def test_objects_are_small() -> None:
    assert sum(p.stat().st_size for p in corpus()) < 1_000_000
    assert all(isinstance(p, Path) for p in corpus())
