"""The tracefs parsers' one error type."""

from __future__ import annotations


class FormatError(Exception):
    """Text from tracefs does not have the shape the kernel writes.

    The message says where (a 1-based line number) and what was expected there, never what
    the text holds: the file may be anything put where a kernel file belongs, and messages
    reach logs and clients. `line` holds that number, or None when the problem is not tied
    to one line. The parsers raise nothing else for bad input.
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


def shape(text: str) -> str:
    """What an error message says it got instead of `text`: its length, never its content."""
    if not text or text.isspace():
        return "nothing"
    return f"other text ({len(text)} characters)"
