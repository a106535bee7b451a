"""Turn a BTF blob into a `Btf`: check the header, then index the type section in one walk."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence

from ._format import FIXED_WORDS, MAX_KIND, RECORD_WORDS, VLEN_WORDS, Header, parse_header
from ._strings import StringTable
from .errors import BtfError
from .index import Btf

__all__ = ["parse_btf"]


def parse_btf(
    data: bytes | bytearray | memoryview,
    *,
    base: Btf | None = None,
    object_name: str = "vmlinux",
) -> Btf:
    """Parse a BTF blob (the contents of /sys/kernel/btf/<object> or an object's .BTF).

    With `base`, the blob is split BTF: its type ids continue after `base.last_id` and its
    string offsets continue after the base's strings. The blob's sections are copied, so
    the caller may reuse its buffer and the result does not keep the blob alive. Types are
    indexed, not decoded: accessors on the result decode on use.

    Raises BtfError for a malformed header, sections outside the blob, an unknown kind or a
    record whose trailer runs past the type section. Pure: no I/O, and safe to run in a
    worker thread; it holds no locks and cannot be cancelled midway.
    """
    if base is not None and not isinstance(base, Btf):
        raise TypeError(f"base must be a Btf, not {type(base).__name__}")
    blob = bytes(data)
    header = parse_header(blob, object_name=object_name, split=base is not None)
    words = _words(blob, header)
    first_id = base.last_id + 1 if base is not None else 1
    positions = _index_types(words, header, first_id=first_id, object_name=object_name)
    strings = StringTable(
        blob[header.str_start : header.str_start + header.str_len],
        base=base._strings if base is not None else None,
        object_name=object_name,
    )
    return Btf(
        object_name=object_name,
        base=base,
        first_id=first_id,
        byte_order=header.byte_order,
        words=words,
        positions=positions,
        strings=strings,
    )


def _words(blob: bytes, header: Header) -> Sequence[int]:
    section = memoryview(blob)[header.type_start : header.type_start + header.type_len]
    if header.byte_order == sys.byteorder:
        # A copy of the type section alone: a view would keep the whole blob alive, its
        # string section too, which the string table already holds decoded.
        return memoryview(section.tobytes()).cast("I")
    swapped = array("I")
    swapped.frombytes(section)
    swapped.byteswap()
    return swapped


# Words per record by kind (header and fixed trailer); None marks kinds that cannot occur.
_STEP: tuple[int | None, ...] = tuple(RECORD_WORDS + f if f >= 0 else None for f in FIXED_WORDS)


def _index_types(
    words: Sequence[int], header: Header, *, first_id: int, object_name: str
) -> array[int]:
    """The word position of every record, in id order; checks kinds and trailer sizes.

    The loop does no checks of its own: it ends when reading the next record's info word
    runs off the section (IndexError), or at an unknown kind (TypeError, from its None
    step); what went wrong, if anything, is worked out afterwards.
    """
    positions = array("I")
    append = positions.append
    step = _STEP
    vlen_words = VLEN_WORDS
    n = len(words)
    pos = 0
    kind = 0
    info = 0
    try:
        while True:
            info = words[pos + 1]
            append(pos)
            kind = info >> 24 & 0x1F
            pos += step[kind] + vlen_words[kind] * (info & 0xFFFF)  # type: ignore[operator]
    except IndexError:
        pass
    except TypeError:
        last = positions[-1]
        if n - last >= RECORD_WORDS:
            tid = first_id + len(positions) - 1
            what = "void (0) cannot be stored" if kind == 0 else f"valid kinds are 1..{MAX_KIND}"
            raise BtfError(
                f"{object_name}: type id {tid} at byte {header.type_start + last * 4} has "
                f"unknown kind {kind}; {what}"
            ) from None
        pos = last
        del positions[-1]
    if positions and n - positions[-1] < RECORD_WORDS:
        pos = positions.pop()
    if pos < n:
        tid = first_id + len(positions)
        raise BtfError(
            f"{object_name}: type id {tid} at byte {header.type_start + pos * 4} is "
            f"truncated: {(n - pos) * 4} bytes left in the type section, a record "
            f"needs {RECORD_WORDS * 4}"
        )
    if pos > n:
        tid = first_id + len(positions) - 1
        start = header.type_start + positions[-1] * 4
        info = words[positions[-1] + 1]
        raise BtfError(
            f"{object_name}: type id {tid} at byte {start} (kind {info >> 24 & 0x1F}, "
            f"vlen {info & 0xFFFF}) runs {(pos - n) * 4} bytes past the end of "
            f"the type section at byte {header.type_start + n * 4}"
        )
    return positions
