"""One case-folding rule for every name match: ASCII letters ignore case, every other
character matches only itself (kernel names are ASCII). So 'SCHED' finds what 'sched'
finds in every tool, and 'ß' (which str.casefold turns into 'ss') or the Kelvin sign
(which str.lower turns into 'k') find nothing anywhere."""

from __future__ import annotations

from typing import Any

import pytest

from bpf_mcp import queries as q
from bpf_mcp.answers import answer
from bpf_mcp.index import View
from bpf_mcp.results import AttachTypePage
from bpf_mcp.textindex import SubstringIndex, fold_case

LISTINGS: list[tuple[type[Any], dict[str, Any], str]] = [
    (q.ListTracepoints, {}, "sched"),
    (q.ListTracepoints, {"pattern": None}, "CATEGORY"),
    (q.ListKernelFunctions, {}, "vfs_"),
    (q.GetBtfTypes, {}, "sk_buff"),
    (q.GetBtfTypes, {"match": "glob"}, "sk_buff*"),
    (q.GetBtfTypes, {"match": "exact"}, "task_struct"),
    (q.ListBpfProgramTypes, {}, "kprobe"),
    (q.ListBpfMapTypes, {}, "hash"),
    (q.ListRawTracepoints, {}, "sched"),
    (q.ListKfuncs, {}, "task"),
    (q.ListBpfHelpers, {}, "ringbuf"),
    (q.ListBpfAttachTypes, {}, "cgroup"),
    (q.ListBpfHooks, {}, "file"),
]
ODD = ("ß", "\u212a", "\u0130")  # sharp s, Kelvin sign, capital I with dot


def _ask(view: View, query_type: type[Any], fixed: dict[str, Any], text: str) -> int:
    if fixed.get("pattern", "") is None:  # the category filter of list_tracepoints
        query = query_type(category=text.lower() if text == "CATEGORY" else text)
    else:
        query = query_type(pattern=text, **fixed)
    result = answer(query, view)
    if isinstance(result, AttachTypePage):  # two lists, no total
        return len(result.attach_types) + len(result.link_types)
    total = result.total
    assert isinstance(total, int)
    return total


@pytest.mark.parametrize(("query_type", "fixed", "text"), LISTINGS)
def test_ascii_case_is_ignored_everywhere(
    view: View, query_type: type[Any], fixed: dict[str, Any], text: str
) -> None:
    if text == "CATEGORY":
        text = "sched"
    found = _ask(view, query_type, fixed, text)
    assert found > 0, (query_type.__name__, text)
    assert _ask(view, query_type, fixed, text.upper()) == found
    assert _ask(view, query_type, fixed, text.title()) == found


@pytest.mark.parametrize(("query_type", "fixed", "text"), LISTINGS)
@pytest.mark.parametrize("odd", ODD, ids=["sharp-s", "kelvin", "dotted-I"])
def test_other_characters_match_only_themselves(
    view: View, query_type: type[Any], fixed: dict[str, Any], text: str, odd: str
) -> None:
    # 'ß' would find every name holding 'ss' under casefold; the Kelvin sign every 'k'
    # under lower(); the dotted capital I every 'i' (lower() gives 'i' and a dot).
    assert _ask(view, query_type, fixed, odd) == 0, (query_type.__name__, odd)


def test_fold_case_keeps_length_and_non_ascii() -> None:
    assert fold_case("Task_STRUCT") == "task_struct"
    for text in ("ß", "\u212a", "\u0130x", "Aß\u212aB"):
        assert len(fold_case(text)) == len(text)
    assert fold_case("Aß\u212aB") == "aß\u212ab"
    index = SubstringIndex(["Straße", "strasse", "\u212aelvin", "kelvin", "İi"])
    assert index.search("SS") == [1]
    assert index.search("ß") == [0]
    assert index.search("K") == [3]
    assert index.search("\u212a") == [2]
    assert index.search("\u0130") == [4]
    assert index.search("I") == [2, 3, 4]
