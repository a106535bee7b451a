"""tracefs text: format files and available_events sampled from a capture and mutated,
with what the parsers must do with any text (refuse it only with FormatError)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from bpf_mcp.testing.text import edited
from bpf_mcp.tracefs import FormatError, parse_available_events, parse_format

SAMPLE_EVENTS = (
    ("sched", "sched_switch"),
    ("syscalls", "sys_enter_openat"),
    ("ftrace", "function"),
    ("ftrace", "kernel_stack"),
    ("ext4", "ext4_fsmap_mapping"),
    ("block", "block_rq_issue"),
    ("tcp", "tcp_probe"),
)
"""Events whose formats cover arrays, __data_loc, syscall slots and ftrace's own shapes."""

PUNCTUATION = st.sampled_from(list(":;\t\n []*_.-/0123456789x\0"))
"""Characters that matter to the grammar; mutations mix them with any character."""
JUNK = st.text(st.one_of(PUNCTUATION, st.characters()), max_size=12)


def format_samples(tracing: Path) -> list[str]:
    """The format files of SAMPLE_EVENTS under the tracefs directory `tracing`."""
    return [
        (tracing / "events" / category / event / "format").read_text()
        for category, event in SAMPLE_EVENTS
    ]


def events_sample(tracing: Path) -> str:
    """The first 40 lines of `tracing`'s available_events."""
    return "\n".join((tracing / "available_events").read_text().splitlines()[:40])


def mutated(texts: list[str]) -> st.SearchStrategy[str]:
    """One of `texts` with a few edits, line swaps among them."""
    return edited(texts, JUNK, lines=True)


def format_refused_only_with_format_error(text: str) -> None:
    """parse_format gives an event with named, typed fields, or raises FormatError."""
    try:
        fmt = parse_format(text)
    except FormatError:
        return
    assert fmt.name
    assert all(field.name and field.c_type for field in fmt.fields)


def events_refused_only_with_format_error(text: str) -> None:
    """parse_available_events gives names that are safe path parts, or raises FormatError."""
    try:
        pairs = parse_available_events(text)
    except FormatError:
        return
    for category, event in pairs:
        for name in (category, event):
            assert name
            assert "/" not in name
            assert ".." not in name
            assert "\0" not in name
