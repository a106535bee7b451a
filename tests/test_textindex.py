"""SubstringIndex answers exactly what scanning every name would, whatever the names hold."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.textindex import SubstringIndex

# Names drawn from a small alphabet that includes the separator, its stand-in and
# characters whose case folding changes length, so collisions are common.
_CHARS = st.sampled_from(list("abAB_\n\ufffdİΣς\0"))
_NAMES = st.lists(st.text(_CHARS, max_size=6), max_size=30)


def _scan(names: list[str], needle: str, fold: bool) -> list[int]:
    if fold:
        return [i for i, n in enumerate(names) if needle.lower() in n.lower()]
    return [i for i, n in enumerate(names) if needle in n]


@settings(max_examples=400, derandomize=True)
@given(names=_NAMES, needle=st.text(_CHARS, max_size=3), fold=st.booleans())
def test_search_equals_a_scan_of_every_name(names: list[str], needle: str, fold: bool) -> None:
    index = SubstringIndex(names, fold=fold)
    assert len(index) == len(names)
    assert index.search(needle) == _scan(names, needle, fold)


def test_a_name_holding_the_separator_shifts_nothing() -> None:
    names = ["alpha", "be\nta", "gamma", "delta"]
    index = SubstringIndex(names)
    assert len(index) == 4
    assert index.search("gam") == [2]
    assert index.search("ta") == [1, 3]
    assert index.search("e\nt") == [1]
    assert index.search("a\ng") == []  # never across two entries


def test_common_needles_switch_to_scanning_and_stay_exact() -> None:
    names = [f"sock_{n}" if n % 3 else f"file_{n}" for n in range(10_000)]
    assert SubstringIndex(names).search("SOCK") == [n for n in range(10_000) if n % 3]
