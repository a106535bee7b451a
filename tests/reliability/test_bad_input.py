"""Bad arguments to every tool, derived from each tool's own input schema (so a tool added
later is covered without touching this file): each answer is a clear invalid-argument
sentence, or, for text that is merely odd, a correct (empty) answer; never an exception,
never an unbounded wait, never a file opened with a name taken from the arguments."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
import trio

from bpf_mcp.api import BpfMcp, open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.tools import TOOLS, ToolSpec

from .conftest import FIXTURE, base_arguments, call

MEGABYTE = "m" * (1 << 20)
ODD_TEXT = [
    "ümlaut_ß_😀",
    " ",
    "\n",
    "../../etc/passwd",
    "sched/../../x",
    "/etc/passwd",
    "..",
    "*",
    "?",
    "[a-z]*",
    ".*",
    "^sched$",
    "(",
    "\\",
    "%s%n",
    "' OR 1=1 --",
    "\u202e",
    "\t",
    "\ud800",
]
"""Text that is only odd: a substring filter finds only what literally contains it (".."
is in '.data..percpu', "(" in 'address_space(1)'), a lookup finds nothing."""

WRONG_TYPES: dict[str, list[Any]] = {
    "string": [1, 1.5, True, [], {}],
    "integer": ["1", 1.5, True, [], {}],
    "number": ["1", True, [], {}],
    "boolean": [1, 0, "true", [], {}],
    "array": ["x", 1, {}],
    "object": ["x", 1, []],
}
HUGE_NUMBERS = [-1, -(2**63), 2**63, 10**30]
NOT_INTEGERS = [1e308, float("inf"), float("-inf"), float("nan")]


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


DEEP = _nested(100_000)
"""A JSON value nested deeper than any recursive walk of it could go."""


@attrs.frozen
class Case:
    """One call, and what a correct answer to it looks like."""

    tool: str
    arguments: Any
    expect: str  # "invalid": isError naming `argument`; "odd": isError or literal matches;
    # "omitted": null for an optional argument, answered as if it were left out
    argument: str = ""

    def __str__(self) -> str:
        shown = repr(self.arguments)
        return f"{self.tool}({shown[:80]}{'...' if len(shown) > 80 else ''})"


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "")
    return kind[0] if isinstance(kind, list) else str(kind)


def cases(tool: ToolSpec) -> Iterator[Case]:
    """The bad and odd calls of one tool, from its input schema."""
    schema = tool.input_schema()
    base = base_arguments(tool.name, schema)
    properties: dict[str, Any] = schema.get("properties", {})
    name = tool.name

    yield Case(name, {**base, "bogus_argument": 1}, "invalid", "bogus_argument")
    yield Case(name, ["not", "an", "object"], "invalid")
    yield Case(name, "not an object", "invalid")
    for required in schema.get("required", []):
        yield Case(name, {k: v for k, v in base.items() if k != required}, "invalid", required)

    query_class: Any = tool.query
    defaults = {field.name: field.default for field in attrs.fields(query_class)}
    for prop, spec in properties.items():
        kind = _type(spec)

        def with_(value: Any, prop: str = prop) -> dict[str, Any]:
            return {**base, prop: value}

        for wrong in WRONG_TYPES.get(kind, []):
            yield Case(name, with_(wrong), "invalid", prop)
        yield Case(name, with_(DEEP), "invalid", prop)
        # A null for an argument the base call needs (required, or the one of a pair it
        # gives) or one with a non-null default is refused; others count as left out.
        needed = prop in schema.get("required", []) or prop in base
        if needed or defaults.get(prop) is not None:
            yield Case(name, with_(None), "invalid", prop)
        else:
            yield Case(name, with_(None), "omitted", prop)
        if kind == "integer":
            for number in NOT_INTEGERS:
                yield Case(name, with_(number), "invalid", prop)
            low, high = spec.get("minimum"), spec.get("maximum")
            below = [low - 1] if low is not None else []
            for number in [*HUGE_NUMBERS, *below]:
                too_low = low is not None and number < low
                too_high = high is not None and number > high
                if too_low or too_high:
                    yield Case(name, with_(number), "invalid", prop)
            if high is not None:
                yield Case(name, with_(high + 1), "invalid", prop)
        if kind == "string":
            if "enum" in spec:
                for text in ["", "no-such-choice", *ODD_TEXT[:3]]:
                    yield Case(name, with_(text), "invalid", prop)
                continue
            if spec.get("minLength", 0) >= 1:
                yield Case(name, with_(""), "invalid", prop)
            yield Case(name, with_(MEGABYTE), "invalid", prop)
            yield Case(name, with_("a\x00b"), "invalid", prop)
            for text in ODD_TEXT:
                yield Case(name, with_(text), "odd", prop)
        if kind == "array":
            if "maxItems" in spec:
                yield Case(name, with_(["x"] * (spec["maxItems"] + 1)), "invalid", prop)
            if spec.get("minItems", 0) >= 1:
                yield Case(name, with_([]), "invalid", prop)
            yield Case(name, with_([None]), "invalid", prop)
            yield Case(name, with_(DEEP), "invalid", prop)
            if _type(spec.get("items", {})) == "string":
                yield Case(name, with_([""]), "invalid", prop)
                yield Case(name, with_([MEGABYTE]), "invalid", prop)
                yield Case(name, with_(["a\x00b"]), "invalid", prop)
                for text in ODD_TEXT:
                    yield Case(name, with_([text]), "odd", prop)


ALL_CASES = [case for tool in TOOLS for case in cases(tool)]


def judge(case: Case, is_error: bool, text: str, payload: Any) -> str | None:
    """What is wrong with an answer to `case`, or None."""
    if "Traceback" in text or "Internal error" in text:
        return f"internal error: {text[:200]}"
    if len(text) > 4000 and is_error:
        return f"an error of {len(text)} characters (the input echoed?)"
    if case.expect == "invalid":
        if not is_error:
            return "accepted"
        if case.argument and case.argument not in text:
            return f"the error does not name {case.argument!r}: {text[:200]}"
        return None
    if case.expect == "omitted":
        refused = is_error and "Invalid argument" in text
        return f"refused: {text[:200]}" if refused else None
    if is_error:
        return None
    needle = case.arguments[case.argument]
    needle = (needle[0] if isinstance(needle, list) else needle).casefold()
    if not isinstance(payload, dict):
        return f"a non-error answer that is not an object: {text[:200]}"
    if case.argument == "kernels":  # not a filter: each kernel named gets its verdict
        named = any(
            needle in s.casefold() for e in payload.get("across") or [] for s in _strings(e)
        )
        return None if named else f"no verdict names the kernel: {text[:200]}"
    # What was found: a page's items, or the entries (objects) of other list answers;
    # lists of strings are notes.
    keys = ["items"] if "items" in payload else [k for k, v in payload.items() if _entries(v)]
    if not keys:
        return f"a non-error answer with nothing listed in it: {text[:200]}"
    for found in (item for key in keys for item in payload[key]):
        if not any(needle in string.casefold() for string in _strings(found)):
            return f"{found!r:.200} was found for text it does not contain"
    return None


def _entries(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class FileSystemAudit:
    """Records every path opened, listed or stat'ed while `paths` is not None. Opening and
    listing are audit events (an audit hook cannot be removed, so one is installed for the
    session and switched on and off); os.stat and os.lstat, which raise none, are wrapped."""

    EVENTS = frozenset({"open", "os.listdir", "os.scandir"})
    paths: list[str] | None = None
    installed = False

    @classmethod
    def record(cls, path: Any) -> None:
        if cls.paths is not None and isinstance(path, str | bytes | os.PathLike):
            cls.paths.append(os.fsdecode(path))

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if event in cls.EVENTS and args:
            cls.record(args[0])

    @classmethod
    def wrap(cls, stat: Callable[..., os.stat_result]) -> Callable[..., os.stat_result]:
        def recorded(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            cls.record(path)
            return stat(path, *args, **kwargs)

        return recorded


@pytest.fixture
def touched(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths touched from when the test calls `start_recording` to its end."""
    if not FileSystemAudit.installed:
        sys.addaudithook(FileSystemAudit.hook)
        FileSystemAudit.installed = True
    monkeypatch.setattr(os, "stat", FileSystemAudit.wrap(os.stat))
    monkeypatch.setattr(os, "lstat", FileSystemAudit.wrap(os.lstat))
    paths: list[str] = []
    try:
        yield paths
    finally:
        FileSystemAudit.paths = None


def start_recording(paths: list[str]) -> None:
    FileSystemAudit.paths = paths


async def loaded(handle: BpfMcp) -> None:
    """Wait until every source has finished its first load (readers are idle after it)."""
    with trio.fail_after(60):
        while any(s.state == "loading" for s in (await handle.status()).sources):  # noqa: ASYNC110
            await trio.sleep(0.05)


def test_every_tool_gets_bad_input_cases() -> None:
    per_tool = {tool.name: 0 for tool in TOOLS}
    for case in ALL_CASES:
        per_tool[case.tool] += 1
    assert all(count >= 3 for count in per_tool.values()), per_tool


async def test_bad_input_to_every_tool(touched: list[str]) -> None:
    problems: list[str] = []
    # No refresh during the calls: whatever touches the kernel tree then is a tool.
    config = Config(sysroot=FIXTURE, load_wait=60.0, refresh_interval=1000.0)
    async with open_bpf_mcp(config) as handle:
        await loaded(handle)
        start_recording(touched)
        for case in ALL_CASES:
            out = await call(handle, case.tool, case.arguments, within=30)
            problem = judge(case, out.is_error, out.text, out.payload)
            if problem:
                problems.append(f"{case}: {problem}")
    assert not problems, "\n".join(problems)
    # The tools answer from indexes built at load: not one file of the kernel tree is
    # opened, listed or stat'ed, let alone one named by an argument.
    assert not [p for p in touched if p.startswith(str(FIXTURE))], touched
    suspicious = [p for p in touched if "passwd" in p or "/../" in p or p.endswith("/..")]
    assert not suspicious, suspicious
