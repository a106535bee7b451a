"""The MCP server object shared by every transport: tool listing and tool calls, with the
one boundary function that turns project errors into `isError` results."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import mcp_types as types
from mcp import MCPError
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from ..api import BpfMcp
from ..convert import Rendered, render, structure_arguments
from ..errors import BpfMcpError
from ..tools import TOOLS, TOOLS_BY_NAME, ToolSpec

log = logging.getLogger(__name__)

TOOLS_PAGE = 50
INSTRUCTIONS = (
    "bpf-mcp answers questions about the BPF and tracing facilities of the Linux kernel it"
    " runs on, from the kernel's own files: tracepoints and their fields, kernel functions,"
    " BTF types, BPF program and map types. It is read-only."
)


def package_version() -> str:
    try:
        return version("bpf-mcp")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


def tool_definition(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.input_schema(),
        output_schema=spec.output_schema(),
        annotations=types.ToolAnnotations(
            title=spec.title,
            read_only_hint=True,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )


def error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def parse_cursor(cursor: str | None, total: int) -> int:
    """The offset a list cursor stands for; MCPError(-32602) for a cursor we never issued."""
    if cursor is None:
        return 0
    if cursor.isdigit() and int(cursor) <= total:
        return int(cursor)
    raise MCPError(types.INVALID_PARAMS, f"Invalid cursor {cursor[:40]!r}")


async def answer_tool(
    handle: BpfMcp, name: str, arguments: dict[str, Any] | None
) -> Rendered | str:
    """Run one tool call through the router: its result rendered as JSON, or the sentence
    of the error to answer instead (every project error).

    Unknown tool names raise MCPError (-32602). Cancellation passes through; any other
    exception is logged with its traceback and answered as a generic internal error.
    """
    spec = TOOLS_BY_NAME.get(name)
    if spec is None:
        raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {name[:100]!r}")
    try:
        query: Any = structure_arguments(arguments, spec.query)
        result = await handle.query(query)
    except BpfMcpError as exc:
        return str(exc)
    except Exception:
        log.exception("tool %s failed", name)
        return f"Internal error in bpf-mcp while running {name}; see the server log."
    return render(result)


async def call_tool(
    handle: BpfMcp, name: str, arguments: dict[str, Any] | None
) -> types.CallToolResult:
    """Run one tool call through the router; every project error becomes `isError`.

    Raises and cancels as `answer_tool` does.
    """
    answered = await answer_tool(handle, name, arguments)
    if isinstance(answered, str):
        return error_result(answered)
    return types.CallToolResult(
        content=[types.TextContent(text=answered.text)], structured_content=answered.payload
    )


_WIRE_TEMPLATE = types.CallToolResult(
    content=[types.TextContent(text="")], structured_content={}
).model_dump(by_alias=True, mode="json", exclude_none=True)


def wire_result(rendered: Rendered) -> dict[str, Any]:
    """The dumped form of the CallToolResult carrying `rendered`, built without walking
    the payload: it is JSON-ready already, so dumping it would only copy it."""
    content = [{**_WIRE_TEMPLATE["content"][0], "text": rendered.text}]
    return {**_WIRE_TEMPLATE, "content": content, "structuredContent": rendered.payload}


def select_tools(names: Sequence[str] | None) -> tuple[ToolSpec, ...]:
    """The tools to offer: all, or the named subset (ValueError naming unknown ones)."""
    if names is None:
        return TOOLS
    unknown = sorted(set(names) - set(TOOLS_BY_NAME))
    if unknown:
        valid = ", ".join(TOOLS_BY_NAME)
        raise ValueError(f"unknown tool(s): {', '.join(unknown)}; valid tools are: {valid}")
    return tuple(t for t in TOOLS if t.name in set(names))


def build_server(handle: BpfMcp, *, tools: Sequence[str] | None = None) -> Server[Any]:
    """The low-level MCP server answering from `handle`: tools (all, or the subset named
    in `tools`), resources, resource templates, prompts and completion."""
    from . import catalog

    offered = select_tools(tools)
    names = {spec.name for spec in offered}
    definitions = [tool_definition(spec) for spec in offered]
    # Without this lookup the 2026-07-28 HTTP path lists (and serializes) every tool on
    # each tools/call to validate Mcp-Param headers.
    input_schemas = {d.name: d.input_schema for d in definitions}

    async def on_list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        start = parse_cursor(params.cursor if params else None, len(definitions))
        stop = start + TOOLS_PAGE
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
        answered = await answer_tool(handle, params.name, params.arguments)
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


__all__ = ["answer_tool", "build_server", "call_tool", "select_tools"]
