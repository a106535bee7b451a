"""The captured /proc/kallsyms and the running kernel's."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURE_KALLSYMS = REPO / "fixtures" / "linux-6.18" / "proc" / "kallsyms"
LIVE_KALLSYMS = Path("/proc/kallsyms")


def fixture_text() -> str:
    return FIXTURE_KALLSYMS.read_text()
