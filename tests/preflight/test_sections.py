"""libbpf's section-name rules: first match wins, `+` forms, `?` prefixes."""

from __future__ import annotations

import pytest

from bpf_mcp.btf import Btf
from bpf_mcp.preflight import SECTION_DEFS, Target, match_section
from bpf_mcp.preflight.kernel import kernel_enum


@pytest.mark.parametrize(
    ("section", "prog_type", "attach_type", "target"),
    [
        ("kprobe/do_exit", "KPROBE", "", "do_exit"),
        ("kprobe", "KPROBE", "", ""),
        ("kretprobe/do_exit+4", "KPROBE", "", "do_exit+4"),
        ("kprobe.multi/vfs_*", "KPROBE", "BPF_TRACE_KPROBE_MULTI", "vfs_*"),
        ("kprobe.session/f", "KPROBE", "BPF_TRACE_KPROBE_SESSION", "f"),
        ("uprobe.s//bin/sh:main", "KPROBE", "", "/bin/sh:main"),
        ("uretprobe.multi//bin/sh:*", "KPROBE", "BPF_TRACE_UPROBE_MULTI", "/bin/sh:*"),
        ("ksyscall/openat", "KPROBE", "", "openat"),
        ("usdt/a:b:c", "KPROBE", "", "a:b:c"),
        ("tp/sched/sched_switch", "TRACEPOINT", "", "sched/sched_switch"),
        ("tracepoint.s/syscalls/x", "TRACEPOINT", "", "syscalls/x"),
        ("raw_tp.w/x", "RAW_TRACEPOINT_WRITABLE", "", "x"),
        ("tp_btf/sched_switch", "TRACING", "BPF_TRACE_RAW_TP", "sched_switch"),
        ("fentry/do_exit", "TRACING", "BPF_TRACE_FENTRY", "do_exit"),
        ("fentry.s/do_exit", "TRACING", "BPF_TRACE_FENTRY", "do_exit"),
        ("fmod_ret/security_x", "TRACING", "BPF_MODIFY_RETURN", "security_x"),
        ("fexit/vmlinux:do_exit", "TRACING", "BPF_TRACE_FEXIT", "vmlinux:do_exit"),
        ("freplace/handler", "EXT", "", "handler"),
        ("lsm.s/file_open", "LSM", "BPF_LSM_MAC", "file_open"),
        ("lsm_cgroup/socket_bind", "LSM", "BPF_LSM_CGROUP", "socket_bind"),
        ("iter/task", "TRACING", "BPF_TRACE_ITER", "task"),
        ("struct_ops/init", "STRUCT_OPS", "", "init"),
        ("syscall", "SYSCALL", "", ""),
        ("xdp", "XDP", "BPF_XDP", ""),
        ("xdp.frags/devmap", "XDP", "BPF_XDP_DEVMAP", ""),
        ("tc", "SCHED_CLS", "", ""),
        ("tc/ingress", "SCHED_CLS", "BPF_TCX_INGRESS", ""),
        ("tcx/egress", "SCHED_CLS", "BPF_TCX_EGRESS", ""),
        ("netkit/peer", "SCHED_CLS", "BPF_NETKIT_PEER", ""),
        ("sk_reuseport/migrate", "SK_REUSEPORT", "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE", ""),
        ("sk_reuseport", "SK_REUSEPORT", "BPF_SK_REUSEPORT_SELECT", ""),
        ("sk_skb/stream_parser", "SK_SKB", "BPF_SK_SKB_STREAM_PARSER", ""),
        ("sk_skb", "SK_SKB", "", ""),
        ("cgroup/sock", "CGROUP_SOCK", "BPF_CGROUP_INET_SOCK_CREATE", ""),
        ("cgroup/sendmsg_unix", "CGROUP_SOCK_ADDR", "BPF_CGROUP_UNIX_SENDMSG", ""),
        ("cgroup/getsockopt", "CGROUP_SOCKOPT", "BPF_CGROUP_GETSOCKOPT", ""),
        ("netfilter", "NETFILTER", "BPF_NETFILTER", ""),
    ],
)
def test_libbpf_rules(section: str, prog_type: str, attach_type: str, target: str) -> None:
    found = match_section(section)
    assert found.rule is not None
    assert found.rule.prog_type == f"BPF_PROG_TYPE_{prog_type}"
    assert found.rule.attach_type == attach_type
    assert found.target == target
    assert found.autoload


@pytest.mark.parametrize(
    "section", ["kprobex", "xdp/foo", "tc/other", "socket/x", "", "?", "fentryx/a"]
)
def test_names_libbpf_does_not_know(section: str) -> None:
    assert match_section(section).rule is None


def test_question_mark_turns_autoload_off() -> None:
    found = match_section("?tp_btf/sched_switch")
    assert not found.autoload
    assert found.rule is not None and found.rule.target is Target.TP_BTF
    assert found.target == "sched_switch"


def test_sleepable_forms() -> None:
    assert match_section("fentry.s/f").rule.sleepable  # type: ignore[union-attr]
    assert not match_section("fentry/f").rule.sleepable  # type: ignore[union-attr]


def test_every_rule_names_types_the_kernel_spells(fixture_btf: Btf) -> None:
    prog_types = kernel_enum(fixture_btf, "bpf_prog_type") or {}
    attach_types = kernel_enum(fixture_btf, "bpf_attach_type") or {}
    assert {d.prog_type for d in SECTION_DEFS} <= set(prog_types)
    newer = {d.attach_type for d in SECTION_DEFS if d.attach_type} - set(attach_types)
    # Attach types newer than 6.18 in libbpf's table: the fsession and multi trampolines.
    assert newer == {
        "BPF_TRACE_FSESSION",
        "BPF_TRACE_FSESSION_MULTI",
        "BPF_TRACE_FENTRY_MULTI",
        "BPF_TRACE_FEXIT_MULTI",
    }
