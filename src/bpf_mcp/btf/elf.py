"""The `.BTF` section of an ELF file (a vmlinux, a module), read from bytes: pure, bounded.

Only what finding one section needs: the ELF header, the section headers and the section
name table. Both classes (32/64-bit) and both byte orders are read; anything malformed
raises BtfError naming what is wrong, never echoing the file's content.
"""

from __future__ import annotations

import struct

from .errors import BtfError

ELF_MAGIC = b"\x7fELF"


def is_elf(data: bytes) -> bool:
    return data[:4] == ELF_MAGIC


def btf_section(data: bytes, name: str = ".BTF") -> bytes:
    """The bytes of section `name` (by default `.BTF`) of the ELF file `data`.

    Raises BtfError when `data` is not a well-formed ELF file or has no such section.
    """
    if not is_elf(data) or len(data) < 16:
        raise BtfError("not an ELF file")
    elf_class, encoding = data[4], data[5]
    if elf_class not in (1, 2) or encoding not in (1, 2):
        raise BtfError("an ELF file of unknown class or byte order")
    order = "<" if encoding == 1 else ">"
    wide = elf_class == 2
    header = order + ("16xHHIQQQIHHHHHH" if wide else "16xHHIIIIIHHHHHH")
    if len(data) < struct.calcsize(header):
        raise BtfError("a truncated ELF header")
    fields = struct.unpack_from(header, data)
    shoff, shentsize, shnum, shstrndx = fields[5], fields[10], fields[11], fields[12]
    section = order + ("IIQQQQIIQQ" if wide else "IIIIIIIIII")
    if shentsize < struct.calcsize(section) or shnum == 0 or shstrndx >= shnum:
        raise BtfError("an ELF file without a usable section table")
    if shoff + shnum * shentsize > len(data):
        raise BtfError("an ELF section table past the end of the file")

    def entry(index: int) -> tuple[int, int, int]:
        values = struct.unpack_from(section, data, shoff + index * shentsize)
        name_offset, offset, size = values[0], values[4], values[5]
        if values[1] != 8 and offset + size > len(data):  # SHT_NOBITS holds no bytes
            raise BtfError(f"ELF section {index} lies past the end of the file")
        return name_offset, offset, size

    _, names_at, names_size = entry(shstrndx)
    names = data[names_at : names_at + names_size]
    wanted = name.encode()
    for index in range(shnum):
        name_offset, offset, size = entry(index)
        end = names.find(b"\0", name_offset)
        if 0 <= name_offset < len(names) and end >= 0 and names[name_offset:end] == wanted:
            return data[offset : offset + size]
    raise BtfError(f"the ELF file has no {name} section")
