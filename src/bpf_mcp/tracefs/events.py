"""`available_events`: one `category:event` per line."""

from __future__ import annotations

from bpf_mcp.tracefs.errors import FormatError, shape


def parse_available_events(text: str) -> tuple[tuple[str, str], ...]:
    """Every `(category, event)` pair listed in a tracefs `available_events` file, in order.

    Blank lines are skipped. Both names become path components under `events/`, so a name
    that is empty, holds whitespace, `:`, `/`, NUL or `..`, or is `.`, is refused.

    Raises FormatError naming the first malformed line.
    """
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line or line.isspace():
            continue
        category, colon, event = line.partition(":")
        if not colon:
            raise FormatError(f"expected 'category:event', got {shape(line)}", line=number)
        for what, name in (("category", category), ("event", event)):
            problem = _path_component_problem(name)
            if problem:
                raise FormatError(f"the {what} name {problem}", line=number)
        pairs.append((category, event))
    return tuple(pairs)


def _path_component_problem(name: str) -> str:
    """Why `name` cannot be one component of a tracefs path, or "" when it can."""
    if not name:
        return "is empty"
    if name == "." or ".." in name:
        return "could leave the events directory"
    for char in name:
        if char in "/:\0" or char.isspace():
            return f"holds the forbidden character {char!r}"
    return ""
