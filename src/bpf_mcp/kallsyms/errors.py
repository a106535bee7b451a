"""The kallsyms parser's one error type."""

from __future__ import annotations


class KallsymsError(Exception):
    """Text is not in the shape of /proc/kallsyms, or a table was built inconsistently.

    The message names the 1-based line number (counted from the `first_line` the caller gave)
    and what was expected there; `line` holds that number, or None when the problem is not
    tied to one line. The parser raises nothing else for bad input.
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line
