"""Reading bpftrace scripts: probes, aliases, filters, comments, strings, args."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.bpftrace import MAX_SCRIPT, BpftraceError, parse_script

SCRIPT = """#include <linux/sched.h>
// a comment with { and args.not_read
config = { max_map_keys = 16 }
tracepoint:syscalls:sys_enter_openat /comm == "bash"/ {
    printf("%s {\\n", str(args.filename)); @[args->flags] = count();
}
kprobe:vfs_read, kr:vfs_* { @x = arg0; /* args.hidden */ }
uprobe:/bin/bash:readline { }
BEGIN { printf("args.not_a_field"); }
kfunc:do_unlinkat { print(args.dfd); }
t:sched:* { }
"""


def test_probes_and_their_args() -> None:
    probes = parse_script(SCRIPT)
    assert [(p.text, p.provider, p.target, p.line) for p in probes] == [
        ("tracepoint:syscalls:sys_enter_openat", "tracepoint", ("syscalls", "sys_enter_openat"), 4),
        ("kprobe:vfs_read", "kprobe", ("vfs_read",), 7),
        ("kr:vfs_*", "kretprobe", ("vfs_*",), 7),
        ("uprobe:/bin/bash:readline", "uprobe", ("/bin/bash", "readline"), 8),
        ("BEGIN", "BEGIN", (), 9),
        ("kfunc:do_unlinkat", "fentry", ("do_unlinkat",), 10),
        ("t:sched:*", "tracepoint", ("sched", "*"), 11),
    ]
    assert probes[0].args == ("filename", "flags")
    assert probes[1].args == probes[4].args == ()  # comments and strings are not code
    assert probes[5].args == ("dfd",)


def test_unknown_providers_are_kept() -> None:
    (probe,) = parse_script("bogus:x { }")
    assert (probe.provider, probe.target) == ("", ("x",))


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("kprobe:f { ", "unclosed block"),
        ('BEGIN { printf("x); }', "unclosed string"),
        ("BEGIN { } /* open", "unclosed comment"),
        ("kprobe:f", "no action block"),
        ("x" * (MAX_SCRIPT + 1), "at most"),
    ],
)
def test_structure_errors_name_the_line(script: str, words: str) -> None:
    with pytest.raises(BpftraceError, match=words):
        parse_script(script)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.text(alphabet=st.sampled_from(list('ab:{}/*"\\\n #,.-> args')), max_size=200))
def test_any_text_raises_only_bpftrace_errors(text: str) -> None:
    with contextlib.suppress(BpftraceError):
        parse_script(text)
