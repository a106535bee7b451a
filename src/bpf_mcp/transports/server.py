"""The MCP server object shared by every transport: tools, resources, prompts and
completion, each answered through the api handle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mcp_types as types
from mcp import MCPError
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from ..api import BpfMcp
from ..convert import Rendered
from . import catalog
from .calls import UnknownTool, answer_tool
from .objects import NO_OBJECTS, ObjectAccess
from .protocol import (
    error_result,
    package_version,
    page_end,
    parse_cursor,
    select_tools,
    tool_definition,
    wire_result,
)

TOOLS_PAGE = 50
TOOLS_PAGE_BYTES = 62 * 1024
"""Most bytes of tool definitions in one tools/list answer: many clients read a message
whole and cap it at 64 KiB, so a longer list continues on a next page (`nextCursor`);
2 KiB stay free for the envelope. Many clients never ask for a next page, so every tool
should fit on the first: the 21 tools take about 60 KB."""
INSTRUCTIONS = (
    "bpf-mcp answers questions about the BPF and tracing facilities of the Linux kernel it"
    " runs on, from the kernel's own files: tracepoints and their fields, kernel functions,"
    " BTF types, BPF program and map types. It is read-only."
)


async def _answer(
    handle: BpfMcp,
    name: str,
    arguments: dict[str, Any] | None,
    objects: ObjectAccess = NO_OBJECTS,
) -> Rendered | str:
    """`answer_tool`, with an unknown name as the MCP error for it (-32602)."""
    try:
        return await answer_tool(handle, name, arguments, objects=objects)
    except UnknownTool as exc:
        raise MCPError(types.INVALID_PARAMS, str(exc)) from None


async def call_tool(
    handle: BpfMcp, name: str, arguments: dict[str, Any] | None
) -> types.CallToolResult:
    """One tool call as an MCP client receives it: the result, or `isError` with the
    sentence of a project error. MCPError (-32602) for a name no tool has."""
    answered = await _answer(handle, name, arguments)
    if isinstance(answered, str):
        return error_result(answered)
    return types.CallToolResult(
        content=[types.TextContent(text=answered.text)], structured_content=answered.payload
    )


def build_server(
    handle: BpfMcp,
    *,
    tools: Sequence[str] | None = None,
    objects: ObjectAccess = NO_OBJECTS,
) -> Server[Any]:
    """The low-level MCP server answering from `handle`: tools (all, or the subset named
    in `tools`), resources, resource templates, prompts and completion. `objects` says
    which object files check_bpf_object may read by path (by default none)."""
    offered = select_tools(tools)
    names = {spec.name for spec in offered}
    definitions = [tool_definition(spec) for spec in offered]
    # Without this lookup the 2026-07-28 HTTP path lists (and serializes) every tool on
    # each tools/call to validate Mcp-Param headers.
    input_schemas = {d.name: d.input_schema for d in definitions}
    sizes = [len(d.model_dump_json(by_alias=True, exclude_none=True)) for d in definitions]

    async def on_list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        start = parse_cursor(params.cursor if params else None, len(definitions))
        stop = page_end(sizes, start, TOOLS_PAGE, TOOLS_PAGE_BYTES)
        return types.ListToolsResult(
            tools=definitions[start:stop],
            next_cursor=str(stop) if stop < len(definitions) else None,
        )

    async def on_call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | dict[str, Any]:
        # A dict result is the SDK's own dumped form: handing it over spares the SDK a
        # dump that would walk (and copy) a large payload once more.
        if params.name not in names:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name[:100]!r}")
        answered = await _answer(handle, params.name, params.arguments, objects)
        if isinstance(answered, str):
            return error_result(answered)
        return wire_result(answered)

    async def on_list_resources(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return catalog.list_resources(params.cursor if params else None, names)

    async def on_list_resource_templates(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return catalog.list_templates(params.cursor if params else None, names)

    async def on_read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        return await catalog.read_resource(handle, params.uri, names)

    async def on_list_prompts(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return catalog.list_prompts(params.cursor if params else None, names)

    async def on_get_prompt(
        ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        return await catalog.get_prompt(handle, params.name, params.arguments, names)

    async def on_completion(
        ctx: ServerRequestContext[Any], params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        return await catalog.complete(handle, params)

    server: Server[Any] = Server(
        "bpf-mcp",
        version=package_version(),
        title="bpf-mcp",
        instructions=INSTRUCTIONS,
        on_list_tools=on_list_tools,
        on_list_resources=on_list_resources,
        on_list_resource_templates=on_list_resource_templates,
        on_read_resource=on_read_resource,
        on_list_prompts=on_list_prompts,
        on_get_prompt=on_get_prompt,
        on_completion=on_completion,
        get_tool_input_schema=input_schemas.get,
    )
    server.add_request_handler("tools/call", types.CallToolRequestParams, on_call_tool)
    return server


__all__ = ["build_server", "call_tool"]
