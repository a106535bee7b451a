"""Paging and matching: pure functions, property-tested."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bpf_mcp.answers.paging import page, substring_matcher, window


@given(st.integers(0, 300), st.integers(1, 50))
def test_pages_concatenate_to_the_whole(total: int, limit: int) -> None:
    items = list(range(total))
    collected: list[int] = []
    offset: int | None = 0
    while offset is not None:
        shown, w = page(items, offset, limit)
        assert len(shown) <= limit
        assert w.total == total
        collected.extend(shown)
        offset = w.next_offset
    assert collected == items


@given(st.integers(0, 100), st.integers(0, 1000), st.integers(1, 100))
def test_window_is_within_bounds(total: int, offset: int, limit: int) -> None:
    w = window(total, offset, limit)
    assert 0 <= w.start <= w.stop <= total
    assert w.stop - w.start <= limit
    if w.next_offset is not None:
        assert w.next_offset == w.stop < total


def test_offset_past_end_is_an_empty_last_page() -> None:
    shown, w = page([1, 2, 3], 10, 5)
    assert list(shown) == []
    assert w.next_offset is None
    assert w.total == 3


def test_substring_matcher_is_case_insensitive_and_none_for_empty() -> None:
    assert substring_matcher(None) is None
    assert substring_matcher("") is None
    match = substring_matcher("Sched")
    assert match is not None
    assert match("sched:sched_switch")
    assert not match("irq:irq_handler_entry")
