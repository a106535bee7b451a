"""Regenerate (or check) the example answers in README.md and docs/tools.md from the
fixture kernel.

Each example is a line `<!-- example: TOOL {json arguments} -->` followed by a ```json
block; this script runs the tool in process on fixtures/linux-6.18 and writes its
structured answer into the block. `--check` exits 1 when any block differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import trio

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.transports.server import call_tool

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "linux-6.18"
DOCUMENTS = (REPO / "README.md", REPO / "docs" / "tools.md")
"""The files whose example answers are kept current."""
EXAMPLE = re.compile(r"<!-- example: (\w+) (\{.*?\}) -->\n```json\n(.*?)```\n", re.DOTALL)


VOLATILE = frozenset(
    {"since", "data_age_seconds", "scanned_at", "capabilities", "capability_notes"}
)
"""Keys whose values change from run to run (times) or machine to machine (the server's own
capabilities); compared as present, not equal."""


def normalize(value: Any, *, mask: bool = False) -> Any:
    """`value` with machine-specific paths made generic, and times masked if asked."""
    if isinstance(value, str):
        if value == str(FIXTURES):
            return "/"
        return value.replace(str(FIXTURES), "").replace(str(REPO), ".")
    if isinstance(value, list):
        return [normalize(v, mask=mask) for v in value]
    if isinstance(value, dict):
        return {
            k: "<varies>" if mask and k in VOLATILE else normalize(v, mask=mask)
            for k, v in value.items()
        }
    return value


async def answers(calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """The answer of each call on the fixture kernel, paths normalized."""
    out = []
    async with open_bpf_mcp(Config(sysroot=FIXTURES)) as handle:
        for name, arguments in calls:
            result = await call_tool(handle, name, arguments)
            payload = result.structured_content
            if result.is_error:
                payload = {"isError": True, "text": result.content[0].text}  # type: ignore[union-attr]
            out.append(normalize(payload))
    return out


def examples(text: str) -> list[tuple[str, dict[str, Any], Any]]:
    """(tool, arguments, the answer shown) of every example in a document's text."""
    return [
        (m.group(1), json.loads(m.group(2)), json.loads(m.group(3) or "null"))
        for m in EXAMPLE.finditer(text)
    ]


def render(text: str) -> str:
    """A document's text with every example block regenerated."""
    found = list(EXAMPLE.finditer(text))
    calls = [(m.group(1), json.loads(m.group(2))) for m in found]
    blocks = trio.run(answers, calls)
    pieces, last = [], 0
    for match, block in zip(found, blocks, strict=True):
        pieces.append(text[last : match.start(3)])
        pieces.append(json.dumps(block, indent=2, ensure_ascii=False) + "\n")
        last = match.end(3)
    pieces.append(text[last:])
    return "".join(pieces)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report drift")
    args = parser.parse_args()
    code = 0
    for document in DOCUMENTS:
        text = document.read_text()
        if not args.check:
            document.write_text(render(text))
            continue
        shown = examples(text)
        fresh = trio.run(answers, [(name, arguments) for name, arguments, _ in shown])
        drift = [
            name
            for (name, _, old), new in zip(shown, fresh, strict=True)
            if normalize(old, mask=True) != normalize(new, mask=True)
        ]
        if drift:
            where = document.relative_to(REPO)
            print(f"{where} examples differ for: {', '.join(drift)}", file=sys.stderr)
            code = 1
    return code


if __name__ == "__main__":
    sys.exit(main())
