"""`bpf-mcp call TOOL key=value ...`: run one tool in process and print its answer as a
table for people, or as JSON (`--json`) for scripts."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Sequence
from typing import Any, TextIO

import trio

from .api import default_readers, open_bpf_mcp
from .config import LOCAL_KERNEL, Config
from .convert import structure_arguments
from .errors import BpfMcpError
from .queries import Query
from .readers.base import Reader
from .tools import TOOLS_BY_NAME

MAX_CELL = 60


class UsageError(Exception):
    """The command line of `bpf-mcp call` is not usable; the message says why."""


def parse_assignments(pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` words -> arguments. A value that parses as JSON (42, true, ["a"]) is
    taken as such, anything else as a string; `key:=text` forces a string."""
    arguments: dict[str, Any] = {}
    for pair in pairs:
        if ":=" in pair and pair.index(":=") < pair.find("=") + 1:
            key, value = pair.split(":=", 1)
            arguments[key] = value
            continue
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"expected key=value, got {pair!r}")
        try:
            arguments[key] = json.loads(raw)
        except ValueError:
            arguments[key] = raw
    return arguments


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if all(isinstance(v, str | int | float) for v in value):
            text = ", ".join(str(v) for v in value)
        else:
            text = f"[{len(value)} items]"
    elif isinstance(value, dict):
        text = f"{{{len(value)} fields}}"
    else:
        text = str(value)
    return text.replace("\n", " ")


def _wrapped(text: str) -> list[str]:
    """A cell's lines: wrapped at MAX_CELL characters, never cut."""
    return textwrap.wrap(text, MAX_CELL, break_on_hyphens=False) or [""]


def render_table(payload: dict[str, Any]) -> str:
    """A readable rendering of a tool's structured answer."""
    lines: list[str] = []
    items = payload.get("items")
    if isinstance(items, list):
        columns: list[str] = []
        for item in items:
            for key in item:
                if key not in columns:
                    columns.append(key)
        rows = [[_wrapped(_cell(item.get(c))) for c in columns] for item in items]
        widths = [
            max([len(c), *(len(line) for r in rows for line in r[i])])
            for i, c in enumerate(columns)
        ]
        lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for row in rows:
            for depth in range(max(len(cell) for cell in row)):
                parts = [cell[depth] if depth < len(cell) else "" for cell in row]
                lines.append(
                    "  ".join(v.ljust(w) for v, w in zip(parts, widths, strict=True)).rstrip()
                )
        shown = f"{payload.get('offset', 0)}..{payload.get('offset', 0) + len(items)}"
        footer = f"{len(items)} shown ({shown}) of {payload.get('total')} matching"
        if payload.get("next_offset") is not None:
            footer += f"; next page: offset={payload['next_offset']}"
        lines.append(footer)
        rest = {
            k: v for k, v in payload.items() if k not in ("items", "total", "offset", "next_offset")
        }
    else:
        rest = payload
    for key, value in rest.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{key}:")
            for entry in value:
                lines.append("  " + ", ".join(f"{k}={_cell(v)}" for k, v in entry.items()))
        elif isinstance(value, str) and "\n" in value:
            lines.append(f"{key}:")
            lines.extend("  " + line for line in value.splitlines())
        else:
            lines.append(f"{key}: {_cell(value) if not isinstance(value, str) else value}")
    return "\n".join(lines) + "\n"


async def _progress(out: TextIO, handle: Any) -> None:
    """While sources load, show which are still loading (terminals only)."""
    await trio.sleep(0.3)
    while True:
        status = await handle.status()
        loading = [s.source for s in status.sources if s.state == "loading"]
        out.write("\r\033[Kloading: " + ", ".join(loading) if loading else "\r\033[K")
        out.flush()
        await trio.sleep(0.2)


async def _settled(handle: Any, wait: float) -> None:
    """Wait (at most `wait` seconds) until no source is still loading for the first time."""
    with trio.move_on_after(wait):
        # Status changes are not broadcast; a short poll is enough for a one-shot command.
        while any(s.state == "loading" for s in (await handle.status()).sources):  # noqa: ASYNC110
            await trio.sleep(0.05)


def readers_for(tool: str, arguments: dict[str, Any]) -> list[Reader] | None:
    """The readers one call of `tool` reads (what its query needs or prefers), or None for
    all of them (the status tool, or arguments that do not make a query: the call then
    answers their error as the server would)."""
    spec = TOOLS_BY_NAME.get(tool)
    if spec is None or not spec.query.needs:
        return None
    if spec.per_kernel and arguments.get("kernel", LOCAL_KERNEL) != LOCAL_KERNEL:
        return []  # another kernel's engine has readers of its own
    arguments = {k: v for k, v in arguments.items() if k != "kernel"}
    try:
        query: Query[object] = structure_arguments(arguments, spec.query)
    except BpfMcpError:
        return None
    wanted = query.needs | query.preferred()
    return [r for r in default_readers() if r.source in wanted]


async def call(config: Config, tool: str, arguments: dict[str, Any], *, as_json: bool) -> int:
    """Run `tool` once; print its answer to stdout. Returns the exit code (0, or 1 when
    the tool answered an error, printed to stderr). Starts only the readers the call reads,
    and imports nothing of the MCP SDK."""
    from .transports.calls import UnknownTool, answer_tool
    from .transports.objects import ObjectAccess

    readers = readers_for(tool, arguments)
    async with open_bpf_mcp(config, readers=readers) as handle, trio.open_nursery() as nursery:
        if sys.stderr.isatty():
            nursery.start_soon(_progress, sys.stderr, handle)
        try:
            if tool == "get_server_status":
                await _settled(handle, config.load_wait)
            # A command-line user reads their own files: any path is allowed.
            answered = await answer_tool(
                handle, tool, arguments, objects=ObjectAccess(anywhere=True)
            )
        except UnknownTool as exc:
            answered = f"{exc}; `bpf-mcp call --help` lists the tools"
        finally:
            nursery.cancel_scope.cancel()
            if sys.stderr.isatty():
                sys.stderr.write("\r\033[K")
    if isinstance(answered, str):
        print(f"bpf-mcp: {tool}: {answered}", file=sys.stderr)
        return 1
    payload = answered.payload
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_table(payload))
    return 0
