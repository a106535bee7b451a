"""get_kernel_function and the list_kernel_functions filters over the captured kernel,
and the verdict rules over facts varied one at a time."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from bpf_mcp.answers import answer
from bpf_mcp.answers.attach import Finding, decide
from bpf_mcp.btf import Kind
from bpf_mcp.errors import NotFound, SourceUnavailable
from bpf_mcp.index import View
from bpf_mcp.index.indexes import KallsymsIndex
from bpf_mcp.kallsyms import base_name, is_clone
from bpf_mcp.queries import GetKernelFunction, ListKernelFunctions
from bpf_mcp.results import AttachVerdict, KernelFunctionDetail
from bpf_mcp.sources import Source
from bpf_mcp.system import SystemFacts

NO_KPROBES = "kernel built without kprobes"


def function(view: View, name: str) -> KernelFunctionDetail:
    result = answer(GetKernelFunction(name=name), view)
    assert isinstance(result, KernelFunctionDetail)
    return result


def verdict(detail: KernelFunctionDetail, mechanism: str) -> AttachVerdict:
    (found,) = [v for v in detail.verdicts if v.mechanism == mechanism]
    return found


def walk(view: View, query: ListKernelFunctions) -> Iterator[Any]:
    offset: int | None = 0
    while offset is not None:
        page = answer(attrs.evolve(query, offset=offset, limit=1000), view)
        yield from page.items
        offset = page.next_offset


# -- the captured kernel ------------------------------------------------------------------


def test_vfs_read(view: View) -> None:
    detail = function(view, "vfs_read")
    assert [s.name for s in detail.symbols] == ["vfs_read"]
    assert detail.symbols[0].section == "text" and detail.symbols[0].address
    assert detail.clones == ()
    assert detail.prototype == (
        "ssize_t vfs_read(struct file *file, char *buf, size_t count, loff_t *pos)"
    )
    assert "proc/kallsyms" in detail.source and "btf/vmlinux" in detail.source
    for mechanism in ("kprobe", "kretprobe"):
        v = verdict(detail, mechanism)
        assert v.verdict == "no" and NO_KPROBES in v.reasons[0]
    # The capture could not read available_filter_functions: fentry cannot be confirmed.
    for mechanism in ("fentry", "fexit"):
        v = verdict(detail, mechanism)
        assert v.verdict == "unknown"
        assert "available_filter_functions" in v.reasons[0]
        assert v.settle and "available_filter_functions" in v.settle


@pytest.mark.parametrize(
    ("name", "section", "words"),
    [
        ("start_kernel", "init", "__init code, freed after boot"),
        ("exc_page_fault", "noinstr", "noinstr code"),
        ("entry_SYSCALL_64", "entry", "entry code"),
    ],
)
def test_special_text_areas_rule_out_every_mechanism(
    view: View, name: str, section: str, words: str
) -> None:
    detail = function(view, name)
    assert {s.section for s in detail.symbols} == {section}
    for v in detail.verdicts:
        assert v.verdict == "no"
        assert any(words in reason for reason in v.reasons), (v.mechanism, v.reasons)


def test_only_clones(view: View) -> None:
    detail = function(view, "finish_task_switch")
    assert detail.symbols == ()
    assert [c.name for c in detail.clones] == ["finish_task_switch.isra.0"]
    assert detail.prototype is not None
    for v in detail.verdicts:
        assert v.verdict == "no"
        assert any("only compiler clones" in r for r in v.reasons)
    # The clone itself is a symbol of its own, but BTF knows only the source name.
    clone = function(view, "finish_task_switch.isra.0")
    assert verdict(clone, "fentry").verdict == "no"
    assert any("no BTF prototype" in r for r in verdict(clone, "fentry").reasons)


def test_btf_function_missing_from_kallsyms(view: View) -> None:
    btf = view.btf.btf
    index: KallsymsIndex = view.kallsyms
    names = index.table.names
    present = {base_name(names[row]) for row in index.functions}
    name = next(btf.name(tid) for tid in btf.ids_of_kind(Kind.FUNC) if btf.name(tid) not in present)
    detail = function(view, name)
    assert detail.symbols == () and detail.clones == () and detail.btf_id is not None
    for v in detail.verdicts:
        assert v.verdict == "no"
        assert any("is not in /proc/kallsyms" in r for r in v.reasons)


def test_repeated_name_is_a_caveat(view: View) -> None:
    index: KallsymsIndex = view.kallsyms
    names = [index.table.names[row] for row in index.functions]
    name = next(a for a, b in itertools.pairwise(names) if a == b and not is_clone(a))
    detail = function(view, name)
    assert len(detail.symbols) >= 2
    assert any("share the name" in r for r in verdict(detail, "kprobe").reasons)


def test_unknown_name_suggests_near_names(view: View) -> None:
    with pytest.raises(NotFound, match=r"vfs_raed.*Did you mean: vfs_read"):
        answer(GetKernelFunction(name="vfs_raed"), view)


# -- list_kernel_functions filters ---------------------------------------------------------


def test_has_btf_splits_the_list(view: View) -> None:
    everything = answer(ListKernelFunctions(), view).total
    with_btf = answer(ListKernelFunctions(has_btf=True), view)
    without = answer(ListKernelFunctions(has_btf=False), view)
    assert with_btf.total + without.total == everything
    assert all(item.has_btf for item in with_btf.items)
    assert not any(item.has_btf for item in without.items)
    assert answer(ListKernelFunctions(), view).items[0].has_btf is None


def test_include_clones_false_hides_clones(view: View) -> None:
    kept = list(walk(view, ListKernelFunctions(pattern="isra", include_clones=False)))
    assert not any(is_clone(item.name) for item in kept)
    assert answer(ListKernelFunctions(pattern=".isra."), view).total > 0


def test_attachable_kprobe_is_empty_here(view: View) -> None:
    assert answer(ListKernelFunctions(attachable="kprobe"), view).total == 0
    assert answer(ListKernelFunctions(attachable="kretprobe"), view).total == 0


def test_attachable_fentry_keeps_unknowns_with_their_verdicts(view: View) -> None:
    result = answer(ListKernelFunctions(pattern="vfs_", attachable="fentry"), view)
    assert result.total > 0
    assert all(item.verdict and item.verdict.verdict == "unknown" for item in result.items)
    assert all(item.has_btf for item in result.items)

    def listed(name: str) -> bool:
        page = answer(ListKernelFunctions(pattern=name, attachable="fexit", limit=1000), view)
        return name in {item.name for item in page.items}

    assert listed("vfs_read")
    assert not listed("start_kernel") and not listed("exc_page_fault")
    assert not listed("finish_task_switch.isra.0")


def test_btf_filters_need_btf(view: View) -> None:
    without_btf = attrs.evolve(view, indexes=attrs.evolve(view.indexes, btf=None))
    with pytest.raises(SourceUnavailable, match="BTF"):
        answer(ListKernelFunctions(has_btf=True), without_btf)


def test_filters_wait_only_for_the_sources_they_read() -> None:
    assert ListKernelFunctions().preferred() == frozenset()
    assert ListKernelFunctions(has_btf=True).preferred() == {Source.BTF}
    assert ListKernelFunctions(attachable="kprobe").preferred() == {Source.SYSTEM}
    assert ListKernelFunctions(attachable="fentry").preferred() == {Source.BTF, Source.SYSTEM}


# -- the rules, one fact at a time -----------------------------------------------------------


def with_facts(view: View, **changes: Any) -> View:
    facts: SystemFacts = attrs.evolve(view.system, **changes)
    return attrs.evolve(view, indexes=attrs.evolve(view.indexes, system=facts))


def kprobe_kernel(view: View, **changes: Any) -> View:
    facts: SystemFacts = view.system
    config = {**(facts.config or {}), "CONFIG_KPROBES": "y", "CONFIG_KPROBE_EVENTS": "y"}
    pmus = (*(facts.pmus or ()), "kprobe")
    return with_facts(view, config=config, pmus=pmus, kprobe_events=True, **changes)


def test_kprobe_yes_on_a_kernel_with_kprobes(view: View) -> None:
    here = kprobe_kernel(view, kprobe_blacklist=frozenset({"vfs_write"}))
    v = verdict(function(here, "vfs_read"), "kprobe")
    assert v.verdict == "yes"
    assert any("CONFIG_KPROBES=y" in r for r in v.reasons)
    blocked = verdict(function(here, "vfs_write"), "kprobe")
    assert blocked.verdict == "no" and any("blacklist" in r for r in blocked.reasons)


def test_kprobe_unknown_without_the_blacklist(view: View) -> None:
    v = verdict(function(kprobe_kernel(view), "vfs_read"), "kretprobe")
    assert v.verdict == "unknown" and "blacklist" in v.reasons[0] and v.settle


def test_kprobe_events_off_or_lockdown_rule_kprobes_out(view: View) -> None:
    here = kprobe_kernel(view, kprobe_blacklist=frozenset())
    facts: SystemFacts = here.system
    no_events = with_facts(here, config={**(facts.config or {}), "CONFIG_KPROBE_EVENTS": "n"})
    assert verdict(function(no_events, "vfs_read"), "kprobe").verdict == "no"
    locked = with_facts(here, lockdown="confidentiality")
    assert verdict(function(locked, "vfs_read"), "kprobe").verdict == "no"


def test_kprobes_judged_without_a_config(view: View) -> None:
    no_config = with_facts(view, config=None)
    v = verdict(function(no_config, "vfs_read"), "kprobe")
    assert v.verdict == "no" and NO_KPROBES in v.reasons[0] and "kprobe PMU" in v.reasons[0]
    unknown = with_facts(view, config=None, pmus=None)
    assert verdict(function(unknown, "vfs_read"), "kprobe").verdict == "unknown"


def test_fentry_decided_by_available_filter_functions(view: View) -> None:
    listed = with_facts(view, filter_functions=frozenset({"vfs_read"}))
    yes = verdict(function(listed, "vfs_read"), "fentry")
    assert yes.verdict == "yes" and yes.settle is None
    notrace = verdict(function(listed, "vfs_write"), "fexit")
    assert notrace.verdict == "no" and any("notrace" in r for r in notrace.reasons)


def test_fentry_needs_the_jit_and_function_tracing(view: View) -> None:
    facts: SystemFacts = view.system
    listed = frozenset({"vfs_read"})
    no_jit = with_facts(
        view, config={**(facts.config or {}), "CONFIG_BPF_JIT": "n"}, filter_functions=listed
    )
    assert verdict(function(no_jit, "vfs_read"), "fentry").verdict == "no"
    jit_off = with_facts(view, sysctls={"net.core.bpf_jit_enable": "0"}, filter_functions=listed)
    assert verdict(function(jit_off, "vfs_read"), "fentry").verdict == "no"
    no_ftrace = with_facts(view, config={**(facts.config or {}), "CONFIG_FUNCTION_TRACER": "n"})
    assert verdict(function(no_ftrace, "vfs_read"), "fexit").verdict == "no"


def test_hidden_addresses_leave_the_text_area_unknown(view: View) -> None:
    index: KallsymsIndex = view.kallsyms
    table = index.table
    hidden_table = attrs.evolve(table, addresses=type(table.addresses)("Q", bytes(8 * len(table))))
    hidden = KallsymsIndex.build([hidden_table])
    here = with_facts(
        attrs.evolve(view, indexes=attrs.evolve(view.indexes, kallsyms=hidden)),
        filter_functions=frozenset({"start_kernel"}),
    )
    detail = function(here, "start_kernel")
    assert detail.addresses_hidden and detail.symbols[0].section is None
    v = verdict(detail, "fentry")
    assert v.verdict == "unknown" and "hides addresses" in v.reasons[0]


def test_without_system_facts_every_verdict_is_unknown_or_no(view: View) -> None:
    bare = attrs.evolve(view, indexes=attrs.evolve(view.indexes, system=None))
    for v in function(bare, "vfs_read").verdicts:
        assert v.verdict == "unknown" and v.settle


def test_decide_orders_no_over_unknown_over_yes() -> None:
    yes, unknown, no = (
        Finding("yes", "y"),
        Finding("unknown", "u", "do x"),
        Finding("no", "n"),
    )
    note = Finding("note", "c")
    assert decide("fentry", [yes, note]).reasons == ("y", "c")
    assert decide("fentry", [yes, unknown, note]) == AttachVerdict(
        "fentry", "unknown", ("u", "c"), "do x"
    )
    assert decide("fentry", [unknown, no]).verdict == "no"
