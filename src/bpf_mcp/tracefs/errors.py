"""The tracefs parsers' one error type."""

from __future__ import annotations


class FormatError(Exception):
    """Text from tracefs does not have the shape the kernel writes.

    The message says where (a 1-based line number) and what was expected there. `line` holds
    that number, or None when the problem is not tied to one line. The parsers raise nothing
    else for bad input.
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


def excerpt(text: str, limit: int = 60) -> str:
    """`text` quoted for an error message, cut short when long."""
    if len(text) > limit:
        return repr(text[:limit]) + "..."
    return repr(text)
