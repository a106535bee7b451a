"""Parse an object's `.BTF.ext`: function info and CO-RE relocation records.

Layout (include/uapi/linux/btf.h, Documentation/bpf/btf.rst): a header (magic 0xEB9F,
version, flags, hdr_len, then offset/length pairs for func_info, line_info and, when
hdr_len allows, core_relo; offsets count from the end of the header). Each info part is
a u32 record size, then groups of {u32 section name offset in .BTF strings, u32 count,
count records}. Line info is checked for shape and otherwise skipped.
"""

from __future__ import annotations

import struct

import attrs

from ..btf import Btf, BtfError
from ..btf._format import ByteOrder
from .errors import BtfExtError

__all__ = ["BtfExt", "CoreRelo", "FuncInfo", "parse_btf_ext"]

_MAGIC = 0xEB9F
_MIN_HEADER = 24
_CORE_HEADER = 32
_FUNC_REC = 8
_LINE_REC = 16
_CORE_REC = 16


@attrs.frozen
class FuncInfo:
    """A function's BTF: its ELF section, byte offset of its first instruction, FUNC id."""

    section: str
    insn_off: int
    type_id: int


@attrs.frozen
class CoreRelo:
    """One `bpf_core_relo` record: where (section, byte offset of the instruction), the
    local root type, the raw access string ("0:1:2") and the relocation kind number.

    `index` counts records within the section, as libbpf numbers them in its log.
    """

    section: str
    index: int
    insn_off: int
    type_id: int
    access: str
    kind: int


@attrs.frozen
class BtfExt:
    """The decoded parts of a `.BTF.ext` section."""

    func_info: tuple[FuncInfo, ...]
    core_relos: tuple[CoreRelo, ...]
    line_info_count: int


def parse_btf_ext(data: bytes, btf: Btf, *, byte_order: ByteOrder, name: str) -> BtfExt:
    """Decode `data`, the `.BTF.ext` of object `name`, whose strings live in `btf`.

    Raises BtfExtError naming the part and the byte offset that is wrong: a short or
    foreign header, a part outside the section, a record size below the minimum, a group
    whose records run past its part, or a string offset outside `.BTF`. Pure.
    """
    end = "<" if byte_order == "little" else ">"
    if len(data) < _MIN_HEADER:
        raise BtfExtError(
            f"{name}: .BTF.ext is truncated: {len(data)} bytes, the header needs {_MIN_HEADER}"
        )
    magic, version, _flags, hdr_len = struct.unpack_from(end + "HBBI", data, 0)
    if magic != _MAGIC:
        raise BtfExtError(
            f"{name}: .BTF.ext does not start with the BTF magic 0xeb9f in the object's byte order"
        )
    if version != 1:
        raise BtfExtError(f"{name}: .BTF.ext version {version} is not 1")
    if hdr_len < _MIN_HEADER or hdr_len > len(data):
        raise BtfExtError(
            f"{name}: .BTF.ext header length {hdr_len} is outside {_MIN_HEADER}.."
            f"{len(data)} (the section size)"
        )
    func_off, func_len, line_off, line_len = struct.unpack_from(end + "IIII", data, 8)
    core_off = core_len = 0
    if hdr_len >= _CORE_HEADER:
        core_off, core_len = struct.unpack_from(end + "II", data, 24)
    reader = _Reader(data, hdr_len, end, btf, name)
    func_info = [
        FuncInfo(section, off, type_id)
        for section, _, (off, type_id) in reader.part("func_info", func_off, func_len, _FUNC_REC)
    ]
    line_count = sum(1 for _ in reader.part("line_info", line_off, line_len, _LINE_REC, 0))
    relos = []
    for section, index, fields in reader.part("core_relo", core_off, core_len, _CORE_REC):
        insn_off, type_id, access_off, kind = fields
        relos.append(
            CoreRelo(section, index, insn_off, type_id, reader.string(access_off, "access"), kind)
        )
    return BtfExt(tuple(func_info), tuple(relos), line_count)


class _Reader:
    def __init__(self, data: bytes, hdr_len: int, end: str, btf: Btf, name: str) -> None:
        self.data = data
        self.hdr_len = hdr_len
        self.end = end
        self.btf = btf
        self.name = name

    def string(self, offset: int, what: str) -> str:
        try:
            return self.btf.string_at(offset, what)
        except BtfError:
            raise BtfExtError(
                f"{self.name}: a .BTF.ext {what} string offset ({offset}) is outside the "
                ".BTF string section"
            ) from None

    def part(
        self, what: str, offset: int, length: int, min_rec: int, fields: int = -1
    ) -> list[tuple[str, int, tuple[int, ...]]]:
        """(section name, index in section, the record's first u32 fields) per record."""
        if length == 0:
            return []
        name = self.name
        start = self.hdr_len + offset
        if offset % 4 or start + length > len(self.data) or length < 4:
            raise BtfExtError(
                f"{name}: .BTF.ext {what} (offset {offset}, length {length}) lies outside "
                f"the {len(self.data)}-byte section or is misaligned"
            )
        (rec_size,) = struct.unpack_from(self.end + "I", self.data, start)
        if rec_size < min_rec or rec_size % 4:
            raise BtfExtError(
                f"{name}: .BTF.ext {what} record size {rec_size} is invalid (at least "
                f"{min_rec}, a multiple of 4)"
            )
        count = min_rec // 4 if fields < 0 else fields
        fmt = self.end + "I" * count
        pos, stop = start + 4, start + length
        if pos == stop:
            raise BtfExtError(f"{name}: .BTF.ext {what} has a record size but no records")
        out: list[tuple[str, int, tuple[int, ...]]] = []
        while pos < stop:
            if stop - pos < 8:
                raise BtfExtError(
                    f"{name}: .BTF.ext {what} group header at byte {pos} is truncated"
                )
            sec_off, num = struct.unpack_from(self.end + "II", self.data, pos)
            if num == 0 or stop - pos - 8 < num * rec_size:
                raise BtfExtError(
                    f"{name}: .BTF.ext {what} group at byte {pos} claims {num} records of "
                    f"{rec_size} bytes, which do not fit in its {stop - pos - 8} bytes"
                )
            section = self.string(sec_off, f"{what} section name")
            pos += 8
            for index in range(num):
                out.append((section, index, struct.unpack_from(fmt, self.data, pos)))
                pos += rec_size
        return out
