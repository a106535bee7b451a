"""The BTF wire format: header layout, section checks and per-kind record sizes."""

from __future__ import annotations

import struct
from typing import Literal

import attrs

from .errors import BtfError

MAGIC = 0xEB9F
VERSION = 1
HEADER_SIZE = 24
RECORD_WORDS = 3  # name_off, info, size_or_type

# Extra words after the 3-word record: a fixed part and a part per vlen item, by kind.
# -1 marks kinds that cannot appear in a type section (void, and kinds 20..31).
FIXED_WORDS: tuple[int, ...] = (-1, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0) + (
    -1,
) * 12
VLEN_WORDS: tuple[int, ...] = (0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3) + (
    0,
) * 12
MAX_KIND = 19

ByteOrder = Literal["little", "big"]


@attrs.frozen
class Header:
    """A validated BTF header; section offsets are absolute byte offsets into the blob."""

    byte_order: ByteOrder
    hdr_len: int
    type_start: int
    type_len: int
    str_start: int
    str_len: int


def parse_header(data: bytes, *, object_name: str, split: bool) -> Header:
    """Read and check the header of `data`.

    Promises that both sections lie inside the blob, do not overlap, that the type section
    is 4-byte aligned with a length that is a multiple of 4, and that a non-empty string
    section ends with NUL (and, unless `split`, is non-empty and starts with NUL).
    Raises BtfError naming the first field that is wrong and its byte offset.
    """
    size = len(data)
    if size < HEADER_SIZE:
        raise BtfError(
            f"{object_name}: BTF header truncated: the blob has {size} bytes, "
            f"the header needs {HEADER_SIZE}"
        )
    if data[:2] == b"\x9f\xeb":
        order: ByteOrder = "little"
        fmt = "<HBBIIIII"
    elif data[:2] == b"\xeb\x9f":
        order = "big"
        fmt = ">HBBIIIII"
    else:
        # The bytes found are not quoted: the file may be anything put where BTF belongs.
        elf = (
            " (it is an ELF file: its .BTF section holds the blob)"
            if data[:4] == b"\x7fELF"
            else ""
        )
        raise BtfError(
            f"{object_name}: bad BTF magic at byte 0 (expected 0x{MAGIC:04x} in either byte"
            f" order){elf}"
        )
    _magic, version, _flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(
        fmt, data, 0
    )
    if version != VERSION:
        raise BtfError(
            f"{object_name}: unsupported BTF version {version} at byte 2 "
            f"(only version {VERSION} is known)"
        )
    if hdr_len < HEADER_SIZE:
        raise BtfError(
            f"{object_name}: header length {hdr_len} at byte 4 is shorter than "
            f"the {HEADER_SIZE}-byte header"
        )
    if hdr_len > size:
        raise BtfError(
            f"{object_name}: header length {hdr_len} at byte 4 runs past the end "
            f"of the blob ({size} bytes)"
        )
    type_start = hdr_len + type_off
    str_start = hdr_len + str_off
    if type_start % 4:
        raise BtfError(
            f"{object_name}: type section at byte {type_start} (type_off {type_off} at byte 8) "
            "is not 4-byte aligned"
        )
    if type_len % 4:
        raise BtfError(
            f"{object_name}: type section length {type_len} at byte 12 is not a multiple of 4"
        )
    _check_inside(object_name, "type", type_start, type_len, size)
    _check_inside(object_name, "string", str_start, str_len, size)
    if (
        type_len
        and str_len
        and type_start < str_start + str_len
        and str_start < type_start + type_len
    ):
        raise BtfError(
            f"{object_name}: type section [{type_start}, {type_start + type_len}) and string "
            f"section [{str_start}, {str_start + str_len}) overlap"
        )
    if str_len == 0:
        if not split:
            raise BtfError(
                f"{object_name}: string section is empty; a base BTF needs at least the empty name"
            )
    else:
        if not split and data[str_start] != 0:
            raise BtfError(
                f"{object_name}: string section at byte {str_start} does not start with NUL"
            )
        if data[str_start + str_len - 1] != 0:
            raise BtfError(
                f"{object_name}: string section does not end with NUL "
                f"(byte {str_start + str_len - 1})"
            )
    return Header(order, hdr_len, type_start, type_len, str_start, str_len)


def _check_inside(object_name: str, what: str, start: int, length: int, size: int) -> None:
    if start + length > size:
        raise BtfError(
            f"{object_name}: {what} section [{start}, {start + length}) runs past the end "
            f"of the blob ({size} bytes)"
        )
