"""pahole's struct layouts as members by path: the oracle for struct differences.

Our own reading of `pahole -C NAME` text: each member line `<decl>; /* offset[:bit] size */`,
nested anonymous structs and unions opened by `struct {` / `union {` and closed by
`} [name];`. Members of an anonymous member are reached by their own name; those of a
named member of anonymous type by 'outer.inner' ('outer[0].inner' for an array).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_ROW = re.compile(r"^\t+(?!/\*)(.*?);\s*/\*\s*(\d+)(?::\s*(\d+))?\s+\d+\s*\*/$")
_OPEN = re.compile(r"^\t+(?:struct|union)\s*\{$")
_ATTRIBUTE = re.compile(r"\s*__attribute__\(\(.*\)\)\s*$")
_FUNCTION_POINTER = re.compile(r"\(\s*\*\s*(\w+)\s*\)")
_NAME = re.compile(r"(\w+)((?:\[\d*\])*)(?::\d+)?$")

Member = tuple[int, int, str]
"""(byte offset, bit in unit, type text with the name removed)."""


def run(btf_file: Path, name: str) -> str:
    done = subprocess.run(
        ["pahole", "-F", "btf", "-C", name, str(btf_file)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def _split(decl: str) -> tuple[str, str, int]:
    """(name, type text without the name, array dimensions) of a member declaration."""
    decl = _ATTRIBUTE.sub("", decl).strip()
    pointer = _FUNCTION_POINTER.search(decl)
    if pointer:
        name = pointer.group(1)
        return name, " ".join(decl.replace(name, "", 1).split()), 0
    found = _NAME.search(decl)
    assert found, decl
    name = found.group(1)
    rest = decl[: found.start()] + decl[found.end(1) :]
    return name, " ".join(rest.split()), found.group(2).count("[")


def members(text: str) -> dict[str, Member]:
    """The members of the one struct or union in `text`, by path, nested ones included."""
    lines = text.splitlines()
    assert re.match(r"^(struct|union) \w+ \{$", lines[0]), lines[0]
    frames: list[dict[str, Member]] = [{}]
    for line in lines[1:]:
        if line.startswith("}"):
            break
        if _OPEN.match(line):
            frames.append({})
            continue
        row = _ROW.match(line)
        if not row:
            continue
        decl, offset, bit = row.group(1), int(row.group(2)), int(row.group(3) or 0)
        if decl.startswith("}"):
            inner = frames.pop()
            tail = decl[1:].strip()
            if not tail:  # anonymous: its members are the enclosing type's
                frames[-1].update(inner)
            elif "*" not in tail:  # a pointer's pointee is not part of this layout
                name, _, dims = _split("anon " + tail)
                frames[-1][name] = (offset, bit, "<anonymous>")
                prefix = name + "[0]" * dims + "."
                frames[-1].update({prefix + path: m for path, m in inner.items()})
            else:
                name, _, _ = _split("anon " + tail)
                frames[-1][name] = (offset, bit, "<anonymous> *")
            continue
        name, kind, _ = _split(decl)
        frames[-1][name] = (offset, bit, kind)
    assert len(frames) == 1
    return frames[0]


def differences(a: dict[str, Member], b: dict[str, Member]) -> set[tuple[str, str]]:
    """(path, change) for every member that differs, as our comparison names changes."""
    found = set()
    for path in a.keys() | b.keys():
        if path not in b:
            found.add((path, "removed"))
        elif path not in a:
            found.add((path, "added"))
        else:
            moved = a[path][:2] != b[path][:2]
            retyped = a[path][2] != b[path][2]
            if moved or retyped:
                change = (
                    "moved and retyped" if moved and retyped else "moved" if moved else "retyped"
                )
                found.add((path, change))
    return found
