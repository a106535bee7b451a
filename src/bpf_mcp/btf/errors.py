"""The BTF parser's one error type."""

from __future__ import annotations


class BtfError(Exception):
    """A BTF blob is malformed, or a question was asked that the blob cannot answer.

    The message names what is wrong and where: the object, a byte offset or a type id.
    The parser raises nothing else for bad input.
    """
