"""Resources, templates, prompts and completion, over an in-process MCP client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import mcp_types as types
import pytest
import trio
from mcp import Client, MCPError

from bpf_mcp.answers import answer
from bpf_mcp.api import BpfMcp, open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.index import View
from bpf_mcp.queries import CompleteNames
from bpf_mcp.tools import TOOLS
from bpf_mcp.transports import catalog
from bpf_mcp.transports.protocol import select_tools
from bpf_mcp.transports.server import build_server
from tests.support import FIXTURE_ROOT


@pytest.fixture
async def handle() -> AsyncIterator[BpfMcp]:
    async with open_bpf_mcp(Config(sysroot=FIXTURE_ROOT)) as opened:
        yield opened


def test_completion_by_prefix(view: View) -> None:
    def values(what: str, prefix: str, **context: str) -> tuple[tuple[str, ...], int]:
        found = answer(CompleteNames(what, prefix, tuple(sorted(context.items()))), view)
        return found.values, found.total

    assert values("btf_kind", "st") == (("struct",), 1)
    assert values("tracepoint_event", "sched_sw", category="sched") == (
        ("sched_swap_numa", "sched_switch"),
        2,
    )
    assert values("tracepoint_category", "sch")[0] == ("sched",)
    names, total = values("btf_name", "task_", kind="struct")
    assert "task_struct" in names and total == len(names)
    assert values("function", "vfs_read")[0][:2] == ("vfs_read", "vfs_readlink")
    kfuncs, total = values("kfunc", "bpf_")
    assert total > 100 and len(kfuncs) == 100  # capped at 100, total says how many more
    assert values("btf_name", "x", kind="no-such-kind") == ((), 0)
    assert values("no-such-thing", "x") == ((), 0)


async def test_static_resource_and_errors(handle: BpfMcp) -> None:
    with trio.fail_after(30):
        async with Client(build_server(handle), mode="legacy") as client:
            listed = await client.list_resources()
            assert "bpf-mcp://status" in [r.uri for r in listed.resources]
            read = await client.read_resource("bpf-mcp://status")
            content = read.contents[0]
            assert isinstance(content, types.TextResourceContents)
            assert [s["source"] for s in json.loads(content.text)["sources"]][:1] == ["tracefs"]
            with pytest.raises(MCPError, match="Resource not found"):
                await client.read_resource("nothing://here")
            with pytest.raises(MCPError, match="Invalid cursor"):
                await client.list_resources(cursor="bogus")


async def test_tool_subset(handle: BpfMcp) -> None:
    with pytest.raises(ValueError, match="unknown tool"):
        select_tools(["list_tracepoints", "nope"])
    server = build_server(handle, tools=["list_bpf_map_types"])
    with trio.fail_after(30):
        async with Client(server, mode="legacy") as client:
            assert [t.name for t in (await client.list_tools()).tools] == ["list_bpf_map_types"]
            with pytest.raises(MCPError, match="Unknown tool"):
                await client.call_tool("list_tracepoints", {})


def test_templates_and_prompts_name_existing_tools_only() -> None:
    names = {t.name for t in TOOLS}
    for template in catalog.list_templates(None, names).resource_templates:
        spec = next(t for t in catalog.TEMPLATES if t.uri_template == template.uri_template)
        assert spec.tool in names
    for prompt in catalog.list_prompts(None, names).prompts:
        prompt_spec = next(p for p in catalog.PROMPTS if p.name == prompt.name)
        assert prompt_spec.tool in names


def test_template_matching() -> None:
    (tracepoint,) = [t for t in catalog.TEMPLATES if t.name == "tracepoint"]
    assert tracepoint.match("tracepoint://sched/sched_switch") == {
        "category": "sched",
        "event": "sched_switch",
    }
    assert tracepoint.match("tracepoint://sched/../../etc") is None
    assert tracepoint.arguments({"category": "a", "event": "b"}) == {"name": "a:b"}


async def test_templates_read_through_their_tools(handle: BpfMcp) -> None:
    with trio.fail_after(60):
        async with Client(build_server(handle), mode="legacy") as client:
            templates = (await client.list_resource_templates()).resource_templates
            assert {t.uri_template for t in templates} == {
                t.uri_template for t in catalog.TEMPLATES
            }
            reads = {
                "btf://vmlinux/struct/list_head": "application/json",
                "btf-c://vmlinux/struct/list_head": "text/x-c",
                "tracepoint://sched/sched_switch": "application/json",
                "ksym://vfs_read": "application/json",
                "kfunc://bpf_task_acquire": "application/json",
            }
            texts = {}
            for uri, mime in reads.items():
                content = (await client.read_resource(uri)).contents[0]
                assert isinstance(content, types.TextResourceContents)
                assert content.mime_type == mime
                texts[uri] = content.text
            assert "struct list_head {" in texts["btf-c://vmlinux/struct/list_head"]
            assert json.loads(texts["tracepoint://sched/sched_switch"])["name"] == (
                "sched:sched_switch"
            )
            assert "bpf_kfunc" in texts["kfunc://bpf_task_acquire"]
            with pytest.raises(MCPError):
                await client.read_resource("btf://vmlinux/struct/no_such_struct_here")
            completion = await client.complete(
                types.ResourceTemplateReference(uri="tracepoint://{category}/{event}"),
                {"name": "event", "value": "sched_sw"},
                {"category": "sched"},
            )
            assert completion.completion.values == ["sched_swap_numa", "sched_switch"]


async def test_prompts_fill_in_kernel_data(handle: BpfMcp) -> None:
    with trio.fail_after(60):
        async with Client(build_server(handle), mode="legacy") as client:
            prompts = {p.name for p in (await client.list_prompts()).prompts}
            assert prompts == {"trace_tracepoint", "attach_to_function", "explain_struct"}
            got = await client.get_prompt("trace_tracepoint", {"name": "sched:sched_switch"})
            text = got.messages[0].content.text  # type: ignore[union-attr]
            assert "prev_comm" in text and "sched:sched_switch" in text
            got = await client.get_prompt("attach_to_function", {"name": "vfs_read"})
            assert "kprobe" in got.messages[0].content.text  # type: ignore[union-attr]
            got = await client.get_prompt("explain_struct", {"name": "list_head"})
            assert "next" in got.messages[0].content.text  # type: ignore[union-attr]
            with pytest.raises(MCPError, match="needs the argument"):
                await client.get_prompt("explain_struct", {})
            with pytest.raises(MCPError, match="Unknown prompt"):
                await client.get_prompt("nope", {"name": "x"})
            completion = await client.complete(
                types.PromptReference(name="attach_to_function"),
                {"name": "name", "value": "vfs_rea"},
            )
            assert "vfs_read" in completion.completion.values
