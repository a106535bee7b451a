"""Split a bpftrace script into probes and the arguments their action blocks read.

A script is a sequence of `probe[, probe...] [/filter/] { actions }`, with `//` and
`/* */` comments, `#include` lines, and (in newer bpftrace) `config = { ... }` and
`macro name(...) { ... }` definitions, which hold no probes. Probe names are
`provider:target...`, providers having short aliases (`t:`, `k:`, `kfunc:`...). A filter
starts with a `/` after whitespace: one inside a probe name follows a `:` (an uprobe's
binary path). This reads structure only; bpftrace's own parser decides what is valid.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["MAX_SCRIPT", "PROVIDERS", "BpftraceError", "ProbeSpec", "parse_script"]

MAX_SCRIPT = 64 * 1024

PROVIDERS: dict[str, str] = {
    "kprobe": "kprobe",
    "k": "kprobe",
    "kretprobe": "kretprobe",
    "kr": "kretprobe",
    "tracepoint": "tracepoint",
    "t": "tracepoint",
    "rawtracepoint": "rawtracepoint",
    "rt": "rawtracepoint",
    "fentry": "fentry",
    "f": "fentry",
    "kfunc": "fentry",
    "fexit": "fexit",
    "fr": "fexit",
    "kretfunc": "fexit",
    "uprobe": "uprobe",
    "u": "uprobe",
    "uretprobe": "uretprobe",
    "ur": "uretprobe",
    "usdt": "usdt",
    "U": "usdt",
    "software": "software",
    "s": "software",
    "hardware": "hardware",
    "h": "hardware",
    "profile": "profile",
    "p": "profile",
    "interval": "interval",
    "i": "interval",
    "iter": "iter",
    "it": "iter",
    "watchpoint": "watchpoint",
    "w": "watchpoint",
    "asyncwatchpoint": "asyncwatchpoint",
    "aw": "asyncwatchpoint",
    "BEGIN": "BEGIN",
    "END": "END",
    "self": "self",
}
"""Every spelling of a provider, to its canonical name."""

_ARGS = re.compile(r"\bargs\s*(?:\.|->)\s*([A-Za-z_]\w*)")
_DEFINITION = re.compile(r"(?:config\s*=|macro\s+\w+\s*\([^)]*\))\s*\{")


class BpftraceError(Exception):
    """The script's structure cannot be read: an unclosed block, string or comment, or a
    probe list without an action block. The message names the line."""


@attrs.frozen
class ProbeSpec:
    """One probe as written (`text`), its canonical provider ("" when unknown), the parts
    after the provider, its line, and the `args` fields its action block reads."""

    text: str
    provider: str
    target: tuple[str, ...]
    line: int
    args: tuple[str, ...]


def _blank_literals(text: str) -> str:
    """`text` with comments and string literals replaced by spaces (newlines kept), so
    that braces, slashes and `args` inside them are not read as code."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise BpftraceError(f"line {text.count(chr(10), 0, i) + 1}: unclosed comment")
            end += 2
        elif c == '"':
            end = i + 1
            while end < n and text[end] != '"':
                if text[end] == "\n":
                    break
                end += 2 if text[end] == "\\" else 1
            if end >= n or text[end] != '"':
                raise BpftraceError(f"line {text.count(chr(10), 0, i) + 1}: unclosed string")
            end += 1
        else:
            i += 1
            continue
        for j in range(i, min(end, n)):
            if out[j] != "\n":
                out[j] = " "
        i = end
    return "".join(out)


def _block_end(code: str, start: int) -> int:
    """The index just past the `}` closing the `{` at `start`."""
    depth = 0
    for i in range(start, len(code)):
        if code[i] == "{":
            depth += 1
        elif code[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    raise BpftraceError(f"line {code.count(chr(10), 0, start) + 1}: unclosed block")


def _probes(header: str, line: int, args: tuple[str, ...]) -> list[ProbeSpec]:
    # A filter is a `/` after whitespace; a path in a probe name follows a `:`.
    filter_at = re.search(r"(?<=\s)/", header)
    names = header[: filter_at.start()] if filter_at else header
    specs = []
    for raw in names.split(","):
        text = raw.strip()
        if not text:
            continue
        head, _, rest = text.partition(":")
        provider = PROVIDERS.get(head, "")
        target = tuple(rest.split(":")) if rest else ()
        specs.append(ProbeSpec(text, provider, target, line, args))
    return specs


def parse_script(text: str) -> tuple[ProbeSpec, ...]:
    """The probes of bpftrace script `text`, in order.

    Raises BpftraceError for a script over MAX_SCRIPT characters, an unclosed comment,
    string or block, or a probe list with no action block. Pure.
    """
    if len(text) > MAX_SCRIPT:
        raise BpftraceError(f"the script is {len(text):,} characters; at most {MAX_SCRIPT:,}")
    code = _blank_literals(text)
    lines = [ln if not ln.lstrip().startswith("#") else "" for ln in code.split("\n")]
    code = "\n".join(lines)
    probes: list[ProbeSpec] = []
    pos = 0
    while True:
        while pos < len(code) and code[pos].isspace():
            pos += 1
        if pos >= len(code):
            break
        definition = _DEFINITION.match(code, pos)
        if definition:
            pos = _block_end(code, definition.end() - 1)
            continue
        brace = code.find("{", pos)
        if brace < 0:
            line = code.count("\n", 0, pos) + 1
            raise BpftraceError(f"line {line}: a probe list with no action block")
        end = _block_end(code, brace)
        header = code[pos:brace]
        line = code.count("\n", 0, pos) + 1
        args = tuple(dict.fromkeys(_ARGS.findall(code, brace, end)))
        probes.extend(_probes(header, line, args))
        pos = end
    return tuple(probes)
