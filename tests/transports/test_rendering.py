"""A result's JSON forms are rendered once and shared while the result lives, never served
for another result (not after a source change, not for a value that reuses a freed one's
id), and written to the byte as json.dumps writes them."""

from __future__ import annotations

import json
import re
from typing import Any

import attrs
import mcp_types as types
import trio
from hypothesis import given
from hypothesis import strategies as st

from bpf_mcp.answers import answer
from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.convert import (
    dumps,
    float_free,
    render,
    structure_arguments,
    unstructure,
)
from bpf_mcp.errors import BpfMcpError
from bpf_mcp.index import View
from bpf_mcp.kallsyms import parse_kallsyms
from bpf_mcp.readers.base import Emit, Loaded
from bpf_mcp.results import BtfTypeDescription, KernelFunction, KernelInfo, ServerStatus
from bpf_mcp.sources import Source
from bpf_mcp.tools import TOOLS
from bpf_mcp.transports.budget import answer_size, text_size
from bpf_mcp.transports.protocol import wire_result
from bpf_mcp.transports.server import call_tool
from tests.support import REPO

DOCS = [REPO / name for name in ("README.md", "docs/tools.md")]
EXAMPLE = re.compile(r"<!-- example: (\w+) (\{.*\}) -->")
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def function(name: str) -> KernelFunction:
    return KernelFunction(name, None, None, "T", None, None)


def test_a_render_is_the_value_as_json() -> None:
    value = function("vfs_read")
    rendered = render(value)
    assert rendered.payload == unstructure(value)
    assert json.loads(rendered.text) == rendered.payload


def test_the_wire_form_is_what_the_sdk_would_dump() -> None:
    rendered = render(function("vfs_read"))
    model = types.CallToolResult(
        content=[types.TextContent(text=rendered.text)], structured_content=rendered.payload
    )
    assert wire_result(rendered) == model.model_dump(by_alias=True, mode="json", exclude_none=True)


@given(JSON)
def test_text_size_counts_both_copies_of_the_answer(value: Any) -> None:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    escaped = json.dumps(text, ensure_ascii=False)
    expected = len(text.encode("utf-8")) + len(escaped.encode("utf-8")) - 2
    assert text_size(text) == answer_size(value) == expected


class SwappableKallsyms:
    """A kallsyms reader double whose data the test replaces; its signature follows it."""

    source = Source.KALLSYMS

    def __init__(self, text: str) -> None:
        self.text = text

    async def signature(self, config: Config) -> str:
        return self.text

    async def load(self, config: Config, emit: Emit) -> Loaded:
        await emit(parse_kallsyms(self.text))
        return Loaded("/proc/kallsyms", "swappable")


@given(JSON)
def test_the_fast_writer_agrees_with_json_dumps_on_values_without_floats(value: Any) -> None:
    assert dumps(value, fast=True) == dumps(value, fast=False)


def test_only_results_that_can_hold_no_float_take_the_fast_writer() -> None:
    assert float_free(BtfTypeDescription) and float_free(KernelFunction)
    assert not float_free(ServerStatus)  # seconds are floats
    assert not float_free(KernelInfo)  # it carries the sources' statuses
    assert not float_free(Node)  # refers to itself: not worth deciding


@attrs.frozen
class Node:
    name: str
    children: tuple[Node, ...]


def test_every_answer_text_is_what_json_dumps_writes(view: View) -> None:
    calls = [(m[1], json.loads(m[2])) for d in DOCS for m in EXAMPLE.finditer(d.read_text())]
    calls += [(t.name, {"limit": 1000}) for t in TOOLS if "limit" in t.input_schema()["properties"]]
    calls += [("describe_btf_type", {"name": "task_struct"}), ("get_kernel_info", {})]
    for name, arguments in calls:
        if name in ("list_kernels", "compare_kernels", "compare_type_across"):
            continue  # answered by the handle over kernels, not over one view
        query: Any = structure_arguments(arguments, next(t for t in TOOLS if t.name == name).query)
        try:
            result = answer(query, view)
        except BpfMcpError:
            continue
        payload = unstructure(result)
        assert render(result).text == json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


async def test_no_stale_payload_after_the_index_is_swapped() -> None:
    reader = SwappableKallsyms("ffffffff81000000 T vfs_read\n")
    config = Config(refresh_interval=0.02)
    arguments = {"pattern": "vfs"}
    async with open_bpf_mcp(config, readers=[reader]) as handle:
        with trio.fail_after(10):
            first = await call_tool(handle, "list_kernel_functions", arguments)
            again = await call_tool(handle, "list_kernel_functions", arguments)
            assert again.structured_content == first.structured_content
            reader.text += "ffffffff81000100 T vfs_write\n"
            while (  # noqa: ASYNC110 - each answer must be old or new, never a mix
                swapped := await call_tool(handle, "list_kernel_functions", arguments)
            ).structured_content == first.structured_content:
                await trio.sleep(0.01)
    assert swapped.structured_content is not None
    assert [f["name"] for f in swapped.structured_content["items"]] == ["vfs_read", "vfs_write"]
    text = swapped.content[0].text  # type: ignore[union-attr]
    assert json.loads(text) == swapped.structured_content
