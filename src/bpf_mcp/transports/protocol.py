"""The MCP protocol without I/O: JSON-RPC framing of stdio lines and HTTP bodies, list
cursors, tool definitions, and the wire form of tool results.

Pure functions over values; the stdio and HTTP shells and the server use them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import attrs
import mcp_types as types
import pydantic
import pydantic_core
from mcp import MCPError
from mcp.shared.dispatcher import as_request_id

from ..convert import Rendered
from ..tools import TOOLS, TOOLS_BY_NAME, ToolSpec

# -- framing ----------------------------------------------------------------------------------


def _error(request_id: Any, code: int, message: str) -> types.JSONRPCError:
    return types.JSONRPCError(
        jsonrpc="2.0",
        id=as_request_id(request_id),
        error=types.ErrorData(code=code, message=message),
    )


@attrs.frozen
class Rejection:
    """An input line that is not an MCP message, with the JSON-RPC error answering it."""

    error: types.JSONRPCError


def reject(request_id: Any, code: int, message: str) -> Rejection:
    """The rejection of a message with `request_id`, answered by JSON-RPC error `code`."""
    return Rejection(_error(request_id, code, message))


def classify_line(line: str) -> types.JSONRPCMessage | Rejection | None:
    """What one input line is: a message for the server, a rejection to answer in its
    place, or None for a line to drop without answer (a malformed notification or
    response: JSON-RPC never answers those).

    Pure; never raises. The id of an error is the request's own when it can be read, else
    null. JSON is parsed as strictly as the SDK does (no NaN, no lone surrogates, bounded
    nesting), so nothing accepted here can fail later when an answer echoes it.
    """
    try:
        value = pydantic_core.from_json(line, allow_inf_nan=False)
    except ValueError as exc:
        return reject(None, types.PARSE_ERROR, f"Parse error: the line is not valid JSON ({exc})")
    if isinstance(value, list):
        return reject(
            None,
            types.INVALID_REQUEST,
            "Invalid Request: JSON arrays (batches) are not supported; send one message per line",
        )
    if not isinstance(value, dict):
        return reject(None, types.INVALID_REQUEST, "Invalid Request: expected a JSON object")
    request_id = as_request_id(value.get("id"))
    if value.get("jsonrpc") != "2.0":
        return reject(request_id, types.INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"')
    if "method" in value:
        if not isinstance(value["method"], str):
            return reject(
                request_id, types.INVALID_REQUEST, 'Invalid Request: "method" must be a string'
            )
        if "id" in value and request_id is None:
            return reject(
                None, types.INVALID_REQUEST, 'Invalid Request: "id" must be a string or an integer'
            )
        if value.get("params") is not None and not isinstance(value["params"], dict):
            if request_id is None:
                return None
            return reject(
                request_id, types.INVALID_PARAMS, 'Invalid params: "params" must be an object'
            )
    elif "result" not in value and "error" not in value:
        return reject(
            request_id,
            types.INVALID_REQUEST,
            'Invalid Request: neither a request ("method") nor a response ("result" or "error")',
        )
    try:
        message: types.JSONRPCMessage = types.jsonrpc_message_adapter.validate_python(
            value, by_name=False
        )
    except pydantic.ValidationError:
        if request_id is None or "method" not in value:
            return None
        return reject(
            request_id, types.INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 request"
        )
    return message


def encode_message(message: types.JSONRPCMessage) -> bytes:
    """One output line. Never raises for text the SDK produced: if a string cannot be
    encoded as UTF-8 (a lone surrogate), it is written as a JSON escape instead."""
    try:
        text = message.model_dump_json(by_alias=True, exclude_unset=True)
    except pydantic_core.PydanticSerializationError:
        plain = message.model_dump(mode="python", by_alias=True, exclude_unset=True)
        text = json.dumps(plain, ensure_ascii=True, separators=(",", ":"), default=str)
    return text.encode("utf-8") + b"\n"


_NOT_A_MESSAGE = "Invalid Request: not a valid JSON-RPC 2.0 notification or response"


def _body_error(code: int, message: str) -> types.JSONRPCError:
    error = types.ErrorData(code=code, message=message)
    return types.JSONRPCError(jsonrpc="2.0", id=None, error=error)


def body_rejection(body: bytes) -> types.JSONRPCError | None:
    """The JSON-RPC error answering a POST body that is not one MCP message, or None for a
    body to pass on.

    Pure; never raises. Parse errors (-32700, including bytes that are not UTF-8) and
    invalid requests (-32600, including JSON arrays) carry id null; a request whose id can
    be read gets its own id, with -32602 when its params are not an object. A malformed
    notification or response, which stdio drops unanswered, is answered -32600 here: over
    HTTP every POST gets an answer.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _body_error(
            types.PARSE_ERROR,
            f"Parse error: the body is not UTF-8 ({exc.reason} at byte {exc.start})",
        )
    verdict = classify_line(text)
    if isinstance(verdict, Rejection):
        return verdict.error
    if verdict is None:
        return _body_error(types.INVALID_REQUEST, _NOT_A_MESSAGE)
    return None


# -- tools and cursors ----------------------------------------------------------------------


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


def page_end(sizes: Sequence[int], start: int, most: int, budget: int) -> int:
    """Where a page starting at `start` ends: at most `most` entries whose `sizes` add up
    to at most `budget`, but always at least one (a page must make progress)."""
    stop, used = start, 0
    while stop < len(sizes) and stop - start < most:
        used += sizes[stop]
        if used > budget and stop > start:
            break
        stop += 1
    return stop


def parse_cursor(cursor: str | None, total: int) -> int:
    """The offset a list cursor stands for; MCPError(-32602) for a cursor we never issued."""
    if cursor is None:
        return 0
    if cursor.isdigit() and int(cursor) <= total:
        return int(cursor)
    raise MCPError(types.INVALID_PARAMS, f"Invalid cursor {cursor[:40]!r}")


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
