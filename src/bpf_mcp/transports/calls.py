"""Tool calls through the api handle, at the one boundary where errors become answers.

`answer_tool` turns a tool name and its arguments into a typed query, asks the router
through the handle, holds the result to the answer budget and renders it. A project error
becomes its sentence; any other exception is logged here once, with its traceback, and
answered as a generic internal error. Imports nothing of the MCP SDK, so a one-shot
command can use it.
"""

from __future__ import annotations

import logging
from typing import Any

from ..api import BpfMcp
from ..config import LOCAL_KERNEL
from ..convert import Rendered, render, structure_arguments
from ..errors import BpfMcpError, InvalidArgument
from ..queries import KERNEL_NAME_RULE, CheckBpfObject, Query, is_kernel_name
from ..tools import TOOLS_BY_NAME
from .budget import fit_to_budget
from .objects import NO_OBJECTS, ObjectAccess, read_object_path

log = logging.getLogger(__name__)


def kernel_argument(
    arguments: dict[str, Any] | None, per_kernel: bool
) -> tuple[dict[str, Any] | None, str]:
    """The tool's own arguments and the kernel it asks about (`local` unless named).

    Raises InvalidArgument for a `kernel` that is not a short string.
    """
    if not per_kernel or not isinstance(arguments, dict) or "kernel" not in arguments:
        return arguments, LOCAL_KERNEL
    rest = dict(arguments)
    kernel = rest.pop("kernel")
    if kernel is None:  # null, like every optional argument, means left out
        return rest, LOCAL_KERNEL
    if not is_kernel_name(kernel):
        raise InvalidArgument(
            f"Invalid arguments: kernel: expected a kernel name ({KERNEL_NAME_RULE};"
            " list_kernels names them)."
        )
    return rest, kernel


class UnknownTool(LookupError):
    """No tool has this name (the MCP layer answers it as invalid params)."""


def internal_error(what: str) -> str:
    """The one sentence a client gets for a bug in bpf-mcp."""
    return f"Internal error in bpf-mcp while running {what}; see the server log."


async def answer_tool(
    handle: BpfMcp,
    name: str,
    arguments: dict[str, Any] | None,
    *,
    budget: int | None = None,
    objects: ObjectAccess = NO_OBJECTS,
) -> Rendered | str:
    """Run one tool call: its result held to `budget` (by default the handle's
    `config.max_answer_bytes`) and rendered as JSON, or the sentence of the error to answer
    instead. `objects` says which files a call may name by path (check_bpf_object); by
    default none.

    Raises UnknownTool for a name no tool has. Cancellation passes through; any exception
    that is not a project error is logged with its traceback and answered generically.
    """
    spec = TOOLS_BY_NAME.get(name)
    if spec is None:
        raise UnknownTool(f"Unknown tool: {name[:100]!r}")
    try:
        arguments, kernel = kernel_argument(arguments, spec.per_kernel)
        query: Query[object] = structure_arguments(arguments, spec.query)
        if isinstance(query, CheckBpfObject):
            query = await read_object_path(query, objects)
        result = await handle.query(query, kernel)
        limit = handle.config.max_answer_bytes if budget is None else budget
        return render(fit_to_budget(result, limit))
    except BpfMcpError as exc:
        return str(exc)
    except Exception:
        log.exception("tool %s failed", name)
        return internal_error(name)


__all__ = ["UnknownTool", "answer_tool", "internal_error"]
