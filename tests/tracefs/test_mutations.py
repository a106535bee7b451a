"""Mutated real tracefs text: the parsers may refuse it, but only with FormatError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.tracefs import FormatError, parse_available_events, parse_format

from .conftest import FIXTURE_TRACEFS, read_fixture_format

SAMPLES = [
    read_fixture_format(category, event)
    for category, event in [
        ("sched", "sched_switch"),
        ("syscalls", "sys_enter_openat"),
        ("ftrace", "function"),
        ("ftrace", "kernel_stack"),
        ("ext4", "ext4_fsmap_mapping"),
        ("block", "block_rq_issue"),
        ("tcp", "tcp_probe"),
    ]
]
EVENTS = "\n".join((FIXTURE_TRACEFS / "available_events").read_text().splitlines()[:40])
# Characters that matter to the grammar, then anything at all.
PUNCTUATION = st.sampled_from(list(":;\t\n []*_.-/0123456789x\0"))
JUNK = st.text(st.one_of(PUNCTUATION, st.characters()), max_size=12)


@st.composite
def mutated(draw: st.DrawFn, texts: list[str]) -> str:
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        match draw(st.sampled_from(["delete", "insert", "replace", "truncate", "lines"])):
            case "delete":
                text = text[:where] + text[where + draw(st.integers(1, 20)) :]
            case "insert":
                text = text[:where] + draw(JUNK) + text[where:]
            case "replace":
                text = text[:where] + draw(JUNK) + text[where + 1 :]
            case "truncate":
                text = text[:where]
            case _:
                lines = text.split("\n")
                first = draw(st.integers(0, len(lines) - 1))
                second = draw(st.integers(0, len(lines) - 1))
                lines[first], lines[second] = lines[second], lines[first]
                if draw(st.booleans()):
                    lines.insert(first, lines[second])
                text = "\n".join(lines)
    return text


@settings(derandomize=True, max_examples=200, deadline=None)
@given(mutated(SAMPLES))
def test_parse_format_raises_only_format_error(text: str) -> None:
    try:
        fmt = parse_format(text)
    except FormatError:
        return
    assert fmt.name
    assert all(field.name and field.c_type for field in fmt.fields)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(mutated([EVENTS]))
def test_parse_available_events_raises_only_format_error(text: str) -> None:
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


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.text(st.one_of(PUNCTUATION, st.characters()), max_size=200))
def test_parse_format_on_arbitrary_text(text: str) -> None:
    try:
        fmt = parse_format(text)
    except FormatError:
        return
    assert fmt.name
    assert all(field.name and field.c_type for field in fmt.fields)
