"""Record pahole's layouts of the oracle structs in fixtures/btf/pahole_layouts.json.

The fixture tests compare bpf-mcp's layouts of fixtures/linux-6.18's vmlinux with this
file, so they prove the layouts where pahole is not installed. Rerun after recapturing
the fixture kernel:

    .venv/bin/python scripts/record_pahole_layouts.py
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from bpf_mcp.testing import pahole

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--btf", type=Path, default=ROOT / "fixtures/linux-6.18/sys/kernel/btf/vmlinux"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures/btf/pahole_layouts.json")
    args = parser.parse_args()
    tool = pahole.pahole()
    if tool is None:
        print("pahole is not installed (Debian: apt-get install dwarves)", file=sys.stderr)
        return 1
    names = list(pahole.LAYOUT_STRUCTS)
    blocks = pahole.split(pahole.run(tool, args.btf, names))
    missing = [n for n in names if n not in blocks]
    if missing:
        print(f"pahole printed no layout for: {', '.join(missing)}", file=sys.stderr)
        return 1
    layouts = {name: pahole.parse(blocks[name]) for name in names}
    record = {
        "pahole": pahole.version(tool),
        "btf": str(args.btf.relative_to(ROOT)) if args.btf.is_relative_to(ROOT) else str(args.btf),
        "layouts": layouts,
    }
    args.out.write_text(_dumps(record))
    print(f"wrote {len(layouts)} layouts to {args.out}")
    return 0


def _dumps(record: Mapping[str, object]) -> str:
    """JSON with one member row per line, so a diff shows which member moved."""
    text = json.dumps(record, indent=1)
    # Fold each innermost list (a member row) onto one line.
    return re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", _fold, text) + "\n"


def _fold(match: re.Match[str]) -> str:
    return "[" + ", ".join(part.strip() for part in match.group(1).split(",")) + "]"


if __name__ == "__main__":
    raise SystemExit(main())
