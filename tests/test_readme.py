"""The README and docs/tools.md cannot drift: every tool is in the README's table and has a
section with an example in docs/tools.md, every example answer shown is what the tool
answers on the fixture kernel today, and the README stays short."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from bpf_mcp.testing.examples import answers, documents, examples, normalize
from bpf_mcp.tools import TOOLS

from .support import REPO

DOCUMENTS = documents(REPO)

README = (REPO / "README.md").read_text()
TOOLS_DOC = (REPO / "docs" / "tools.md").read_text()
README_LIMIT = 15 * 1024
TRANSCRIPT = re.compile(
    r"<!-- transcript -->\n```\n\$ (bpf-mcp call [^\n]*)\n(.*?)```\n", re.DOTALL
)


def test_the_readme_is_short() -> None:
    size = len(README.encode())
    assert size <= README_LIMIT, f"README.md is {size} bytes; move detail to docs/"


def test_every_tool_is_in_the_readme_table() -> None:
    for tool in TOOLS:
        assert re.search(rf"^\| `{tool.name}` \| .+ \|$", README, re.MULTILINE), tool.name


def test_every_tool_has_a_section_and_an_example() -> None:
    shown = {name for name, _, _ in examples(TOOLS_DOC)}
    for tool in TOOLS:
        assert re.search(rf"^## `{tool.name}`$", TOOLS_DOC, re.MULTILINE), tool.name
        assert tool.name in shown, f"no example answer for {tool.name}"


def test_the_readme_shows_an_example() -> None:
    assert examples(README)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_example_answers_match_the_tools(document: Path) -> None:
    shown = examples(document.read_text())
    fresh = trio.run(answers, [(name, arguments) for name, arguments, _ in shown], REPO)
    for (name, arguments, old), new in zip(shown, fresh, strict=True):
        assert normalize(old, REPO, mask=True) == normalize(new, REPO, mask=True), (
            name,
            arguments,
        )


@pytest.mark.slow
def test_shell_transcripts_match_the_command() -> None:
    transcripts = TRANSCRIPT.findall(TOOLS_DOC)
    assert transcripts
    for command, shown in transcripts:
        argv = [sys.executable, "-m", "bpf_mcp", *command.split()[1:]]
        done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert (done.returncode, done.stdout) == (0, shown), command


def test_readme_test_command_is_what_ci_runs() -> None:
    command = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && .venv/bin/pytest"
    assert command in README
    assert command in (REPO / ".ci" / "run").read_text()


def test_every_command_line_option_is_documented() -> None:
    from bpf_mcp.cli import build_call_parser, build_parser

    docs = README + "".join(p.read_text() for p in sorted((REPO / "docs").glob("*.md")))
    for parser in (build_parser(), build_call_parser()):
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    mentioned = re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", docs)
                    assert mentioned, f"{flag} is in neither the README nor docs/"
