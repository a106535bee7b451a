"""MCP resources, resource templates, prompts and completion, all answered through the
tools (so each has exactly one implementation) and paginated with cursors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs
import mcp_types as types
from mcp import MCPError

from ..api import BpfMcp
from ..queries import CompleteNames
from .budget import ENVELOPE_RESERVE
from .calls import answer_tool
from .protocol import parse_cursor

PAGE = 50
RESOURCE_NOT_FOUND = -32002
T = TypeVar("T")


@attrs.frozen
class Template:
    """A resource template: a URI pattern, the tool that answers it, and how each
    variable completes."""

    uri_template: str
    name: str
    title: str
    description: str
    mime_type: str
    tool: str
    arguments: Callable[[dict[str, str]], dict[str, Any]]
    completes: dict[str, str]
    field: str | None = None

    def match(self, uri: str) -> dict[str, str] | None:
        pattern = re.escape(self.uri_template)
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        found = re.fullmatch(pattern, uri)
        return found.groupdict() if found else None


TEMPLATES: tuple[Template, ...] = (
    Template(
        "btf://vmlinux/{kind}/{name}",
        "btf-type",
        "BTF type",
        "One kernel type fully decoded (layout, members, values, prototype) as JSON.",
        "application/json",
        "describe_btf_type",
        lambda v: {"name": v["name"], "kind": v["kind"]},
        {"kind": "btf_kind", "name": "btf_name"},
    ),
    Template(
        "btf-c://vmlinux/{kind}/{name}",
        "btf-type-c",
        "BTF type as C",
        "The C definition of one kernel type.",
        "text/x-c",
        "describe_btf_type",
        lambda v: {"name": v["name"], "kind": v["kind"], "include_c": True, "member_limit": 1},
        {"kind": "btf_kind", "name": "btf_name"},
        field="c",
    ),
    Template(
        "tracepoint://{category}/{event}",
        "tracepoint",
        "Tracepoint",
        "One tracepoint: fields, ids, print format, the C context struct and raw arguments.",
        "application/json",
        "get_tracepoint",
        lambda v: {"name": f"{v['category']}:{v['event']}"},
        {"category": "tracepoint_category", "event": "tracepoint_event"},
    ),
    Template(
        "ksym://{name}",
        "kernel-function",
        "Kernel function",
        "One kernel function: symbols, clones, BTF prototype and attach verdicts.",
        "application/json",
        "get_kernel_function",
        lambda v: {"name": v["name"]},
        {"name": "function"},
    ),
    Template(
        "kfunc://{name}",
        "kfunc",
        "kfunc",
        "One BPF kfunc: its BTF prototype and decl tags.",
        "application/json",
        "describe_btf_type",
        lambda v: {"name": v["name"], "kind": "func"},
        {"name": "kfunc"},
    ),
)

STATIC: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "bpf-mcp://kernels",
        "kernels",
        "Kernels",
        "The kernels this server answers for, with release, sources and load state.",
        "list_kernels",
    ),
    (
        "bpf-mcp://status",
        "server-status",
        "Server status",
        "State, last error and data age of each kernel source.",
        "get_server_status",
    ),
    (
        "bpf-mcp://kernel",
        "kernel-info",
        "Kernel info",
        "Release, BTF, tracefs, sysctls, lockdown, LSMs, capabilities, BPF features.",
        "get_kernel_info",
    ),
)


@attrs.frozen
class PromptSpec:
    name: str
    title: str
    description: str
    argument: str
    argument_help: str
    completes: str
    tool: str
    tool_argument: str
    instructions: str


PROMPTS: tuple[PromptSpec, ...] = (
    PromptSpec(
        "trace_tracepoint",
        "Trace a tracepoint",
        "Write a BPF program for a tracepoint, given its real fields and context layout.",
        "name",
        "The tracepoint as 'category:event', e.g. sched:sched_switch.",
        "tracepoint",
        "get_tracepoint",
        "name",
        "Write a libbpf CO-RE BPF program that attaches to the tracepoint {arg} and reports"
        " its most useful fields through a ring buffer, plus a short user-space loader."
        " Use exactly the fields, offsets and types below, read from the running kernel;"
        ' prefer SEC("tp_btf/...") with the typed raw arguments when they exist, else'
        ' SEC("tp/...") with the context struct shown.',
    ),
    PromptSpec(
        "attach_to_function",
        "Attach to a kernel function",
        "Choose how to attach to a kernel function (fentry/fexit/kprobe) from its real"
        " prototype and this kernel's attach verdicts, and write the program.",
        "name",
        "The kernel function name, e.g. vfs_read.",
        "function",
        "get_kernel_function",
        "name",
        "Write a BPF program that traces the kernel function {arg}. Pick the attach"
        " mechanism from the verdicts below (use only a mechanism whose verdict is 'yes',"
        " and explain any 'unknown'), and use the exact BTF prototype shown.",
    ),
    PromptSpec(
        "explain_struct",
        "Explain a kernel struct",
        "Explain a kernel struct's layout on this kernel: members, offsets, holes, and how"
        " to read them safely from BPF.",
        "name",
        "The struct name, e.g. task_struct.",
        "btf_name",
        "describe_btf_type",
        "name",
        "Explain the layout of {arg} on this kernel: what its important members are,"
        " where the holes and padding are, and how a BPF program should read its fields"
        " (BPF_CORE_READ, bpf_probe_read_kernel). Base every offset on the data below.",
    ),
)


def _page(items: Sequence[T], cursor: str | None) -> tuple[list[T], str | None]:
    start = parse_cursor(cursor, len(items))
    stop = start + PAGE
    return list(items[start:stop]), (str(stop) if stop < len(items) else None)


def list_resources(cursor: str | None, tool_names: set[str]) -> types.ListResourcesResult:
    resources = [
        types.Resource(
            uri=uri, name=name, title=title, description=description, mime_type="application/json"
        )
        for uri, name, title, description, tool in STATIC
        if tool in tool_names
    ]
    shown, next_cursor = _page(resources, cursor)
    return types.ListResourcesResult(resources=shown, next_cursor=next_cursor)


def list_templates(cursor: str | None, tool_names: set[str]) -> types.ListResourceTemplatesResult:
    templates = [
        types.ResourceTemplate(
            uri_template=t.uri_template,
            name=t.name,
            title=t.title,
            description=t.description,
            mime_type=t.mime_type,
        )
        for t in TEMPLATES
        if t.tool in tool_names
    ]
    shown, next_cursor = _page(templates, cursor)
    return types.ListResourceTemplatesResult(resource_templates=shown, next_cursor=next_cursor)


def list_prompts(cursor: str | None, tool_names: set[str]) -> types.ListPromptsResult:
    prompts = [
        types.Prompt(
            name=p.name,
            title=p.title,
            description=p.description,
            arguments=[
                types.PromptArgument(name=p.argument, description=p.argument_help, required=True)
            ],
        )
        for p in PROMPTS
        if p.tool in tool_names
    ]
    shown, next_cursor = _page(prompts, cursor)
    return types.ListPromptsResult(prompts=shown, next_cursor=next_cursor)


async def _tool_payload(handle: BpfMcp, tool: str, arguments: dict[str, Any], code: int) -> Any:
    """The tool's answer, held to the answer budget as a tool answer (its JSON twice)."""
    answered = await answer_tool(handle, tool, arguments)
    if isinstance(answered, str):
        raise MCPError(code, answered)
    return answered.payload


def _json_text(handle: BpfMcp, payload: Any, around: str = "") -> str:
    """`payload` as indented JSON, or as compact JSON when the indented text (with the
    `around` text of a prompt) would take the message past the answer budget. The tool
    answer held the payload to the budget twice over, so its compact JSON always fits."""
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    escaped = len(json.dumps(around + text, ensure_ascii=False).encode())
    if escaped + ENVELOPE_RESERVE <= handle.config.max_answer_bytes:
        return text
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


async def read_resource(handle: BpfMcp, uri: str, tool_names: set[str]) -> types.ReadResourceResult:
    """The contents of one resource; MCPError -32002 for a URI no resource answers."""
    for static_uri, _name, _title, _description, tool in STATIC:
        if uri == static_uri and tool in tool_names:
            payload = await _tool_payload(handle, tool, {}, RESOURCE_NOT_FOUND)
            text = _json_text(handle, payload)
            return types.ReadResourceResult(
                contents=[
                    types.TextResourceContents(uri=uri, mime_type="application/json", text=text)
                ]
            )
    for template in TEMPLATES:
        values = template.match(uri)
        if values is None or template.tool not in tool_names:
            continue
        payload = await _tool_payload(
            handle, template.tool, template.arguments(values), RESOURCE_NOT_FOUND
        )
        if template.field is not None:
            if payload.get(template.field) is None:
                # Left out to keep to the answer budget: the note says where to get it.
                raise MCPError(RESOURCE_NOT_FOUND, str(payload.get("note")))
            text = str(payload[template.field])
        else:
            text = _json_text(handle, payload)
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type=template.mime_type, text=text)]
        )
    raise MCPError(RESOURCE_NOT_FOUND, f"Resource not found: {uri[:200]}")


async def get_prompt(
    handle: BpfMcp, name: str, arguments: dict[str, str] | None, tool_names: set[str]
) -> types.GetPromptResult:
    """A prompt filled in with the kernel's real data; -32602 for bad names or arguments."""
    spec = next((p for p in PROMPTS if p.name == name and p.tool in tool_names), None)
    if spec is None:
        raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {name[:100]!r}")
    value = (arguments or {}).get(spec.argument)
    if not value:
        raise MCPError(types.INVALID_PARAMS, f"Prompt {name} needs the argument '{spec.argument}'.")
    payload = await _tool_payload(
        handle, spec.tool, {spec.tool_argument: value}, types.INVALID_PARAMS
    )
    head = (
        spec.instructions.format(arg=value)
        + f"\n\nWhat bpf-mcp read from this kernel ({spec.tool}):\n```json\n"
    )
    text = head + _json_text(handle, payload, head) + "\n```\n"
    return types.GetPromptResult(
        description=spec.description,
        messages=[types.PromptMessage(role="user", content=types.TextContent(text=text))],
    )


async def complete(handle: BpfMcp, params: types.CompleteRequestParams) -> types.CompleteResult:
    """Suggestions for a template variable or prompt argument (empty when unknown)."""
    what: str | None = None
    ref = params.ref
    if isinstance(ref, types.ResourceTemplateReference):
        template = next((t for t in TEMPLATES if t.uri_template == ref.uri), None)
        what = template.completes.get(params.argument.name) if template else None
    else:
        spec = next((p for p in PROMPTS if p.name == ref.name), None)
        if spec is not None and params.argument.name == spec.argument:
            what = spec.completes
    if what is None:
        return types.CompleteResult(completion=types.Completion(values=[], total=0, has_more=False))
    context = params.context.arguments if params.context and params.context.arguments else {}
    query = CompleteNames(what, params.argument.value[:256], tuple(sorted(context.items())))
    found = await handle.query(query)
    return types.CompleteResult(
        completion=types.Completion(
            values=list(found.values), total=found.total, has_more=found.total > len(found.values)
        )
    )
