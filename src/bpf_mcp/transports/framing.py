"""JSON-RPC framing of a Streamable HTTP POST body, checked before the SDK sees it.

The SDK's HTTP transport answers a JSON body that is not a JSON-RPC message with -32602
and a pydantic dump (and a request with an id such as 1.5 with 202, as if it were a
notification). A POST body is one message, judged exactly as one stdio line is
(`stdio.classify_line`), so both transports answer the same errors.
"""

from __future__ import annotations

import mcp_types as types

from .stdio import Rejection, classify_line

_NOT_A_MESSAGE = "Invalid Request: not a valid JSON-RPC 2.0 notification or response"


def _error(code: int, message: str) -> types.JSONRPCError:
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
        return _error(
            types.PARSE_ERROR,
            f"Parse error: the body is not UTF-8 ({exc.reason} at byte {exc.start})",
        )
    verdict = classify_line(text)
    if isinstance(verdict, Rejection):
        return verdict.error
    if verdict is None:
        return _error(types.INVALID_REQUEST, _NOT_A_MESSAGE)
    return None


__all__ = ["body_rejection"]
