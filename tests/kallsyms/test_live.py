"""parse_kallsyms against the running kernel's /proc/kallsyms; skipped where unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpf_mcp.kallsyms import parse_kallsyms

from .conftest import LIVE_KALLSYMS

pytestmark = pytest.mark.live


def read_or_skip(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        pytest.skip(f"{path} is not readable here: {error.strerror}")


def test_live_kallsyms() -> None:
    text = read_or_skip(LIVE_KALLSYMS)
    table = parse_kallsyms(text)
    assert len(table) == text.count("\n")
    assert any(table.is_text(i) for i in range(len(table)))


def test_live_addresses_hidden_matches_privilege() -> None:
    text = read_or_skip(LIVE_KALLSYMS)
    restrict = read_or_skip(Path("/proc/sys/kernel/kptr_restrict")).strip()
    table = parse_kallsyms(text)
    # kptr_restrict=2 hides addresses from everyone; 0 and 1 show them to CAP_SYSLOG.
    hidden = restrict == "2" or not _has_cap_syslog()
    assert table.addresses_hidden == hidden


def _has_cap_syslog() -> bool:
    cap_syslog = 34
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> cap_syslog & 1)
    return False
