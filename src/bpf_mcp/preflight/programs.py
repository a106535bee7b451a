"""Find an object's programs and what their instructions use, as libbpf sees them.

Programs are the non-static functions in executable sections other than `.text`; the
functions in `.text` are subprograms, pulled into every program that calls them (BPF
to BPF calls, followed through relocations). For each program we collect its helper calls
(`call` with src_reg 0: the immediate is a `bpf_func_id`), its calls to extern functions
(kfuncs), the extern variables and maps its 64-bit immediate loads refer to, and the
instruction ranges (section, first, end) its code spans, which decide which CO-RE
relocations are its.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import attrs

from .elf import BpfObject, Section, Symbol
from .errors import ObjectError

__all__ = ["Program", "code_owner", "find_programs"]

INSN = 8
_CALL = 0x85  # BPF_JMP | BPF_CALL
_LD_IMM64 = 0x18
PSEUDO_CALL = 1
TEXT = ".text"


@attrs.frozen
class Program:
    """One program: its symbol name, section, whether libbpf loads it by default (no `?`
    before the section name), the spans of code it runs (its own and its subprograms'),
    helper ids called (id -> first instruction index), extern functions called and the
    symbols its immediate loads name (maps, extern variables, global data)."""

    name: str
    section: str
    autoload: bool
    spans: tuple[tuple[str, int, int], ...]
    helpers: dict[int, int] = attrs.field(eq=False)
    extern_calls: tuple[str, ...]
    loads: tuple[str, ...]
    subprograms: tuple[str, ...]
    static: bool = False

    def covers(self, section: str, insn: int) -> bool:
        """True when instruction `insn` of `section` is part of this program's code."""
        return any(s == section and first <= insn < end for s, first, end in self.spans)


@attrs.frozen
class _Function:
    name: str
    section: Section
    first: int
    end: int
    static: bool


def find_programs(obj: BpfObject) -> list[Program]:
    """The programs of `obj`, in section then offset order.

    Raises ObjectError when a function symbol lies outside its section.
    """
    functions = list(_functions(obj))
    by_start = {(f.section.index, f.first): f for f in functions}
    programs = []
    for fn in functions:
        if fn.section.name == TEXT:
            continue
        reached = _reachable(obj, fn, by_start)
        helpers: dict[int, int] = {}
        extern_calls: list[str] = []
        loads: list[str] = []
        for part in reached:
            for index, code, src, imm, symbol in _instructions(obj, part):
                if code == _CALL and src == 0 and symbol is None:
                    helpers.setdefault(imm, index)
                elif code == _CALL and symbol is not None and symbol.section_index < 0:
                    _add(extern_calls, symbol.name)
                elif code == _LD_IMM64 and symbol is not None:
                    _add(loads, symbol.name)
        section = fn.section.name
        programs.append(
            Program(
                name=fn.name,
                section=section.removeprefix("?"),
                autoload=not section.startswith("?"),
                spans=tuple((p.section.name, p.first, p.end) for p in reached),
                helpers=helpers,
                extern_calls=tuple(extern_calls),
                loads=tuple(loads),
                subprograms=tuple(p.name for p in reached[1:]),
                static=fn.static,
            )
        )
    return programs


def code_owner(obj: BpfObject) -> dict[str, list[tuple[int, int, bool]]]:
    """Per section name, the (first, end, autoload) instruction span of every function,
    programs and subprograms alike: a CO-RE relocation outside all of them belongs to
    code the linker dropped, and libbpf skips it, as it skips those of programs that
    are not loaded automatically."""
    spans: dict[str, list[tuple[int, int, bool]]] = {}
    for fn in _functions(obj):
        name = fn.section.name
        spans.setdefault(name, []).append((fn.first, fn.end, not name.startswith("?")))
    return spans


def _add(items: list[str], name: str) -> None:
    if name not in items:
        items.append(name)


def _functions(obj: BpfObject) -> Iterator[_Function]:
    sections = obj.sections
    for sym in obj.symbols:
        if sym.type != "STT_FUNC" or sym.section_index <= 0:
            continue
        section = sections[sym.section_index]
        if not section.executable:
            continue
        if sym.value % INSN or sym.size % INSN or sym.value + sym.size > len(section.data):
            raise ObjectError(
                f"{obj.name}: function symbol {sym.index} lies outside its section "
                f"{section.index} (bytes {sym.value}..{sym.value + sym.size})"
            )
        yield _Function(
            sym.name,
            section,
            sym.value // INSN,
            (sym.value + sym.size) // INSN,
            sym.bind == "STB_LOCAL",
        )


def _reachable(
    obj: BpfObject, entry: _Function, by_start: dict[tuple[int, int], _Function]
) -> list[_Function]:
    """`entry` and the functions it calls, directly or not, entry first."""
    order = [entry]
    seen = {(entry.section.index, entry.first)}
    for fn in order:
        for index, code, src, imm, symbol in _instructions(obj, fn):
            if code != _CALL or src != PSEUDO_CALL:
                continue
            if symbol is None:
                key = (fn.section.index, index + imm + 1)
            elif symbol.section_index > 0:
                key = (symbol.section_index, symbol.value // INSN + imm + 1)
            else:
                continue
            callee = by_start.get(key)
            if callee is not None and key not in seen:
                seen.add(key)
                order.append(callee)
    return order


def _instructions(
    obj: BpfObject, fn: _Function
) -> Iterator[tuple[int, int, int, int, Symbol | None]]:
    """(index in section, opcode, src_reg, imm, relocated symbol) per instruction slot."""
    data = fn.section.data
    relocated = {
        rel.offset // INSN: rel.symbol_index
        for rel in obj.relocations.get(fn.section.index, ())
        if fn.first * INSN <= rel.offset < fn.end * INSN
    }
    symbols = obj.symbols
    little = obj.byte_order == "little"
    fmt = "<BBhi" if little else ">BBhi"
    index = fn.first
    while index < fn.end:
        code, regs, _off, imm = struct.unpack_from(fmt, data, index * INSN)
        src = regs >> 4 if little else regs & 0x0F
        sym_index = relocated.get(index)
        symbol = symbols[sym_index] if sym_index is not None and sym_index < len(symbols) else None
        yield index, code, src, imm, symbol
        index += 2 if code == _LD_IMM64 else 1
