"""The README cannot drift: every tool is documented with an example, and every example
answer shown is what the tool answers on the fixture kernel today."""

from __future__ import annotations

import re

from scripts.readme_examples import REPO, answers, examples, normalize

from bpf_mcp.tools import TOOLS

README = (REPO / "README.md").read_text()


def test_every_tool_has_a_section_and_an_example() -> None:
    shown = {name for name, _, _ in examples(README)}
    for tool in TOOLS:
        assert re.search(rf"^### `{tool.name}`$", README, re.MULTILINE), tool.name
        assert tool.name in shown, f"no example answer for {tool.name}"


async def test_example_answers_match_the_tools() -> None:
    shown = examples(README)
    fresh = await answers([(name, arguments) for name, arguments, _ in shown])
    for (name, arguments, old), new in zip(shown, fresh, strict=True):
        assert normalize(old, mask=True) == normalize(new, mask=True), (name, arguments)


def test_readme_test_command_is_what_ci_runs() -> None:
    command = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/pytest"
    assert command in README
    assert command in (REPO / ".ci" / "run").read_text()


def test_every_command_line_option_is_documented() -> None:
    from bpf_mcp.cli import build_call_parser, build_parser

    for parser in (build_parser(), build_call_parser()):
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    mentioned = re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", README)
                    assert mentioned, f"{flag} is not in the README"
