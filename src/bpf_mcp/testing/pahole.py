"""Run pahole and read its struct layouts: the oracle for offsets, sizes and holes."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_MEMBER = re.compile(r"^(\t+)(?!/\*)(.*?);\s*/\*\s*(\d+)(?::\s*(\d+))?\s+(\d+)\s*\*/$")
_OPEN = re.compile(r"^(\t+).*\{$")
_CLOSE = re.compile(r"^(\t+)\}(.*?);\s*/\*\s*(\d+)(?::\s*(\d+))?\s+(\d+)\s*\*/$")
_HOLE = re.compile(r"^(\t+)/\* XXX (\d+) (byte|bytes|bit|bits) hole")
_SUMMARY = {
    "size": re.compile(r"/\* size: (\d+), cachelines: \d+, members: (\d+) \*/"),
    "holes": re.compile(r"/\* sum members: \d+, holes: (\d+), sum holes: (\d+) \*/"),
    "bit_holes": re.compile(r"bit holes: (\d+), sum bit holes: (\d+) bits"),
    "padding": re.compile(r"/\* padding: (\d+) \*/"),
    "aligned": re.compile(r"^\}.*__aligned__\((\d+)\)"),
}


def pahole() -> str | None:
    """The pahole executable, or None where it is not installed."""
    return shutil.which("pahole")


def run(tool: str, btf_file: Path, names: list[str]) -> str:
    """pahole's text for `names` in `btf_file`; its warnings about BTF kinds it does not
    know (1.24 warns for decl and type tags) go to stderr and are dropped."""
    done = subprocess.run(
        [tool, "-F", "btf", "-C", ",".join(names), str(btf_file)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def split(text: str) -> dict[str, list[str]]:
    """pahole's output cut into one list of lines per top-level `struct NAME {`."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        head = re.match(r"^(?:struct|union) (\w+) \{$", line)
        if head:
            current = found.setdefault(head.group(1), [])
        if current is not None:
            current.append(line)
            if line.startswith("}"):
                current = None
    return found


def parse(lines: list[str]) -> dict[str, Any]:
    """One struct's layout: its members in pre-order (a nested anonymous member before its
    own members) as [depth, byte offset, bit in unit or None, size, hole, bit hole], and
    the totals pahole prints. Depth 0 is a direct member."""
    rows: list[list[Any]] = []
    opened: list[int] = []  # index in rows of each open nested member
    last_at: dict[int, int] = {}  # depth -> index of the last member closed at that depth
    summary: dict[str, int] = {"holes": 0, "sum_holes": 0, "bit_holes": 0, "sum_bit_holes": 0}
    summary["padding"] = 0
    for line in lines[1:]:
        if line.startswith("}"):
            aligned = _SUMMARY["aligned"].match(line)
            if aligned:
                summary["aligned"] = int(aligned.group(1))
            break
        hole = _HOLE.match(line)
        if hole:
            depth = len(hole.group(1)) - 1
            if depth not in last_at:  # a hole before the first member
                key = "bit_hole_at_start" if hole.group(3).startswith("bit") else "hole_at_start"
                summary[key] = summary.get(key, 0) + int(hole.group(2))
                continue
            row = rows[last_at[depth]]
            if hole.group(3).startswith("bit"):
                row[5] += int(hole.group(2))
            else:
                row[4] += int(hole.group(2))
            continue
        close = _CLOSE.match(line)
        if close:
            index = opened.pop()
            if "*" in close.group(2):
                # A pointer to an anonymous type: pahole shows the pointee's members
                # at the pointee's own offsets; they are not part of this layout.
                del rows[index + 1 :]
            rows[index][1] = int(close.group(3))
            rows[index][2] = None if close.group(4) is None else int(close.group(4))
            rows[index][3] = int(close.group(5))
            last_at[len(close.group(1)) - 1] = index
            continue
        member = _MEMBER.match(line)
        if member:
            depth = len(member.group(1)) - 1
            bit = None if member.group(4) is None else int(member.group(4))
            rows.append([depth, int(member.group(3)), bit, int(member.group(5)), 0, 0])
            last_at[depth] = len(rows) - 1
            continue
        opener = _OPEN.match(line)
        if opener:
            rows.append([len(opener.group(1)) - 1, None, None, None, 0, 0])
            opened.append(len(rows) - 1)
            continue
        for key in ("size", "holes", "bit_holes", "padding"):
            found = _SUMMARY[key].search(line)
            if found:
                values = [int(v) for v in found.groups()]
                if key == "size":
                    summary["size"], summary["members"] = values
                elif key == "holes":
                    summary["holes"], summary["sum_holes"] = values
                elif key == "bit_holes":
                    summary["bit_holes"], summary["sum_bit_holes"] = values
                else:
                    summary["padding"] = values[0]
    return {"members": rows, "summary": summary}


# Large, much-used kernel structs whose layouts the oracle tests compare.
LAYOUT_STRUCTS = (
    "task_struct",
    "sk_buff",
    "file",
    "inode",
    "mm_struct",
    "sock",
    "super_block",
    "net_device",
    "dentry",
    "page",
    "vm_area_struct",
    "bpf_prog",
    "bpf_map",
    "cred",
    "socket",
    "tcp_sock",
    "bio",
    "request_queue",
    "cgroup",
    "signal_struct",
    "files_struct",
    "address_space",
    "perf_event",
    "pid",
    "rq",
    "net",
    "device",
    "block_device",
    "seq_file",
    "bpf_verifier_env",
    "kmem_cache",
    "sched_entity",
    "folio",
    "xdp_buff",
    "sk_buff_head",
    "bpf_prog_aux",
    "trace_event_call",
    "module",
)


def mine(items: Sequence[Any], summary: Any) -> dict[str, Any]:
    """bpf-mcp's layout (describe_members output) in the shape `parse` returns."""
    rows = [
        [
            m.depth,
            m.offset,
            m.bit_in_unit if m.bitfield_size else None,
            m.size,
            m.hole_after,
            m.bit_hole_after,
        ]
        for m in items
    ]
    totals = {
        key: getattr(summary, key)
        for key in (
            "size",
            "members",
            "holes",
            "sum_holes",
            "bit_holes",
            "sum_bit_holes",
            "padding",
            "hole_at_start",
            "bit_hole_at_start",
        )
    }
    return {"members": rows, "summary": totals}


def differences(
    name: str, want: dict[str, Any], got: dict[str, Any], *, align: int | None
) -> list[str]:
    """What differs between pahole's layout `want` and bpf-mcp's `got`, in words."""
    problems = []
    rows_w, rows_g = want["members"], got["members"]
    if len(rows_w) != len(rows_g):
        problems.append(f"{name}: {len(rows_g)} members, pahole shows {len(rows_w)}")
    for i, (w, g) in enumerate(zip(rows_w, rows_g, strict=False)):
        if w != g:
            problems.append(f"{name}: member {i} is {g}, pahole says {w}")
            break
    summary_w = want["summary"]
    if "size" in summary_w:  # pahole prints no totals for unions
        for key, value in got["summary"].items():
            if summary_w.get(key, 0) != value:
                problems.append(f"{name}: {key} {value}, pahole says {summary_w.get(key, 0)}")
    if align is not None and "aligned" in summary_w and summary_w["aligned"] != align:
        problems.append(f"{name}: alignment {align}, pahole says {summary_w['aligned']}")
    return problems


def version(tool: str) -> str:
    """pahole's version string, e.g. "v1.24"."""
    done = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.strip()


def run_all(tool: str, btf_file: Path) -> str:
    """pahole's text for every struct and union in `btf_file`."""
    done = subprocess.run(
        [tool, "-F", "btf", str(btf_file)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout
