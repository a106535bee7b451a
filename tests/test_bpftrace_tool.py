"""check_bpftrace_script on the captured kernel: probes, wildcards and args."""

from __future__ import annotations

import pytest

from bpf_mcp.answers import answer
from bpf_mcp.errors import InvalidArgument
from bpf_mcp.index import View
from bpf_mcp.queries import CheckBpftraceScript
from bpf_mcp.results import BpftraceProbe

SCRIPT = """
tracepoint:syscalls:sys_enter_openat { @[str(args.filename)] = count(); @[args.nope] = count(); }
t:syscalls:sys_enter_open* { @[args.filename] = count(); }
t:sched:* { }
kprobe:vfs_read { }
kretprobe:vfs_* { }
fexit:do_unlinkat { @ = args.retval + args.dfd; }
rt:sched_switch { @[args.prev] = count(); }
uprobe:/bin/bash:readline { }
software:cpu-clock:100000 { }
hardware:cycles:1000 { }
profile:hz:99 { }
interval:ms:bad { }
iter:task { }
iter:no_such_iter { }
BEGIN { }
bogus:x { }
"""


@pytest.fixture(scope="module")
def probes(view: View) -> dict[str, BpftraceProbe]:
    result = answer(CheckBpftraceScript(script=SCRIPT), view)
    assert result.verdict == "no"
    assert "Not run" in result.outside
    return {p.probe: p for p in result.probes}


def test_tracepoint_args(probes: dict[str, BpftraceProbe]) -> None:
    openat = probes["tracepoint:syscalls:sys_enter_openat"]
    assert [(a.name, a.verdict) for a in openat.args] == [("filename", "yes"), ("nope", "no")]
    assert openat.verdict == "no"
    assert "flags" in openat.args[1].detail  # the fields it does have


def test_wildcards_expand(probes: dict[str, BpftraceProbe]) -> None:
    sched = probes["t:sched:*"]
    assert sched.verdict == "yes" and sched.matches is not None and sched.matches > 10
    assert sched.first_matches == tuple(sorted(sched.first_matches))
    opens = probes["t:syscalls:sys_enter_open*"]
    (arg,) = opens.args
    assert arg.verdict == "no" and "sys_enter_open_by_handle_at" in arg.detail
    assert probes["kretprobe:vfs_*"].matches


def test_kernel_facts_decide(probes: dict[str, BpftraceProbe]) -> None:
    assert probes["kprobe:vfs_read"].verdict == "no"  # no kprobes in this kernel
    assert any("CONFIG_KPROBES" in r for r in probes["kprobe:vfs_read"].reasons)
    fexit = probes["fexit:do_unlinkat"]
    assert {a.name: a.verdict for a in fexit.args} == {"retval": "yes", "dfd": "yes"}
    assert probes["rt:sched_switch"].args[0].verdict == "yes"
    assert probes["hardware:cycles:1000"].verdict == "no"  # no CPU PMU in this VM


@pytest.mark.parametrize(
    ("probe", "verdict"),
    [
        ("uprobe:/bin/bash:readline", "unknown"),
        ("software:cpu-clock:100000", "yes"),
        ("profile:hz:99", "yes"),
        ("interval:ms:bad", "no"),
        ("iter:task", "yes"),
        ("iter:no_such_iter", "no"),
        ("BEGIN", "yes"),
        ("bogus:x", "no"),
    ],
)
def test_other_probes(probes: dict[str, BpftraceProbe], probe: str, verdict: str) -> None:
    assert probes[probe].verdict == verdict


def test_unreadable_script(view: View) -> None:
    with pytest.raises(InvalidArgument, match="script: line 1: unclosed block"):
        answer(CheckBpftraceScript(script="kprobe:f {"), view)
