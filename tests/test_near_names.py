"""NearNames: near matches of a missing name from two orders built once, and the
"did you mean" answers built on it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpf_mcp import queries as q
from bpf_mcp.answers import answer
from bpf_mcp.errors import NotFound
from bpf_mcp.index import View
from bpf_mcp.textindex import NearNames

NAMES = [
    "task_struct",
    "tasklet_struct",
    "thread_struct",
    "mm_struct",
    "sk_buff",
    "sk_buff_head",
    "vfs_read",
    "vfs_readv",
    "vfs_write",
    "inode_operations",
    "file_operations",
    "Task_Struct",
]


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("task_strcut", "task_struct"),  # a typo at the end
        ("tsak_struct", "task_struct"),  # at the start: found by the reversed order
        ("vfs_raed", "vfs_read"),  # in the middle
        ("inode_operaitons", "inode_operations"),
        ("sk_bfuf", "sk_buff"),
    ],
)
def test_typos_are_found_wherever_they_are(name: str, first: str) -> None:
    assert NearNames(NAMES).near(name, 3)[0] == first


def test_the_same_letters_in_another_case_come_first() -> None:
    near = NearNames(NAMES)
    assert near.near("TASK_STRUCT", 2) == ["Task_Struct", "task_struct"]
    assert near.near("task_struct", 3)[0] == "Task_Struct"
    assert "task_struct" not in near.near("task_struct", 10)


def test_nothing_alike_gives_nothing() -> None:
    assert NearNames(NAMES).near("zzzzqqqqxxxx", 5) == []
    assert NearNames([]).near("task", 5) == []


def test_presorted_names_give_the_same_answers() -> None:
    unsorted = NearNames(NAMES)
    presorted = NearNames(sorted(set(NAMES)), distinct_sorted=True)
    for name in ("task_strcut", "TASK_STRUCT", "vfs_raed", "sk_b"):
        assert unsorted.near(name, 5) == presorted.near(name, 5)


@given(
    st.lists(st.text(st.sampled_from("abcdeXYZ_\u00df\n"), max_size=8), max_size=40),
    st.text(st.sampled_from("abcdeXYZ_\u00df"), max_size=8),
)
def test_answers_are_names_never_the_name_itself(names: list[str], name: str) -> None:
    found = NearNames(names).near(name, 5)
    assert len(found) == len(set(found)) <= 5
    assert set(found) <= set(names) - {name}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (q.GetKernelFunction(name="vfs_raed"), "Did you mean: vfs_read"),
        (q.GetTracepoint(name="sched:sched_swtich"), "Did you mean: sched:sched_switch"),
        (q.DescribeBtfType(name="task_strcut"), "Close matches: task_struct"),
        (q.DescribeBtfType(name="tsak_struct"), "Close matches: task_struct"),
        (q.GenerateCHeader(names=("task_strcut",)), "(close: task_struct"),
    ],
)
def test_misses_suggest_the_name_meant(view: View, query: object, expected: str) -> None:
    with pytest.raises(NotFound) as caught:
        answer(query, view)  # type: ignore[arg-type]
    assert expected in str(caught.value)
