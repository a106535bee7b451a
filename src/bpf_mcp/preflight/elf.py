"""Read a BPF ELF object (clang -target bpf) into frozen values, with pyelftools.

Only what a preflight check needs: sections with their bytes, the symbol table, the
relocations of each section, and the object's license. Pure: bytes in, values out.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping

import attrs
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import Section as ElfSection
from elftools.elf.sections import SymbolTableSection

from ..btf._format import ByteOrder
from .errors import ObjectError

__all__ = ["MAX_OBJECT_BYTES", "BpfObject", "ElfRelocation", "Section", "Symbol", "read_object"]

MAX_OBJECT_BYTES = 16 * 1024 * 1024
EM_BPF = 247
ET_REL = 1
SHF_EXECINSTR = 0x4
_IDENT = 16
_EHDR64 = 64


@attrs.frozen
class Section:
    """One ELF section: its index, name, type (e.g. "SHT_PROGBITS"), flags and bytes.

    `data` is empty for SHT_NOBITS sections (.bss); `size` is the size they occupy.
    """

    index: int
    name: str
    type: str
    flags: int
    size: int
    data: bytes = attrs.field(repr=False)

    @property
    def executable(self) -> bool:
        """True for sections holding BPF instructions."""
        return bool(self.flags & SHF_EXECINSTR) and self.type == "SHT_PROGBITS"


@attrs.frozen
class Symbol:
    """A symbol-table entry. `section_index` is -1 for undefined (extern) symbols and
    other special indexes; `bind` and `type` are pyelftools' names (STB_GLOBAL, STT_FUNC)."""

    index: int
    name: str
    value: int
    size: int
    section_index: int
    bind: str
    type: str


@attrs.frozen
class ElfRelocation:
    """A REL entry: the byte offset it patches in its section and the symbol it names."""

    offset: int
    symbol_index: int
    type: int


@attrs.frozen
class BpfObject:
    """A BPF object file as sections, symbols and per-section relocations.

    `relocations` maps a section index to the relocations that patch it, in file order.
    """

    name: str
    byte_order: ByteOrder
    sections: tuple[Section, ...] = attrs.field(repr=False)
    symbols: tuple[Symbol, ...] = attrs.field(repr=False)
    relocations: Mapping[int, tuple[ElfRelocation, ...]] = attrs.field(repr=False, eq=False)

    def section(self, name: str) -> Section | None:
        """The first section called `name`, or None."""
        for section in self.sections:
            if section.name == name:
                return section
        return None

    @property
    def license(self) -> str | None:
        """The string in the `license` section, or None when there is none."""
        section = self.section("license")
        if section is None:
            return None
        return section.data.split(b"\0", 1)[0].decode("ascii", errors="replace")


def read_object(data: bytes, *, name: str = "object") -> BpfObject:
    """Read `data` as a relocatable BPF ELF object called `name` in messages.

    Raises ObjectError, with a sentence that names `name` and what is wrong, for input
    over 16 MiB, a truncated or non-ELF file, a 32-bit object, another machine than BPF,
    a file that is not relocatable (.o), and sections or tables that lie outside the file.
    Nothing of the file's content is quoted in the message. Pure; not cancellable midway.
    """
    order = _check_header(data, name)
    try:
        elf = ELFFile(io.BytesIO(data))
        sections = tuple(_sections(elf, data, name))
        symbols: tuple[Symbol, ...] = ()
        relocations: dict[int, tuple[ElfRelocation, ...]] = {}
        for raw in elf.iter_sections():
            if isinstance(raw, SymbolTableSection) and raw["sh_type"] == "SHT_SYMTAB":
                symbols = tuple(_symbols(raw, len(sections)))
            elif isinstance(raw, RelocationSection) and not raw.is_RELA():
                target = raw["sh_info"]
                relocations[target] = tuple(
                    ElfRelocation(rel["r_offset"], rel["r_info_sym"], rel["r_info_type"])
                    for rel in raw.iter_relocations()
                )
    except ObjectError:
        raise
    except Exception as err:
        # pyelftools raises ELFError, struct.error and its construct layer's own classes
        # for truncated or inconsistent tables; all mean the same to the caller.
        raise ObjectError(
            f"{name}: the ELF structure is malformed ({type(err).__name__} while reading "
            "its sections, symbols or relocations); rebuild it with clang -target bpf"
        ) from None
    for target in relocations:
        if not 0 <= target < len(sections):
            raise ObjectError(
                f"{name}: a relocation section names section {target}, beyond the "
                f"{len(sections)} sections of the file"
            )
    return BpfObject(name, order, sections, symbols, relocations)


def _check_header(data: bytes, name: str) -> ByteOrder:
    if len(data) > MAX_OBJECT_BYTES:
        raise ObjectError(
            f"{name}: {len(data):,} bytes is more than the {MAX_OBJECT_BYTES:,}-byte limit "
            "for a BPF object"
        )
    if len(data) < _IDENT or data[:4] != b"\x7fELF":
        raise ObjectError(
            f"{name}: not an ELF file (it does not start with the ELF magic); give the .o "
            "that clang -target bpf -c produced"
        )
    if data[4] != 2:
        raise ObjectError(f"{name}: a 32-bit ELF file; BPF objects are 64-bit ELF")
    if data[5] not in (1, 2):
        raise ObjectError(f"{name}: the ELF byte-order field is invalid ({data[5]})")
    order: ByteOrder = "little" if data[5] == 1 else "big"
    if len(data) < _EHDR64:
        raise ObjectError(
            f"{name}: truncated: {len(data)} bytes, fewer than the 64-byte ELF header"
        )
    fmt = "<HH" if order == "little" else ">HH"
    e_type, e_machine = struct.unpack_from(fmt, data, 16)
    if e_machine != EM_BPF:
        raise ObjectError(
            f"{name}: an ELF object for machine {e_machine}, not BPF ({EM_BPF}); compile "
            "with clang -target bpf"
        )
    if e_type != ET_REL:
        raise ObjectError(
            f"{name}: ELF type {e_type} is not a relocatable object (1); give the .o that "
            "clang -c produced, not a linked file"
        )
    return order


def _sections(elf: ELFFile, data: bytes, name: str) -> list[Section]:
    sections = []
    size = len(data)
    for index, raw in enumerate(elf.iter_sections()):
        assert isinstance(raw, ElfSection)
        kind = raw["sh_type"]
        length = raw["sh_size"]
        offset = raw["sh_offset"]
        if kind not in ("SHT_NOBITS", "SHT_NULL") and offset + length > size:
            raise ObjectError(
                f"{name}: section {index} runs past the end of the file (bytes "
                f"{offset}..{offset + length} of {size}); the file is truncated"
            )
        body = b"" if kind in ("SHT_NOBITS", "SHT_NULL") else data[offset : offset + length]
        sections.append(
            Section(index, raw.name, str(kind), int(raw["sh_flags"]), int(length), body)
        )
    return sections


def _symbols(table: SymbolTableSection, section_count: int) -> list[Symbol]:
    symbols = []
    for index, sym in enumerate(table.iter_symbols()):
        shndx = sym["st_shndx"]
        section = shndx if isinstance(shndx, int) and shndx < section_count else -1
        info = sym["st_info"]
        symbols.append(
            Symbol(
                index,
                sym.name,
                int(sym["st_value"]),
                int(sym["st_size"]),
                section,
                str(info["bind"]),
                str(info["type"]),
            )
        )
    return symbols
