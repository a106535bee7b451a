"""Regenerate (or check) the example answers in README.md and docs/tools.md from the
fixture kernel.

Each example is a line `<!-- example: TOOL {json arguments} -->` followed by a ```json
block; this script runs the tool in process on fixtures/linux-6.18 and writes its
structured answer into the block. `--check` exits 1 when any block differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import trio

from bpf_mcp.testing.examples import answers, documents, examples, normalize, render

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report drift")
    args = parser.parse_args()
    code = 0
    for document in documents(REPO):
        text = document.read_text()
        if not args.check:
            document.write_text(render(text, REPO))
            continue
        shown = examples(text)
        fresh = trio.run(answers, [(name, arguments) for name, arguments, _ in shown], REPO)
        drift = [
            name
            for (name, _, old), new in zip(shown, fresh, strict=True)
            if normalize(old, REPO, mask=True) != normalize(new, REPO, mask=True)
        ]
        if drift:
            where = document.relative_to(REPO)
            print(f"{where} examples differ for: {', '.join(drift)}", file=sys.stderr)
            code = 1
    return code


if __name__ == "__main__":
    sys.exit(main())
