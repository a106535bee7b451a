"""Answers fit a model's context: every tool's default answer is at most 16 KiB on the wire,
any valid arguments at most 64 KiB, resources and prompts too; a cut answer says how to
continue, and paging yields every item exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from bpf_mcp.answers import answer
from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.btf import Kind, parse_btf
from bpf_mcp.btf.header import c_header
from bpf_mcp.config import Config
from bpf_mcp.index import View
from bpf_mcp.queries import (
    CompareKernels,
    CompareTypeAcross,
    DescribeBtfType,
    GenerateCHeader,
    ListBpfAttachTypes,
    ListBpfHelpers,
    ListBpfHooks,
    ListBpfMapTypes,
    ListBpfProgramTypes,
    ListKernelFunctions,
    ListKernels,
    ListKfuncs,
    ListLoadedBpf,
    ListRawTracepoints,
    ListTracepoints,
)
from bpf_mcp.queries import GetBtfTypes as SearchBtf
from bpf_mcp.testing.answer_sizes import (
    PROMPTS,
    RESOURCES,
    default_cases,
    largest,
    message_size,
    worst_cases,
)
from bpf_mcp.tools import TOOLS
from bpf_mcp.transports import catalog
from bpf_mcp.transports.budget import fit_to_budget
from bpf_mcp.transports.protocol import tool_definition
from bpf_mcp.transports.server import call_tool
from tests.support import FIXTURE_ROOT

from .support import initialize_request, rpc

DEFAULT_BOUND = 16 * 1024
ANY_BOUND = 64 * 1024
TOOLS_LIST_BOUND = 24 * 1024
LIVE = Path("/")

KERNELS = [
    pytest.param(FIXTURE_ROOT, id="fixture"),
    pytest.param(LIVE, id="live", marks=pytest.mark.live),
]


def _readable(sysroot: Path) -> None:
    for path in ("sys/kernel/btf/vmlinux", "proc/kallsyms", "sys/kernel/tracing/available_events"):
        if not (sysroot / path).exists():
            pytest.skip(f"{sysroot / path} is not readable here")


def _largest_arguments(schema: dict[str, Any], required: dict[str, Any]) -> dict[str, Any]:
    """Arguments asking for as much as a tool allows: every flag on, every limit at most."""
    arguments = dict(required)
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") == "boolean" and name.startswith("include_"):
            arguments[name] = True
        elif name.endswith(("limit", "max_bytes")) and "maximum" in prop:
            arguments[name] = prop["maximum"]
        elif name == "sections":
            arguments[name] = ["all"]
    return arguments


async def _sizes(sysroot: Path, cases: list[tuple[str, dict[str, Any]]]) -> list[int]:
    sizes = []
    async with open_bpf_mcp(Config(sysroot=sysroot, load_wait=120.0)) as handle:
        for name, arguments in cases:
            with trio.fail_after(120):
                result = await call_tool(handle, name, arguments)
            # A captured tree lists no loaded BPF object: there, asking for one is NotFound.
            captured = sysroot != LIVE and name == "get_loaded_bpf"
            assert captured or not result.is_error, (name, arguments, result.content)
            sizes.append(message_size(result))
    return sizes


@pytest.mark.parametrize("sysroot", KERNELS)
async def test_every_default_answer_is_at_most_16_kib(sysroot: Path) -> None:
    _readable(sysroot)
    cases = default_cases([t.name for t in TOOLS])
    sizes = await _sizes(sysroot, cases)
    over = [(n, a, s) for (n, a), s in zip(cases, sizes, strict=True) if s > DEFAULT_BOUND]
    assert not over


@pytest.mark.slow
@pytest.mark.parametrize("sysroot", KERNELS)
async def test_every_answer_for_any_arguments_is_at_most_64_kib(sysroot: Path) -> None:
    _readable(sysroot)
    typical = dict(default_cases([t.name for t in TOOLS]))
    cases = worst_cases(sysroot) + [
        (t.name, _largest_arguments(t.input_schema(), typical[t.name])) for t in TOOLS
    ]
    sizes = await _sizes(sysroot, cases)
    over = [(n, a, s) for (n, a), s in zip(cases, sizes, strict=True) if s > ANY_BOUND]
    assert not over


@pytest.mark.parametrize("sysroot", KERNELS)
async def test_resources_and_prompts_fit(sysroot: Path) -> None:
    _readable(sysroot)
    btf = parse_btf((sysroot / "sys/kernel/btf/vmlinux").read_bytes())
    (biggest,) = largest(btf, (Kind.STRUCT,))
    names = {t.name for t in TOOLS}
    async with open_bpf_mcp(Config(sysroot=sysroot, load_wait=120.0)) as handle:
        for uri in RESOURCES:
            result = await catalog.read_resource(handle, uri, names)
            assert message_size(result) <= DEFAULT_BOUND, uri
        for prompt, value in PROMPTS:
            spec = next(p for p in catalog.PROMPTS if p.name == prompt)
            got = await catalog.get_prompt(handle, prompt, {spec.argument: value}, names)
            assert message_size(got) <= DEFAULT_BOUND, prompt
        for uri in (f"btf://vmlinux/struct/{biggest}", f"btf-c://vmlinux/struct/{biggest}"):
            result = await catalog.read_resource(handle, uri, names)
            assert message_size(result) <= ANY_BOUND, uri
        got = await catalog.get_prompt(handle, "explain_struct", {"name": biggest}, names)
        assert message_size(got) <= ANY_BOUND


def test_the_model_visible_tool_list_stays_small() -> None:
    visible = [
        {"name": d.name, "description": d.description, "inputSchema": d.input_schema}
        for d in (tool_definition(spec) for spec in TOOLS)
    ]
    size = len(json.dumps(visible, separators=(",", ":")).encode())
    print(f"tools/list, model-visible part: {size} bytes for {len(TOOLS)} tools")
    assert size <= TOOLS_LIST_BOUND


def test_descriptions_name_how_to_narrow_and_the_opt_in_parts() -> None:
    for tool in TOOLS:
        properties = tool.input_schema()["properties"]
        for name in properties:
            if name.startswith("include_") and name not in ("include_clones", "include_padding"):
                assert name in tool.description, (tool.name, name)
        if "offset" in properties and "pattern" in properties:
            assert "Narrow" in tool.description, tool.name


# -- cut answers say how to continue --------------------------------------------------------


def test_a_paged_struct_names_the_next_member_offset(view: View) -> None:
    first = answer(DescribeBtfType(name="task_struct"), view)
    assert first.members is not None and first.member_total is not None
    assert first.next_member_offset == len(first.members) < first.member_total
    assert first.c is None and first.c_bytes > 0
    assert first.note is not None
    assert f"member_offset={first.next_member_offset}" in first.note
    assert "include_c=true" in first.note
    members = list(first.members)
    offset: int | None = first.next_member_offset
    while offset is not None:
        part = answer(DescribeBtfType(name="task_struct", member_offset=offset), view)
        assert part.members is not None
        members += part.members
        offset = part.next_member_offset
    whole = answer(DescribeBtfType(name="task_struct", member_limit=1000, include_c=True), view)
    assert whole.members is not None and whole.c is not None
    assert members == list(whole.members) and whole.next_member_offset is None
    assert whole.note is None


def test_shrinking_an_over_budget_description_says_what_was_left_out(view: View) -> None:
    whole = answer(DescribeBtfType(name="task_struct", member_limit=1000, include_c=True), view)
    cut = fit_to_budget(whole, budget=ANY_BOUND)
    assert cut.members is not None and cut.next_member_offset == len(cut.members)
    assert cut.note is not None and f"member_offset={cut.next_member_offset}" in cut.note
    assert cut.c is None and "include_c" in cut.note


def test_a_long_header_comes_in_parts_that_concatenate_to_it(view: View) -> None:
    names = ("task_struct", "sk_buff")
    parts = []
    offset: int | None = 0
    while offset is not None:
        got = answer(GenerateCHeader(names=names, offset=offset), view)
        assert got.bytes <= 6 * 1024 or got.next_offset == got.offset + 1
        if got.next_offset is not None:
            assert got.note is not None and f"offset={got.next_offset}" in got.note
        else:
            assert got.note is None
        parts.append(got.header)
        offset = got.next_offset
    assert len(parts) > 1
    btf = view.btf.btf
    roots = [next(t for t in btf.find(n) if btf.kind(t) is Kind.STRUCT) for n in names]
    assert "".join(parts) == c_header(btf, roots)


def test_a_cut_page_names_its_continuation(view: View) -> None:
    page = answer(ListTracepoints(limit=1000, include_fields=True), view)
    cut = fit_to_budget(page, budget=ANY_BOUND)
    assert cut.next_offset == len(cut.items) < len(page.items)
    assert cut.note is not None and f"offset {cut.next_offset}" in cut.note


# -- paging is exact --------------------------------------------------------------------------

LISTS: list[Any] = [
    ListTracepoints(),
    ListKernelFunctions(pattern="bpf"),  # the whole lists are long; these are plenty
    SearchBtf(pattern="bpf"),
    ListBpfProgramTypes(),
    ListBpfMapTypes(),
    ListRawTracepoints(),
    ListKfuncs(),
    ListBpfHelpers(),
    ListBpfAttachTypes(),
    ListBpfHooks(),
]


def _items(result: Any) -> list[Any]:
    if hasattr(result, "items"):
        return list(result.items)
    return [*result.attach_types, *result.link_types]


def test_every_list_tool_is_covered() -> None:
    paged = {t.query for t in TOOLS if "total" in attrs.fields_dict(t.result)}
    # The fixture kernel lists no loaded BPF object; tests/loaded/test_answers.py walks
    # list_loaded_bpf's pages over objects of its own.
    # list_kernels lists a handful of kernels whole: it has a total but no pages. The
    # comparisons need two kernels: tests/kernels walks their pages.
    handle_level = {ListLoadedBpf, ListKernels, CompareKernels, CompareTypeAcross}
    assert paged - handle_level == {type(q) for q in LISTS}


@pytest.mark.parametrize("query", LISTS, ids=lambda q: type(q).__name__)
def test_walking_next_offset_yields_every_item_once(view: View, query: Any) -> None:
    whole = answer(attrs.evolve(query, limit=1000, offset=0), view)
    expected = _items(whole)
    offset = whole.next_offset
    while offset is not None:  # more than 1000 matches
        more = answer(attrs.evolve(query, limit=1000, offset=offset), view)
        expected += _items(more)
        offset = more.next_offset
    for limit, budget in ((query.limit, ANY_BOUND), (1000, ANY_BOUND), (1000, DEFAULT_BOUND)):
        seen: list[Any] = []
        offset = 0
        while offset is not None:
            asked = attrs.evolve(query, offset=offset, limit=limit)
            got = fit_to_budget(answer(asked, view), budget)
            assert got.offset == offset
            seen += _items(got)
            offset = got.next_offset
        assert seen == expected, (type(query).__name__, limit, budget)
    assert len(expected) == whole.total


@pytest.mark.slow
def test_every_tools_list_page_fits_a_64_kib_line() -> None:
    import subprocess
    import sys

    lines = [initialize_request(), rpc("notifications/initialized", id=None)]
    # Pages are computed from the definitions alone: ask for each page the server offers.
    names: list[str] = []
    cursor: str | None = None
    for request_id in range(2, 12):
        params = {"cursor": cursor} if cursor else {}
        script = [*lines, rpc("tools/list", params, id=request_id)]
        done = subprocess.run(
            [sys.executable, "-m", "bpf_mcp", "--sysroot", str(FIXTURE_ROOT)],
            input="".join(json.dumps(m) + "\n" for m in script),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        page = done.stdout.splitlines()[-1]
        assert len(page.encode()) < 64 * 1024
        result = json.loads(page)["result"]
        names += [tool["name"] for tool in result["tools"]]
        cursor = result.get("nextCursor")
        if cursor is None:
            break
    assert sorted(names) == sorted(t.name for t in TOOLS)
