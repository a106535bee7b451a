"""The errors of reading a BPF object: each names what is wrong, never the file's bytes."""

from __future__ import annotations

from ..errors import InvalidArgument

__all__ = ["BtfExtError", "ObjectError"]


class ObjectError(InvalidArgument):
    """The bytes given are not a BPF ELF object that can be checked.

    The message names the object (the name the caller gave it), what is wrong (truncated,
    not ELF, wrong machine, no BTF...) and what to do; it quotes no bytes of the file.
    """


class BtfExtError(ObjectError):
    """The object's `.BTF.ext` section is malformed: its header, a record size, a section
    count, or a string offset into `.BTF` is out of range."""
