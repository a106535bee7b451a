"""Every answer is bounded: a list page past the JSON budget is cut, never silently, and
following next_offset still yields every item exactly once."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp_types import JSONRPCResponse

from bpf_mcp.answers import answer
from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.convert import unstructure
from bpf_mcp.index import View
from bpf_mcp.queries import GetServerStatus, ListKernelFunctions, ListTracepoints
from bpf_mcp.tools import TOOLS
from bpf_mcp.transports.budget import (
    BUDGET_BYTES,
    ENVELOPE_RESERVE,
    AnswerTooLarge,
    answer_size,
    fit_to_budget,
    is_page,
)
from bpf_mcp.transports.server import call_tool

from .conftest import FIXTURE, sample_value


def size(result: Any) -> int:
    """What the answer costs on the wire, by the budget's own measure."""
    return answer_size(unstructure(result)) + ENVELOPE_RESERVE


def test_a_large_page_is_cut_under_the_budget(view: View) -> None:
    whole = answer(ListTracepoints(include_format=True, limit=1000), view)
    assert size(whole) > 4 * BUDGET_BYTES  # ~2 MB: the case the budget is for
    cut = fit_to_budget(whole)
    assert size(cut) <= BUDGET_BYTES
    assert 0 < len(cut.items) < len(whole.items)
    assert cut.items == whole.items[: len(cut.items)]
    assert cut.next_offset == len(cut.items)
    assert cut.total == whole.total and cut.offset == whole.offset


def test_pages_under_the_budget_are_left_alone(view: View) -> None:
    page = answer(ListTracepoints(limit=5), view)
    assert fit_to_budget(page) is page
    status = answer(GetServerStatus(), view)
    assert fit_to_budget(status) is status


def test_an_answer_that_cannot_shrink_enough_is_refused_with_a_sentence(view: View) -> None:
    status = answer(GetServerStatus(), view)
    with pytest.raises(AnswerTooLarge, match="ask for less"):
        fit_to_budget(status, budget=10)


def test_a_cut_is_said_in_the_note_where_the_page_has_one(view: View) -> None:
    page = answer(ListKernelFunctions(limit=1000), view)
    assert "note" in attrs.fields_dict(type(page))
    cut = fit_to_budget(page, budget=20 * 1024)
    assert cut.next_offset == len(cut.items) < len(page.items)
    assert cut.note is not None
    assert f"offset {cut.next_offset}" in cut.note and "20 KB" in cut.note
    assert size(cut) <= 20 * 1024


def test_a_single_item_larger_than_the_budget_still_makes_progress(view: View) -> None:
    page = answer(ListTracepoints(include_format=True, limit=3), view)
    cut = fit_to_budget(page, budget=100)
    assert len(cut.items) == 1 and cut.next_offset == 1


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    budget=st.integers(4_000, 80_000),
    limit=st.integers(1, 1000),
    include_format=st.booleans(),
    category=st.sampled_from(["sched", "block", "irq", "zz-none"]),
)
def test_pages_under_any_budget_concatenate_to_the_whole(
    view: View, budget: int, limit: int, include_format: bool, category: str | None
) -> None:
    def query(offset: int) -> ListTracepoints:
        return ListTracepoints(
            category=category, include_format=include_format, limit=limit, offset=offset
        )

    expected: list[str] = []
    unbudgeted: int | None = 0
    while unbudgeted is not None:
        whole = answer(attrs.evolve(query(unbudgeted), limit=1000), view)
        expected += [t.name for t in whole.items]
        unbudgeted = whole.next_offset
    seen: list[str] = []
    next_offset: int | None = 0
    while next_offset is not None:
        page = fit_to_budget(answer(query(next_offset), view), budget=budget)
        assert len(page.items) <= limit
        assert len(page.items) == 1 or size(page) <= budget
        seen += [t.name for t in page.items]
        next_offset = page.next_offset
    assert seen == expected


def _largest_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """Arguments asking for as much as a tool allows: the largest limit, every flag on."""
    properties = schema.get("properties", {})
    arguments = {name: sample_value(properties[name]) for name in schema.get("required", [])}
    for name, prop in properties.items():
        if prop.get("type") == "boolean":
            arguments[name] = True
        elif name == "limit" and "maximum" in prop:
            arguments[name] = prop["maximum"]
    return arguments


@pytest.mark.slow
async def test_every_tool_answers_within_the_budget() -> None:
    config = Config(sysroot=FIXTURE, load_wait=60.0)
    async with open_bpf_mcp(config) as handle:
        for tool in TOOLS:
            arguments = _largest_arguments(tool.input_schema())
            with trio.fail_after(60):
                result = await call_tool(handle, tool.name, arguments)
            if result.is_error:
                continue
            message = JSONRPCResponse(
                jsonrpc="2.0", id=1, result=result.model_dump(by_alias=True, exclude_none=True)
            )
            wire = len(message.model_dump_json(by_alias=True, exclude_unset=True).encode())
            assert wire <= BUDGET_BYTES, (tool.name, arguments, wire)
            payload = result.structured_content
            if is_page_payload(payload) and payload["next_offset"] is not None:
                assert payload["next_offset"] == payload["offset"] + len(payload["items"])


def is_page_payload(payload: Any) -> bool:
    return isinstance(payload, dict) and {"items", "offset", "next_offset"} <= payload.keys()


def test_is_page_knows_pages(view: View) -> None:
    assert is_page(answer(ListTracepoints(limit=1), view))
    assert not is_page(answer(GetServerStatus(), view))
