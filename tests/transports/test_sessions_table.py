"""SessionTable: which session gives way to a new one, from what happened to each."""

from __future__ import annotations

from bpf_mcp.transports.sessions import SessionTable


def test_the_least_recently_used_idle_session_gives_way() -> None:
    table = SessionTable(limit=3)
    for n, session in enumerate("abc"):
        table.opened(session, now=n)
    assert table.to_close(now=3) == ["a"]
    table.opened("d", now=3)
    table.began("b", now=4)
    table.ended("b", now=5)
    assert table.to_close(now=6) == ["c"]


def test_a_session_answering_a_request_never_gives_way() -> None:
    table = SessionTable(limit=2)
    table.opened("a", now=0)
    table.opened("b", now=1)
    table.began("a", now=2)
    table.began("b", now=2)
    assert table.to_close(now=3) == []
    assert table.full()
    table.ended("a", now=4)
    assert table.to_close(now=5) == ["a"]
    assert not table.full()


def test_a_listening_session_is_idle() -> None:
    table = SessionTable(limit=1)
    table.opened("a", now=0)
    table.began("a", now=1, listening=True)
    assert table.to_close(now=2) == ["a"]


def test_sessions_past_the_idle_timeout_are_dropped_first() -> None:
    table = SessionTable(limit=10, idle_timeout=5)
    table.opened("old", now=0)
    table.opened("new", now=4)
    assert table.to_close(now=6) == ["old"]
    assert "old" not in table and "new" in table


def test_closed_and_unknown_sessions_are_ignored() -> None:
    table = SessionTable(limit=1)
    table.opened("a", now=0)
    table.closed("a")
    table.began("a", now=1)
    table.ended("zzz", now=1)
    assert len(table) == 0 and table.to_close(now=2) == []
