"""`bpf-mcp call`: argument parsing and the table rendering, and one call in process."""

from __future__ import annotations

import pytest

from bpf_mcp.calltool import UsageError, call, parse_assignments, render_table
from bpf_mcp.config import Config
from tests.support import FIXTURE_ROOT


def test_assignments_parse_json_values_and_strings() -> None:
    assert parse_assignments(["pattern=vfs", "limit=3", "flag=true", 'names=["a","b"]']) == {
        "pattern": "vfs",
        "limit": 3,
        "flag": True,
        "names": ["a", "b"],
    }
    assert parse_assignments(["pattern:=42"]) == {"pattern": "42"}
    with pytest.raises(UsageError, match="expected key=value"):
        parse_assignments(["oops"])


def test_table_shows_items_and_the_next_page() -> None:
    text = render_table(
        {
            "items": [{"name": "vfs_read", "address": None, "fields": [1, 2]}],
            "total": 3,
            "offset": 0,
            "next_offset": 1,
            "note": "why",
        }
    )
    lines = text.splitlines()
    assert lines[0].split() == ["name", "address", "fields"]
    assert lines[2].split() == ["vfs_read", "-", "1,", "2"]
    assert "1 shown (0..1) of 3 matching; next page: offset=1" in text
    assert "note: why" in text


async def test_call_prints_json_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    config = Config(sysroot=FIXTURE_ROOT)
    assert await call(config, "list_bpf_map_types", {"pattern": "ringbuf"}, as_json=True) == 0
    out = capsys.readouterr().out
    assert '"name": "ringbuf"' in out and '"total": 2' in out
    assert await call(config, "list_bpf_map_types", {"limit": 0}, as_json=False) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "limit must be >= 1" in captured.err
