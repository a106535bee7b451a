"""The captured /proc/kallsyms, and text built from a table."""

from __future__ import annotations

from pathlib import Path

from bpf_mcp.kallsyms import SymbolTable

REPO = Path(__file__).resolve().parents[2]
FIXTURE_KALLSYMS = REPO / "fixtures" / "linux-6.18" / "proc" / "kallsyms"
LIVE_KALLSYMS = Path("/proc/kallsyms")


def fixture_text() -> str:
    return FIXTURE_KALLSYMS.read_text()


def render(table: SymbolTable) -> str:
    """The kallsyms text `table` was parsed from (for 16-digit addresses)."""
    lines = []
    for index in range(len(table)):
        symbol = table[index]
        line = f"{symbol.address:016x} {symbol.symbol_type} {symbol.name}"
        if symbol.module is not None:
            line += f"\t[{symbol.module}]"
        lines.append(line + "\n")
    return "".join(lines)
