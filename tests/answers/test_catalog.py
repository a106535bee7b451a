"""list_kfuncs, list_bpf_helpers, list_bpf_attach_types, list_bpf_program_types,
list_bpf_hooks and get_kernel_info over the captured kernel, with fallbacks; live
cross-checks of the counts against the running kernel's BTF."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from bpf_mcp.answers import answer
from bpf_mcp.answers.catalog import annotation
from bpf_mcp.btf import Btf, Kind
from bpf_mcp.errors import SourceFailure
from bpf_mcp.index import View
from bpf_mcp.queries import (
    GetKernelFunction,
    GetKernelInfo,
    ListBpfAttachTypes,
    ListBpfHelpers,
    ListBpfHooks,
    ListBpfProgramTypes,
    ListKernelFunctions,
    ListKfuncs,
)
from bpf_mcp.reference import ReferenceData
from bpf_mcp.sources import Source
from bpf_mcp.status import SourceStatus


def all_items(view: View, query: Any) -> list[Any]:
    first = answer(attrs.evolve(query, limit=1000), view)
    assert first.next_offset is None
    return list(first.items)


def without_btf(view: View) -> View:
    failed = SourceStatus(
        Source.BTF,
        "failed",
        0.0,
        failure=SourceFailure("btf", "/sys/kernel/btf/vmlinux", "missing", "no such file"),
    )
    return attrs.evolve(
        view,
        indexes=attrs.evolve(view.indexes, btf=None),
        statuses={**view.statuses, Source.BTF: failed},
    )


def enum_count(btf: Btf, name: str) -> int:
    (tid,) = [i for i in btf.find(name) if btf.kind(i) is Kind.ENUM]
    return sum(1 for v in btf.enum_values(tid) if not v.name.startswith("__"))


# -- kfuncs -------------------------------------------------------------------------------


def test_kfuncs_and_their_annotations(view: View) -> None:
    kfuncs = all_items(view, ListKfuncs(include_params=True))
    assert len(kfuncs) == 203
    assert [k.name for k in kfuncs] == sorted(k.name for k in kfuncs)
    (slice_,) = [k for k in kfuncs if k.name == "bpf_dynptr_slice"]
    assert slice_.prototype == (
        "void *bpf_dynptr_slice(const struct bpf_dynptr *p, u32 offset, void *buffer__opt,"
        " u32 buffer__szk)"
    )
    annotations = {p.name: p.annotation for p in slice_.params}
    assert annotations == {
        "p": None,
        "offset": None,
        "buffer__opt": "__opt",
        "buffer__szk": "__szk",
    }
    assert all(p.meaning for p in slice_.params if p.annotation)
    fastcall = {k.name for k in kfuncs if "bpf_fastcall" in k.tags}
    assert fastcall == {"bpf_cast_to_kern_ctx", "bpf_rdonly_cast"}
    seen = {p.annotation for k in kfuncs for p in k.params if p.annotation}
    reference: ReferenceData = view.reference
    assert seen <= {note.name for note in reference.kfunc_annotations}
    assert "btf/vmlinux" in answer(ListKfuncs(limit=1), view).source


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mem__sz", "__sz"),
        ("rdonly_buf_size__szk", "__szk"),
        ("local_type_id__k", "__k"),
        ("p__refcounted_kptr", "__refcounted_kptr"),
        ("flags__irq_flag", "__irq_flag"),
        ("cb__async_cb", "__async_cb"),
        ("__data", None),
        ("plain", None),
        ("__sz", None),
    ],
)
def test_annotation_suffixes(name: str, expected: str | None) -> None:
    known = ["__sz", "__szk", "__k", "__refcounted_kptr", "__irq_flag"]
    assert annotation(name, known) == expected


def test_unknown_annotation_is_said_unknown(view: View) -> None:
    from bpf_mcp.answers.catalog import kfunc

    reference: ReferenceData = attrs.evolve(view.reference, kfunc_annotations=())
    btf = view.btf.btf
    (tid,) = [i for i in btf.find("bpf_dynptr_slice") if btf.kind(i) is Kind.FUNC]
    found = kfunc(btf, tid, reference).params
    assert found is not None
    params = {p.name: p for p in found}
    assert params["buffer__szk"].annotation == "__szk"
    assert "does not know" in (params["buffer__szk"].meaning or "")


# -- helpers ------------------------------------------------------------------------------


def test_helpers(view: View) -> None:
    helpers = all_items(view, ListBpfHelpers())
    assert len(helpers) == 211
    assert [h.id for h in helpers] == list(range(1, 212))
    assert not any(h.description.startswith("No description") for h in helpers)
    by_name = {h.name: h for h in helpers}
    assert by_name["map_lookup_elem"].arguments == ("map", "key")
    assert by_name["ktime_get_ns"].arguments == ()
    assert by_name["tail_call"].arguments is None  # no bpf_tail_call function in BTF
    assert all(h.prototype is None for h in helpers)
    assert sum(1 for h in helpers if h.arguments is None) == 24
    page = answer(ListBpfHelpers(pattern="ringbuf"), view)
    assert page.source == "kernel-btf" and "BPF_CALL" in page.note
    assert {h.name for h in page.items} >= {"ringbuf_output", "ringbuf_reserve_dynptr"}


def test_helpers_fall_back_to_the_builtin_table(view: View) -> None:
    page = answer(ListBpfHelpers(limit=1000), without_btf(view))
    assert page.source == "builtin" and page.total == 211
    assert "no such file" in page.note
    assert all(h.arguments is None for h in page.items)


# -- attach, link and program types ---------------------------------------------------------


def test_attach_and_link_types(view: View) -> None:
    page = answer(ListBpfAttachTypes(limit=1000), view)
    btf = view.btf.btf
    assert len(page.attach_types) == enum_count(btf, "bpf_attach_type") == 58
    assert len(page.link_types) == enum_count(btf, "bpf_link_type") == 15
    assert page.source == "kernel-btf" and page.note is None
    assert not any(e.description.startswith("No description") for e in page.attach_types)
    fentry = {e.name: e for e in page.attach_types}["trace_fentry"]
    assert (fentry.constant, fentry.value) == ("BPF_TRACE_FENTRY", 24)
    tcx = answer(ListBpfAttachTypes(pattern="tcx"), view)
    assert [e.name for e in tcx.attach_types] == ["tcx_ingress", "tcx_egress"]
    assert [e.name for e in tcx.link_types] == ["tcx"]
    fallback = answer(ListBpfAttachTypes(limit=1000), without_btf(view))
    assert fallback.source == "builtin" and fallback.note and len(fallback.attach_types) == 58


def test_program_types_compiled_in_and_contexts(view: View) -> None:
    types = all_items(view, ListBpfProgramTypes())
    assert len(types) == 33
    compiled = [t.name for t in types if t.compiled_in]
    assert len(compiled) == 31
    assert {t.name for t in types if not t.compiled_in} == {"unspec", "lirc_mode2"}
    by_name = {t.name: t for t in types}
    assert (by_name["xdp"].user_context, by_name["xdp"].kernel_context) == (
        "struct xdp_md",
        "struct xdp_buff",
    )
    assert by_name["kprobe"].kernel_context == "struct pt_regs"
    fallback = answer(ListBpfProgramTypes(limit=1000), without_btf(view))
    assert fallback.source == "builtin"
    assert all(t.compiled_in is None and t.user_context is None for t in fallback.items)


# -- hooks ---------------------------------------------------------------------------------


def test_hooks(view: View) -> None:
    page = answer(ListBpfHooks(limit=1), view)
    assert page.counts == {"lsm": 271, "iterator": 18, "struct_ops": 2}
    assert page.total == 271 + 18 + 2
    assert any("'bpf' is an active LSM" in n for n in page.notes)
    (lean,) = answer(ListBpfHooks(kind="lsm", pattern="file_open"), view).items
    assert lean.prototype is None and lean.members is None
    (file_open,) = answer(
        ListBpfHooks(kind="lsm", pattern="file_open", include_details=True), view
    ).items
    assert file_open.section == 'SEC("lsm/file_open")'
    assert file_open.prototype == "int bpf_lsm_file_open(struct file *file)"
    lsm = all_items(view, ListBpfHooks(kind="lsm", include_details=True))
    assert not {"init", "verify_prog", "func_proto"} & {h.name for h in lsm}
    iterators = {
        h.name: h for h in all_items(view, ListBpfHooks(kind="iterator", include_details=True))
    }
    assert "get_info" not in iterators
    assert iterators["task"].members == ("struct bpf_iter_meta *meta", "struct task_struct *task")
    assert iterators["task"].prototype and "struct bpf_iter__task {" in iterators["task"].prototype
    ops = {
        h.name: h for h in all_items(view, ListBpfHooks(kind="struct_ops", include_details=True))
    }
    assert set(ops) == {"tcp_congestion_ops", "bpf_dummy_ops"}
    assert "u32 (*ssthresh)(struct sock *)" in ops["tcp_congestion_ops"].members
    assert answer(ListBpfHooks(kind="iterator"), view).notes == ()


# -- kernel info ----------------------------------------------------------------------------


def test_kernel_info(view: View) -> None:
    info = answer(GetKernelInfo(sections=("all",)), view)
    assert info.config is not None and info.files is not None and info.sources is not None
    assert info.note is None
    assert info.release == "6.18.44-fc-v782" and info.arch == "x86_64"
    assert info.btf_present and info.btf_types == 126699
    config = {flag.name: flag.value for flag in info.config}
    assert config["CONFIG_KPROBES"] == "n" and config["CONFIG_BPF_LSM"] == "y"
    assert all(flag.meaning for flag in info.config)
    assert info.sysctls["kernel.unprivileged_bpf_disabled"] == "2"
    assert any(n.startswith("kernel.unprivileged_bpf_disabled=2") for n in info.sysctl_notes)
    assert info.lockdown == "integrity"
    assert info.perf_event_sources is not None and "kprobe" not in info.perf_event_sources
    features = {f.name: f for f in info.features}
    assert features["kprobes"].verdict == "no"
    assert "kernel built without kprobes" in features["kprobes"].reasons[0]
    assert features["fentry/fexit trampolines"].verdict == "yes"
    assert features["BPF LSM"].verdict == "yes"
    mounts = {m.fs: m for m in info.mounts}
    assert mounts["tracefs"].readable and mounts["debugfs"].readable
    files = {f.role: f for f in info.files}
    assert not files["ftrace functions"].readable and files["config"].readable
    assert {s.source for s in info.sources} == {s.value for s in Source}
    assert info.capabilities is not None


def test_kernel_info_leaves_the_long_sections_out_by_default_and_says_so(view: View) -> None:
    info = answer(GetKernelInfo(), view)
    assert info.config is None and info.files is None and info.sources is None
    assert info.note is not None and "sections=" in info.note
    assert "config (" in info.note and "files (" in info.note
    assert info.features and info.sysctls


def test_kernel_info_reports_unmounted_file_systems(view: View, tmp_path: Any) -> None:
    from bpf_mcp.config import Config
    from bpf_mcp.readers.system import collect

    bare = attrs.evolve(
        view, indexes=attrs.evolve(view.indexes, system=collect(Config(sysroot=tmp_path)))
    )
    info = answer(GetKernelInfo(sections=("config",)), bare)
    assert info.config is not None and info.files is None
    assert info.release is None and info.config_source is None
    assert all(flag.value is None for flag in info.config)
    mounts = {m.fs: m for m in info.mounts}
    assert mounts["tracefs"].readable is False
    assert mounts["tracefs"].fix and "mount -t tracefs" in mounts["tracefs"].fix
    assert mounts["securityfs"].fix and "securityfs" in mounts["securityfs"].fix
    assert {f.name: f.verdict for f in info.features}["kprobes"] == "unknown"


# -- the running kernel ---------------------------------------------------------------------


@pytest.mark.live
def test_live_counts_equal_the_kernel_btf(live_view: View) -> None:
    btf: Btf = live_view.btf.btf
    kfunc_ids = {btf.ref(t) for t in btf.ids_of_kind(Kind.DECL_TAG) if btf.name(t) == "bpf_kfunc"}
    assert answer(ListKfuncs(), live_view).total == len(kfunc_ids)
    assert answer(ListBpfHelpers(), live_view).total == enum_count(btf, "bpf_func_id") - 1
    attach = answer(ListBpfAttachTypes(limit=1000), live_view)
    assert len(attach.attach_types) == enum_count(btf, "bpf_attach_type")
    assert len(attach.link_types) == enum_count(btf, "bpf_link_type")
    assert answer(ListBpfProgramTypes(), live_view).total == enum_count(btf, "bpf_prog_type")
    raw = [i for i in btf.ids_of_kind(Kind.TYPEDEF) if btf.name(i).startswith("btf_trace_")]
    from bpf_mcp.queries import ListRawTracepoints

    assert answer(ListRawTracepoints(), live_view).total == len(raw)
    (ctx,) = [i for i in btf.find("bpf_ctx_convert") if btf.kind(i) is Kind.STRUCT]
    compiled = sum(
        1 for t in answer(ListBpfProgramTypes(limit=1000), live_view).items if t.compiled_in
    )
    assert compiled * 2 == len(btf.members(ctx))


@pytest.mark.live
def test_live_every_kprobe_verdict_says_why(live_view: View) -> None:
    """On a kernel built without kprobes, no function is kprobe-able, and each verdict
    gives that reason."""
    from bpf_mcp.answers.attach import kprobe_support

    if not any(f.level == "no" for f in kprobe_support(live_view.system)):
        pytest.skip("this kernel has kprobes")
    assert answer(ListKernelFunctions(attachable="kprobe"), live_view).total == 0
    assert answer(ListKernelFunctions(attachable="kretprobe"), live_view).total == 0
    for name in ("vfs_read", "do_sys_openat2", "schedule", "start_kernel", "tcp_sendmsg"):
        detail = answer(GetKernelFunction(name=name), live_view)
        for verdict in detail.verdicts[:2]:
            assert verdict.verdict == "no"
            assert verdict.reasons[0].startswith("kernel built without kprobes")


@pytest.mark.live
def test_live_unreadable_function_list_leaves_fentry_unknown(live_view: View) -> None:
    facts = live_view.system
    fact = facts.file("ftrace functions")
    if fact is None or fact.readable:
        pytest.skip("available_filter_functions is readable here: fentry verdicts are decided")
    detail = answer(GetKernelFunction(name="vfs_read"), live_view)
    fentry = {v.mechanism: v for v in detail.verdicts}["fentry"]
    assert fentry.verdict == "unknown"
    assert fact.detail in fentry.reasons[0] and fentry.settle


def test_reference_tables_after_map_types_are_optional() -> None:
    import json

    from bpf_mcp.readers.reference import default_path
    from bpf_mcp.reference import ReferenceError, parse_reference

    doc = json.loads(default_path().read_text())
    older = {key: doc[key] for key in ("format", "prog_types", "map_types")}
    data = parse_reference(json.dumps(older))
    assert data.helpers == () and data.kfunc_annotations == ()
    assert data.description("helpers", "BPF_FUNC_loop") is None
    with pytest.raises(ReferenceError, match="kfunc_annotations"):
        parse_reference(json.dumps({**older, "kfunc_annotations": [["__sz"]]}))
    with pytest.raises(ReferenceError, match="helpers"):
        parse_reference(json.dumps({**older, "helpers": []}))


SAMPLE_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_tracepoint", {"name": "syscalls:sys_enter_openat"}),
    ("list_raw_tracepoints", {"pattern": "sched", "limit": 5}),
    ("get_kernel_function", {"name": "finish_task_switch"}),
    ("list_kernel_functions", {"pattern": "vfs_", "attachable": "fentry", "has_btf": True}),
    ("list_kfuncs", {"pattern": "dynptr"}),
    ("list_bpf_helpers", {"limit": 20}),
    ("list_bpf_attach_types", {}),
    ("list_bpf_program_types", {}),
    ("list_bpf_hooks", {"limit": 300}),
    ("get_kernel_info", {}),
]


@pytest.mark.parametrize(("name", "arguments"), SAMPLE_CALLS, ids=[c[0] for c in SAMPLE_CALLS])
def test_answers_match_the_declared_schemas(
    view: View, name: str, arguments: dict[str, Any]
) -> None:
    import jsonschema

    from bpf_mcp.convert import structure_arguments, unstructure
    from bpf_mcp.tools import TOOLS_BY_NAME

    spec = TOOLS_BY_NAME[name]
    jsonschema.validate(arguments, spec.input_schema())
    payload = unstructure(answer(structure_arguments(arguments, spec.query), view))
    jsonschema.validate(payload, spec.output_schema())


@pytest.mark.parametrize(
    ("name", "arguments", "words"),
    [
        ("get_tracepoint", {}, "name"),
        ("get_tracepoint", {"name": ""}, "name"),
        ("get_kernel_function", {"name": "x\u0000"}, "NUL"),
        ("list_bpf_hooks", {"kind": "kprobe"}, "kind"),
        ("list_kernel_functions", {"attachable": "uprobe"}, "attachable"),
    ],
)
def test_bad_arguments_are_refused(name: str, arguments: dict[str, Any], words: str) -> None:
    from bpf_mcp.convert import structure_arguments
    from bpf_mcp.errors import InvalidArgument
    from bpf_mcp.tools import TOOLS_BY_NAME

    with pytest.raises(InvalidArgument, match=words):
        structure_arguments(arguments, TOOLS_BY_NAME[name].query)
