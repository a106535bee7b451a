"""The example answers of the README and docs/tools.md: find them, compute them afresh on
the checkout's fixture kernel, and compare or rewrite them. Shared by tests/test_readme.py
and scripts/readme_examples.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import trio

from ..api import open_bpf_mcp
from ..config import Config
from ..transports.server import call_tool


def fixture_kernel(repo: Path) -> Path:
    """The captured kernel the examples are answered on."""
    return repo / "fixtures" / "linux-6.18"


def documents(repo: Path) -> tuple[Path, ...]:
    """The files whose example answers are kept current."""
    return (repo / "README.md", repo / "docs" / "tools.md")


EXAMPLE = re.compile(r"<!-- example: (\w+) (\{.*?\}) -->\n```json\n(.*?)```\n", re.DOTALL)


VOLATILE = frozenset(
    {"since", "data_age_seconds", "scanned_at", "capabilities", "capability_notes"}
)
"""Keys whose values change from run to run (times) or machine to machine (the server's own
capabilities); compared as present, not equal."""


def normalize(value: Any, repo: Path, *, mask: bool = False) -> Any:
    """`value` with the checkout's paths (`repo`, its fixture kernel) made generic, and
    times masked if asked."""
    fixtures = fixture_kernel(repo)
    if isinstance(value, str):
        if value == str(fixtures):
            return "/"
        return value.replace(str(fixtures), "").replace(str(repo), ".")
    if isinstance(value, list):
        return [normalize(v, repo, mask=mask) for v in value]
    if isinstance(value, dict):
        return {
            k: "<varies>" if mask and k in VOLATILE else normalize(v, repo, mask=mask)
            for k, v in value.items()
        }
    return value


async def answers(calls: list[tuple[str, dict[str, Any]]], repo: Path) -> list[Any]:
    """The answer of each call on the checkout's fixture kernel, paths normalized."""
    out = []
    async with open_bpf_mcp(Config(sysroot=fixture_kernel(repo))) as handle:
        for name, arguments in calls:
            result = await call_tool(handle, name, arguments)
            payload = result.structured_content
            if result.is_error:
                payload = {"isError": True, "text": result.content[0].text}  # type: ignore[union-attr]
            out.append(normalize(payload, repo))
    return out


def examples(text: str) -> list[tuple[str, dict[str, Any], Any]]:
    """(tool, arguments, the answer shown) of every example in a document's text."""
    return [
        (m.group(1), json.loads(m.group(2)), json.loads(m.group(3) or "null"))
        for m in EXAMPLE.finditer(text)
    ]


def render(text: str, repo: Path) -> str:
    """A document's text with every example block regenerated."""
    found = list(EXAMPLE.finditer(text))
    calls = [(m.group(1), json.loads(m.group(2))) for m in found]
    blocks = trio.run(answers, calls, repo)
    pieces, last = [], 0
    for match, block in zip(found, blocks, strict=True):
        pieces.append(text[last : match.start(3)])
        pieces.append(json.dumps(block, indent=2, ensure_ascii=False) + "\n")
        last = match.end(3)
    pieces.append(text[last:])
    return "".join(pieces)
