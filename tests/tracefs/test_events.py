"""parse_available_events: pairs in order, blank lines skipped, unsafe names refused."""

from __future__ import annotations

import pytest

from bpf_mcp.tracefs import FormatError, parse_available_events


def test_pairs_in_order_skipping_blank_lines() -> None:
    text = "sched:sched_switch\n\nsyscalls:sys_enter_openat\n  \n9p:9p_client_req\n"
    assert parse_available_events(text) == (
        ("sched", "sched_switch"),
        ("syscalls", "sys_enter_openat"),
        ("9p", "9p_client_req"),
    )


def test_empty_text() -> None:
    assert parse_available_events("") == ()
    assert parse_available_events("\n\n") == ()


def test_no_trailing_newline() -> None:
    assert parse_available_events("a:b") == (("a", "b"),)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("sched_switch", "expected 'category:event'"),
        (":sched_switch", "the category name is empty"),
        ("sched:", "the event name is empty"),
        ("sched:a:b", "forbidden character ':'"),
        ("../..:x", "could leave the events directory"),
        ("sched:..", "could leave the events directory"),
        ("sched:.", "could leave the events directory"),
        (".:x", "could leave the events directory"),
        ("a/b:c", "forbidden character '/'"),
        ("a:b/c", "forbidden character '/'"),
        ("a:b\0", "forbidden character '\\x00'"),
        ("a b:c", "forbidden character ' '"),
        ("a:b ", "forbidden character ' '"),
        ("a:b\r", "forbidden character '\\r'"),
    ],
)
def test_malformed_line_is_named(line: str, message: str) -> None:
    text = f"ok:first\n\n{line}\nok:last\n"
    with pytest.raises(FormatError) as caught:
        parse_available_events(text)
    assert caught.value.line == 3
    assert message in str(caught.value)
