"""Which instructions of a function can run, given the constants CO-RE patches in.

libbpf turns a relocation without a target into an invalid call; the verifier accepts it
when no path reaches it, as when `bpf_core_field_exists()` is false here and guards the
read. We follow register constants through moves and 64-bit immediate loads (with the
values libbpf patches into relocated instructions), decide branches whose operands are
both known, and merge states where paths join. Anything else makes a register unknown,
so an instruction we call unreachable is one the verifier cannot reach either; one we
call reachable may still be dead code on a path the verifier decides more precisely.
"""

from __future__ import annotations

import struct
from collections.abc import Container, Mapping

from ..btf._format import ByteOrder

__all__ = ["reachable"]

INSN = 8
_U64 = (1 << 64) - 1
_U32 = 0xFFFF_FFFF
_REGS = 11
State = tuple[int | None, ...]

_ALU, _ALU64, _JMP, _JMP32, _LD, _STX = 0x04, 0x07, 0x05, 0x06, 0x00, 0x03
_MOV, _EXIT, _CALL, _JA = 0xB0, 0x90, 0x80, 0x00


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _taken(op: int, a: int, b: int, bits: int) -> bool | None:
    """Whether the conditional jump `op` is taken for known operands; None: not a
    comparison we decide."""
    mask = (1 << bits) - 1
    ua, ub = a & mask, b & mask
    sa, sb = _signed(a, bits), _signed(b, bits)
    decisions = {
        0x10: ua == ub,
        0x50: ua != ub,
        0x20: ua > ub,
        0x30: ua >= ub,
        0xA0: ua < ub,
        0xB0: ua <= ub,
        0x40: bool(ua & ub),
        0x60: sa > sb,
        0x70: sa >= sb,
        0xC0: sa < sb,
        0xD0: sa <= sb,
    }
    return decisions.get(op)


def _merge(old: State, new: State) -> State:
    return tuple(a if a == b else None for a, b in zip(old, new, strict=True))


def reachable(
    code: bytes,
    first: int,
    end: int,
    *,
    byte_order: ByteOrder,
    patched: Mapping[int, int],
    relocated: Container[int],
) -> set[int]:
    """The instruction indexes in [first, end) of `code` (a section's bytes) that some
    path from `first` may reach. `patched` maps an instruction's index to the immediate
    libbpf writes into it (CO-RE values, 0 for a missing weak extern); 64-bit loads at
    `relocated` indexes (map and extern addresses) are otherwise unknown. Pure; linear
    in the function's size times the registers that can lose their constant."""
    fmt = "<BBhi" if byte_order == "little" else ">BBhi"
    little = byte_order == "little"

    def decode(index: int) -> tuple[int, int, int, int, int]:
        op, regs, off, imm = struct.unpack_from(fmt, code, index * INSN)
        if little:
            return op, regs & 0x0F, regs >> 4, off, imm
        return op, regs >> 4, regs & 0x0F, off, imm

    states: dict[int, State] = {first: (None,) * _REGS}
    work = [first]
    seen: set[int] = set()

    def flow(target: int, state: State) -> None:
        if not first <= target < end:
            return
        old = states.get(target)
        new = state if old is None else _merge(old, state)
        if old != new:
            states[target] = new
            work.append(target)

    while work:
        pc = work.pop()
        seen.add(pc)
        state = list(states[pc])
        op, dst, src, off, imm = decode(pc)
        cls = op & 0x07
        if cls in (_ALU, _ALU64):
            value: int | None = None
            if op & 0xF0 == _MOV and off == 0:
                known = _signed(patched[pc], 32) if pc in patched else imm
                value = known if not op & 0x08 else (state[src] if src < _REGS else None)
                if value is not None:
                    value = value & _U64 if cls == _ALU64 else value & _U32
            if dst < _REGS:
                state[dst] = value
            flow(pc + 1, tuple(state))
        elif cls == _LD:
            if op == 0x18 and pc + 1 < end:
                high = decode(pc + 1)[4]
                value = (imm & _U32) | (high & _U32) << 32 if src == 0 else None
                if pc in relocated:
                    value = None
                if pc in patched:
                    value = patched[pc] & _U64
                if dst < _REGS:
                    state[dst] = value
                flow(pc + 2, tuple(state))
            else:
                state[0] = None
                flow(pc + 1, tuple(state))
        elif cls in (_JMP, _JMP32):
            jop = op & 0xF0
            if jop == _EXIT and cls == _JMP:
                continue
            if jop == _CALL and cls == _JMP:
                for reg in range(6):
                    state[reg] = None
                flow(pc + 1, tuple(state))
                continue
            if jop == _JA:
                flow(pc + 1 + (imm if cls == _JMP32 else off), tuple(state))
                continue
            left = state[dst] if dst < _REGS else None
            right = (imm & _U64) if not op & 0x08 else (state[src] if src < _REGS else None)
            taken = None
            if left is not None and right is not None:
                taken = _taken(jop, left, right, 32 if cls == _JMP32 else 64)
            if taken is not False:
                flow(pc + 1 + off, tuple(state))
            if taken is not True:
                flow(pc + 1, tuple(state))
        else:
            if cls == _STX and op & 0xE0 == 0xC0:  # atomic: may write src or r0
                if src < _REGS:
                    state[src] = None
                state[0] = None
            elif cls == 0x01 and dst < _REGS:  # LDX
                state[dst] = None
            flow(pc + 1, tuple(state))
    return seen
