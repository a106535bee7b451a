"""CO-RE relocation resolution against a target kernel's BTF, by libbpf's rules.

For each `bpf_core_relo` of an object, in `.BTF.ext` order: parse the access string into
a spec over the object's own BTF; find candidate kernel types (same kind, same essential
name, `___flavor` suffixes ignored); match the spec against each candidate (named fields
by name through anonymous members, array indexes within bounds, compatible types); and
compute the value libbpf would patch into the instruction, checking the instruction the
way libbpf does before it patches. Candidate lists are kept per local type and narrowed
to the matching ones as relocations go, as libbpf does.

Outcomes: `ok` (patched), `poisoned` (no target: libbpf turns the instruction into an
invalid call the verifier rejects if it is reachable), or `failed` (libbpf refuses to
load the object: an ambiguity, a malformed record, a bitfield wider than 8 bytes...).
"""

from __future__ import annotations

import enum
import functools
import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import attrs

from ..btf import Btf, BtfError, Kind, Member
from ..btf._format import ByteOrder
from .btf_ext import CoreRelo
from .relations import (
    essential_name,
    fields_compatible,
    kinds_compatible,
    resolve_size,
    types_compatible,
    types_match,
)

__all__ = ["Accessor", "CoreOutcome", "ReloKind", "Spec", "resolve_relocations"]

MAX_SPEC_LEN = 64
INSN_SIZE = 8
SHRT_MAX = 0x7FFF
_U64 = (1 << 64) - 1


class ReloKind(enum.IntEnum):
    """`enum bpf_core_relo_kind`, with libbpf's short labels."""

    FIELD_BYTE_OFFSET = 0
    FIELD_BYTE_SIZE = 1
    FIELD_EXISTS = 2
    FIELD_SIGNED = 3
    FIELD_LSHIFT_U64 = 4
    FIELD_RSHIFT_U64 = 5
    TYPE_ID_LOCAL = 6
    TYPE_ID_TARGET = 7
    TYPE_EXISTS = 8
    TYPE_SIZE = 9
    ENUMVAL_EXISTS = 10
    ENUMVAL_VALUE = 11
    TYPE_MATCHES = 12

    @property
    def label(self) -> str:
        """libbpf's name for the kind in its logs: byte_off, field_exists, type_size..."""
        return _LABELS[self]

    @property
    def family(self) -> Literal["field", "type", "enumval"]:
        """What the relocation is about: a field, a type or an enumerator."""
        if self <= ReloKind.FIELD_RSHIFT_U64:
            return "field"
        if self in (ReloKind.ENUMVAL_EXISTS, ReloKind.ENUMVAL_VALUE):
            return "enumval"
        return "type"


_LABELS = {
    ReloKind.FIELD_BYTE_OFFSET: "byte_off",
    ReloKind.FIELD_BYTE_SIZE: "byte_sz",
    ReloKind.FIELD_EXISTS: "field_exists",
    ReloKind.FIELD_SIGNED: "signed",
    ReloKind.FIELD_LSHIFT_U64: "lshift_u64",
    ReloKind.FIELD_RSHIFT_U64: "rshift_u64",
    ReloKind.TYPE_ID_LOCAL: "local_type_id",
    ReloKind.TYPE_ID_TARGET: "target_type_id",
    ReloKind.TYPE_EXISTS: "type_exists",
    ReloKind.TYPE_SIZE: "type_size",
    ReloKind.ENUMVAL_EXISTS: "enumval_exists",
    ReloKind.ENUMVAL_VALUE: "enumval_value",
    ReloKind.TYPE_MATCHES: "type_matches",
}
_EXISTENCE = frozenset({ReloKind.FIELD_EXISTS, ReloKind.TYPE_EXISTS, ReloKind.ENUMVAL_EXISTS})


@attrs.frozen
class Accessor:
    """One meaningful step of an access: a named member (its composite's id, member
    index, name) or an array index (the element type id, the index, name None)."""

    type_id: int
    index: int
    name: str | None


@attrs.frozen
class Spec:
    """An access resolved in one BTF: high-level accessors, the raw access string as
    indexes (anonymous members included) and the bit offset from the root."""

    root_type_id: int
    accessors: tuple[Accessor, ...]
    raw: tuple[int, ...]
    bit_offset: int

    @property
    def raw_text(self) -> str:
        """The raw access string, e.g. "0:92"."""
        return ":".join(str(i) for i in self.raw)


Status = Literal["ok", "poisoned", "failed"]
_MemberIndex = tuple[dict[str, int], tuple[int, ...]]


@attrs.frozen
class CoreOutcome:
    """What libbpf would do with one CO-RE relocation on the target kernel.

    `insn` is the instruction index within the ELF section; `access` reads like C
    (`task_struct.pid`, `bpf_func_id::BPF_FUNC_map_lookup_elem`); `local_value` is what
    the compiler wrote for the object's own types and `target_value` what the kernel's
    types give (None when poisoned or failed). `candidates` are the kernel type ids
    tried, `matched` those that matched; `target_spec` is the first match's access and
    `local_spec` the object's own (None when the record could not be read).
    `sentence` says why, when the status is not "ok" or an existence check gave 0.
    """

    section: str
    index: int
    insn: int
    kind: ReloKind
    local_type_id: int
    local_type: str
    access: str
    status: Status
    local_value: int | None
    target_value: int | None
    candidates: tuple[int, ...]
    matched: tuple[int, ...]
    target_spec: Spec | None
    sentence: str
    local_spec: Spec | None = None

    @property
    def ok(self) -> bool:
        """True when libbpf patches the instruction (an existence check of 0 included)."""
        return self.status == "ok"


class _Failure(Exception):
    """libbpf gives up on the object at this relocation; the message says why."""


def resolve_relocations(
    local: Btf,
    relos: Iterable[CoreRelo],
    target: Btf,
    *,
    byte_order: ByteOrder,
    instruction: Callable[[CoreRelo], bytes | None],
) -> list[CoreOutcome]:
    """Resolve every relocation of `relos` (one object's, in `.BTF.ext` order) against
    `target`. `instruction(relo)` gives the 16 bytes at the relocated instruction (8 if
    it is the section's last), or None when the record points outside its section.

    Never raises for bad records or types: each problem becomes a `failed` outcome with
    a sentence. Pure; a relocation takes well under a millisecond on vmlinux BTF.
    """
    resolver = _Resolver(local, target, byte_order)
    return [resolver.resolve(relo, instruction(relo)) for relo in relos]


def _kind_name(btf: Btf, tid: int) -> str:
    """ "struct task_struct", "enum bpf_func_id", "typedef pid_t", "void"."""
    if tid == 0:
        return "void"
    kind = btf.kind(tid)
    name = btf.name(tid) or "<anon>"
    if kind in (Kind.INT, Kind.FLOAT):
        return name
    if kind is Kind.PTR:
        return "a pointer"
    if kind is Kind.ARRAY:
        return "an array"
    return f"{kind.label} {name}"


def _describe(btf: Btf, kind: ReloKind, spec: Spec) -> str:
    root = spec.root_type_id
    name = btf.name(root) or "<anon>"
    if kind.family == "type":
        return name
    if kind.family == "enumval":
        acc = spec.accessors[0]
        return f"{name}::{acc.name}"
    parts = [name]
    for i, acc in enumerate(spec.accessors):
        if acc.name is not None:
            parts.append(f".{acc.name}")
        elif i > 0 or acc.index > 0:
            parts.append(f"[{acc.index}]")
    return "".join(parts)


@attrs.frozen
class _Result:
    """The values libbpf computes for one candidate (or for none)."""

    orig: int = 0
    new: int = 0
    poison: bool = False
    validate: bool = True
    fail_memsz: bool = False
    orig_size: int = 0
    new_size: int = 0


@attrs.frozen
class _FieldValue:
    value: int
    validate: bool
    size: int = 0
    type_id: int = 0


class _Resolver:
    def __init__(self, local: Btf, target: Btf, byte_order: ByteOrder) -> None:
        self.local = local
        self.target = target
        self.byte_order = byte_order
        self.cands: dict[int, list[int]] = {}
        self.local_members: dict[int, tuple[Member, ...]] = {}

    # -- one relocation ------------------------------------------------------------------

    def resolve(self, relo: CoreRelo, insn: bytes | None) -> CoreOutcome:
        try:
            kind = ReloKind(relo.kind)
        except ValueError:
            return self._outcome(relo, None, None, failure=f"unknown relocation kind {relo.kind}")
        local_spec: Spec | None = None
        try:
            local_spec = self._parse(relo, kind)
            return self._resolve(relo, kind, local_spec, insn)
        except (_Failure, BtfError) as err:
            return self._outcome(relo, kind, local_spec, failure=str(err))

    def _resolve(
        self, relo: CoreRelo, kind: ReloKind, local_spec: Spec, insn: bytes | None
    ) -> CoreOutcome:
        """The outcome of one parsed relocation; raises _Failure where libbpf gives up."""
        if relo.insn_off % INSN_SIZE or insn is None:
            raise _Failure(
                f"the record points at byte {relo.insn_off} of section {relo.section}, "
                "which is not an instruction there"
            )
        if kind is ReloKind.TYPE_ID_LOCAL:
            self._patch(insn, _Result(relo.type_id, relo.type_id, validate=False))
            return self._outcome(
                relo, kind, local_spec, local_value=relo.type_id, target_value=relo.type_id
            )
        if not self.local.name(relo.type_id):
            raise _Failure("libbpf does not relocate anonymous types")
        tried = tuple(self._candidates(relo.type_id))
        result, matched, spec, notes = self._match(kind, local_spec, list(tried))
        poisoned = self._patch(insn, result)
        sentence = self._missing(kind, relo.type_id, tried, notes) if not matched else ""
        if poisoned and result.poison:
            sentence += (
                "; libbpf replaces the instruction with an invalid call, which the verifier "
                "rejects unless that code is unreachable (guarded by an existence check)"
            )
        elif poisoned:
            sentence = (
                f"the kernel's field has a size ({result.new_size} bytes, the object expects "
                f"{result.orig_size}) that cannot be loaded by adjusting the instruction (only "
                "pointers and unsigned integers can); libbpf replaces the instruction with an "
                "invalid call"
            )
        return self._outcome(
            relo,
            kind,
            local_spec,
            status="poisoned" if poisoned else "ok",
            local_value=result.orig,
            target_value=None if poisoned else self._target_value(kind, spec, result),
            candidates=tried,
            matched=tuple(matched),
            target_spec=spec,
            sentence=sentence,
        )

    def _outcome(
        self,
        relo: CoreRelo,
        kind: ReloKind | None,
        local_spec: Spec | None,
        *,
        failure: str = "",
        status: Status = "ok",
        local_value: int | None = None,
        target_value: int | None = None,
        candidates: tuple[int, ...] = (),
        matched: tuple[int, ...] = (),
        target_spec: Spec | None = None,
        sentence: str = "",
    ) -> CoreOutcome:
        try:
            local_type = _kind_name(self.local, relo.type_id)
            access = relo.access
            if kind is not None and local_spec is not None:
                access = _describe(self.local, kind, local_spec)
        except BtfError:
            local_type, access = f"type id {relo.type_id}", relo.access
        if failure:
            status, local_value, target_value = "failed", None, None
            candidates, matched, target_spec = (), (), None
            sentence = f"libbpf refuses to load the object: {failure}"
        return CoreOutcome(
            section=relo.section,
            index=relo.index,
            insn=relo.insn_off // INSN_SIZE,
            kind=kind if kind is not None else ReloKind.FIELD_BYTE_OFFSET,
            local_type_id=relo.type_id,
            local_type=local_type,
            access=access,
            status=status,
            local_value=local_value,
            target_value=target_value,
            candidates=candidates,
            matched=matched,
            target_spec=target_spec,
            sentence=sentence,
            local_spec=local_spec,
        )

    def _target_value(self, kind: ReloKind, spec: Spec | None, result: _Result) -> int:
        if kind is ReloKind.ENUMVAL_VALUE and spec is not None:
            acc = spec.accessors[0]
            return self.target.enum_values(acc.type_id)[acc.index].value
        return result.new

    def _missing(
        self, kind: ReloKind, local_id: int, tried: Sequence[int], notes: list[str]
    ) -> str:
        local = self.local
        what = _kind_name(local, local_id)
        essential = essential_name(local.name(local_id))
        if not tried:
            flavor = "" if essential == local.name(local_id) else f" (the essential name of {what})"
            return f"the kernel's BTF has no {local.kind(local_id).label} named {essential}{flavor}"
        found = notes[0] if notes else "it does not match"
        if kind in _EXISTENCE:
            return f"not in this kernel: {found}"
        return f"no kernel type matches: {found}"

    # -- candidates -----------------------------------------------------------------------

    def _candidates(self, local_id: int) -> list[int]:
        cached = self.cands.get(local_id)
        if cached is not None:
            return cached
        local, target = self.local, self.target
        essential = essential_name(local.name(local_id))
        kind = local.kind(local_id)
        ids = set(target.find(essential))
        ids.update(_flavored(target).get(essential, ()))
        found = sorted(
            tid
            for tid in ids
            if kinds_compatible(target.kind(tid), kind)
            and essential_name(target.name(tid)) == essential
        )
        self.cands[local_id] = found
        return found

    def _match(
        self, kind: ReloKind, local_spec: Spec, cands: list[int]
    ) -> tuple[_Result, list[int], Spec | None, list[str]]:
        matched: list[int] = []
        notes: list[str] = []
        best: _Result | None = None
        best_spec: Spec | None = None
        for cand in cands:
            found, spec = self._spec_match(kind, local_spec, cand, notes)
            if found < 0:
                raise _Failure(
                    f"matching candidate {_kind_name(self.target, cand)} [{cand}] went "
                    "deeper than libbpf allows"
                )
            if not found or spec is None:
                continue
            result = self._calc(kind, local_spec, spec)
            if best is None or best_spec is None:
                best, best_spec = result, spec
            elif spec.bit_offset != best_spec.bit_offset:
                raise _Failure(
                    f"candidates [{matched[0]}] and [{cand}] place the field at different "
                    f"bit offsets ({best_spec.bit_offset} and {spec.bit_offset}): ambiguous"
                )
            elif result.poison != best.poison or result.new != best.new:
                raise _Failure(
                    f"candidates [{matched[0]}] and [{cand}] give different values "
                    f"({best.new} and {result.new}): ambiguous"
                )
            matched.append(cand)
        if matched and best is not None:
            self.cands[local_spec.root_type_id] = matched
            return best, matched, best_spec, notes
        return self._calc(kind, local_spec, None), [], None, notes

    # -- specs ----------------------------------------------------------------------------

    def _parse(self, relo: CoreRelo, kind: ReloKind) -> Spec:
        btf = self.local
        text = relo.access
        if not text or text.startswith(":"):
            raise _Failure("the access string is empty or malformed")
        if kind.family == "type":
            if text != "0":
                raise _Failure("a type relocation's access string must be 0")
            return Spec(relo.type_id, (), (), 0)
        raw = _parse_raw(text)
        tid = btf.resolve(relo.type_id)
        first = raw[0]
        if kind.family == "enumval":
            if btf.kind(tid) not in (Kind.ENUM, Kind.ENUM64) or len(raw) > 1:
                raise _Failure(f"{_kind_name(btf, tid)} is not an enum with value {text}")
            values = btf.enum_values(tid)
            if first >= len(values):
                raise _Failure(f"{_kind_name(btf, tid)} has no enumerator #{first}")
            return Spec(relo.type_id, (Accessor(tid, first, values[first].name),), raw, 0)
        accessors = [Accessor(tid, first, None)]
        size = resolve_size(btf, tid)
        if size is None:
            raise _Failure(f"{_kind_name(btf, tid)} has no size")
        bit_offset = first * size * 8
        for index in raw[1:]:
            tid = btf.resolve(tid)
            kind_here = btf.kind(tid)
            if kind_here in (Kind.STRUCT, Kind.UNION):
                members = self._members(btf, tid)
                if index >= len(members):
                    raise _Failure(f"{_kind_name(btf, tid)} has no member #{index}")
                member = members[index]
                bit_offset += member.bit_offset
                if member.name:
                    accessors.append(Accessor(tid, index, member.name))
                tid = member.type_id
            elif kind_here is Kind.ARRAY:
                info = btf.array(tid)
                elem = btf.resolve(info.elem_type_id)
                if not _flexible(btf, accessors[-1], info.nelems) and index >= info.nelems:
                    raise _Failure(f"index {index} is past the {info.nelems} array elements")
                accessors.append(Accessor(elem, index, None))
                size = resolve_size(btf, elem)
                if size is None:
                    raise _Failure(f"{_kind_name(btf, elem)} has no size")
                bit_offset += index * size * 8
                tid = elem
            else:
                raise _Failure(f"the access steps into {_kind_name(btf, tid)}")
        return Spec(relo.type_id, tuple(accessors), raw, bit_offset)

    def _members(self, btf: Btf, tid: int) -> tuple[Member, ...]:
        """`btf.members(tid)`, decoded once per check (local) or once per kernel (target:
        kept with its Btf, as the structs checks touch are few and touched again)."""
        if btf is self.target:
            cache = btf.derived("preflight.members", dict[int, tuple[Member, ...]])
        else:
            cache = self.local_members
        members = cache.get(tid)
        if members is None:
            members = cache.setdefault(tid, btf.members(tid))
        return members

    def _visit(self, tid: int, name: str) -> list[int]:
        """The indexes of target composite `tid`'s anonymous members and of its member
        called `name`, in member order."""
        index = self.target.derived("preflight.member_index", dict[int, _MemberIndex])
        found = index.get(tid)
        if found is None:
            by_name: dict[str, int] = {}
            unnamed: list[int] = []
            for i, member in enumerate(self._members(self.target, tid)):
                if member.name:
                    by_name.setdefault(member.name, i)
                else:
                    unnamed.append(i)
            found = index.setdefault(tid, (by_name, tuple(unnamed)))
        named, anonymous = found
        at = named.get(name)
        return sorted([*anonymous, at]) if at is not None else list(anonymous)

    def _spec_match(
        self, kind: ReloKind, local_spec: Spec, cand: int, notes: list[str]
    ) -> tuple[int, Spec | None]:
        local, target = self.local, self.target
        if kind.family == "type":
            if kind is ReloKind.TYPE_MATCHES:
                found = types_match(local, local_spec.root_type_id, target, cand)
                relation = "does not match the object's definition"
            else:
                found = types_compatible(local, local_spec.root_type_id, target, cand)
                relation = "is not compatible with the object's definition"
            if found == 0:
                notes.append(f"{_kind_name(target, cand)} [{cand}] {relation}")
            return found, Spec(cand, (), (), 0)
        if kind.family == "enumval":
            tid = target.resolve(cand)
            wanted = local_spec.accessors[0].name or ""
            if target.kind(tid) in (Kind.ENUM, Kind.ENUM64):
                essential = essential_name(wanted)
                for i, value in enumerate(target.enum_values(tid)):
                    if essential_name(value.name) == essential:
                        return 1, Spec(cand, (Accessor(tid, i, value.name),), (i,), 0)
            notes.append(f"{_kind_name(target, cand)} [{cand}] has no enumerator {wanted}")
            return 0, None
        return _FieldMatch(self, cand, notes).run(local_spec)

    # -- values ---------------------------------------------------------------------------

    def _calc(self, kind: ReloKind, local_spec: Spec, target_spec: Spec | None) -> _Result:
        if kind.family == "field":
            orig = self._field_value(kind, self.local, local_spec)
            if target_spec is None:
                if kind is ReloKind.FIELD_EXISTS:
                    return _Result(orig.value, 0, validate=orig.validate)
                return _Result(orig.value, 0, poison=True, validate=orig.validate)
            new = self._field_value(kind, self.target, target_spec)
            fail = False
            if orig.size != new.size:
                fail = not self._resizable(orig.type_id, new.type_id)
            return _Result(orig.value, new.value, False, orig.validate, fail, orig.size, new.size)
        if kind.family == "type":
            orig_value, validate = self._type_value(kind, self.local, local_spec)
            new_value = self._type_value(kind, self.target, target_spec)[0]
            return _Result(orig_value, new_value, validate=validate)
        orig_value = self._enum_value(kind, self.local, local_spec)
        if target_spec is None and kind is ReloKind.ENUMVAL_VALUE:
            return _Result(orig_value, 0, poison=True)
        return _Result(orig_value, self._enum_value(kind, self.target, target_spec))

    def _resizable(self, local_type: int, target_type: int) -> bool:
        """libbpf adjusts a load's size only for pointers and unsigned integers."""
        local, target = self.local, self.target
        lk, tk = local.kind(local_type), target.kind(target_type)
        if lk is Kind.PTR and tk is Kind.PTR:
            return True
        return (
            lk is Kind.INT
            and tk is Kind.INT
            and local.int_info(local_type).encoding != 1
            and target.int_info(target_type).encoding != 1
        )

    def _field_value(self, kind: ReloKind, btf: Btf, spec: Spec) -> _FieldValue:
        if kind is ReloKind.FIELD_EXISTS:
            return _FieldValue(1, True)
        acc = spec.accessors[-1]
        if acc.name is None:
            if kind is ReloKind.FIELD_BYTE_OFFSET:
                elem = _innermost(btf, acc.type_id)
                size = resolve_size(btf, elem)
                if size is None:
                    raise _Failure(f"{_kind_name(btf, elem)} has no size")
                return _FieldValue(spec.bit_offset // 8, True, size, acc.type_id)
            if kind is ReloKind.FIELD_BYTE_SIZE:
                size = resolve_size(btf, acc.type_id)
                if size is None:
                    raise _Failure(f"{_kind_name(btf, acc.type_id)} has no size")
                return _FieldValue(size, True)
            raise _Failure(f"a {kind.label} relocation cannot apply to an array element")
        member = self._members(btf, acc.type_id)[acc.index]
        field_id = btf.resolve(member.type_id)
        bit_off = spec.bit_offset
        bit_size = member.bitfield_size
        bitfield = bit_size > 0
        if bitfield:
            byte_size = btf.size(field_id) or 0
            if byte_size == 0:
                raise _Failure(f"bitfield {acc.name} has a type without a size")
            byte_off = bit_off // 8 // byte_size * byte_size
            while bit_off + bit_size - byte_off * 8 > byte_size * 8:
                if byte_size >= 8:
                    raise _Failure(f"bitfield {acc.name} cannot be read with a 64-bit load")
                byte_size *= 2
                byte_off = bit_off // 8 // byte_size * byte_size
        else:
            size = resolve_size(btf, field_id)
            if size is None:
                raise _Failure(f"field {acc.name} has a type without a size")
            byte_size = size
            byte_off = bit_off // 8
            bit_size = byte_size * 8
        validate = not bitfield
        if kind is ReloKind.FIELD_BYTE_OFFSET:
            if bitfield:
                return _FieldValue(byte_off, validate)
            elem = _innermost(btf, field_id)
            size = resolve_size(btf, elem)
            if size is None:
                raise _Failure(f"field {acc.name} has elements without a size")
            return _FieldValue(byte_off, validate, size, field_id)
        if kind is ReloKind.FIELD_BYTE_SIZE:
            return _FieldValue(byte_size, validate)
        if kind is ReloKind.FIELD_SIGNED:
            field_kind = btf.kind(field_id)
            signed = (field_kind in (Kind.ENUM, Kind.ENUM64) and btf.kind_flag(field_id)) or (
                field_kind is Kind.INT and btf.int_info(field_id).signed
            )
            return _FieldValue(int(signed), True)
        if kind is ReloKind.FIELD_LSHIFT_U64:
            if self.byte_order == "little":
                return _FieldValue(64 - (bit_off + bit_size - byte_off * 8), validate)
            return _FieldValue((8 - byte_size) * 8 + (bit_off - byte_off * 8), validate)
        return _FieldValue(64 - bit_size, True)

    def _type_value(self, kind: ReloKind, btf: Btf, spec: Spec | None) -> tuple[int, bool]:
        if spec is None:
            return 0, True
        if kind is ReloKind.TYPE_ID_TARGET:
            return spec.root_type_id, False
        if kind in (ReloKind.TYPE_EXISTS, ReloKind.TYPE_MATCHES):
            return 1, True
        size = resolve_size(btf, spec.root_type_id)
        if size is None:
            raise _Failure(f"{_kind_name(btf, spec.root_type_id)} has no size")
        return size, True

    def _enum_value(self, kind: ReloKind, btf: Btf, spec: Spec | None) -> int:
        if kind is ReloKind.ENUMVAL_EXISTS:
            return int(spec is not None)
        assert spec is not None
        acc = spec.accessors[0]
        value = btf.enum_values(acc.type_id)[acc.index].value
        return value & _U64  # libbpf holds enum values as u64, sign-extended

    # -- the instruction ------------------------------------------------------------------

    def _patch(self, insn: bytes, result: _Result) -> bool:
        """Check the instruction as libbpf does before patching; True when it ends up
        poisoned, raises _Failure where libbpf refuses."""
        if result.poison:
            return True
        code, _dst, src, off, imm = _decode(insn, self.byte_order)
        cls = code & 0x07
        if cls in (0x04, 0x07):  # ALU, ALU64
            if code & 0x08:
                raise _Failure("the relocated ALU instruction does not use an immediate")
            if result.validate and imm & _U64 != result.orig:
                raise _Failure(
                    f"the instruction holds {imm}, not the expected {result.orig}; the "
                    "compiler and libbpf disagree about the object's own types"
                )
            return False
        if cls in (0x01, 0x02, 0x03):  # LDX, ST, STX
            if result.validate and off & _U64 != result.orig:
                raise _Failure(f"the instruction's offset is {off}, not the expected {result.orig}")
            if result.new > SHRT_MAX:
                raise _Failure(f"the offset {result.new} does not fit a load's 16 bits")
            if result.fail_memsz:
                return True
            if result.new_size != result.orig_size:
                width = {0x18: 8, 0x00: 4, 0x08: 2, 0x10: 1}[code & 0x18]
                if width != result.orig_size:
                    raise _Failure(
                        f"the load is {width} bytes wide, not the expected {result.orig_size}"
                    )
                if result.new_size not in (1, 2, 4, 8):
                    raise _Failure(f"no load can be {result.new_size} bytes wide")
            return False
        if cls == 0x00:  # LD: only the 64-bit immediate load
            if code != 0x18 or src != 0 or off != 0 or len(insn) < 16:
                raise _Failure("the relocated 64-bit load has an unexpected form")
            code2, dst2, src2, off2, imm2 = _decode(insn[8:16], self.byte_order)
            if code2 or dst2 or src2 or off2:
                raise _Failure("the relocated 64-bit load has an unexpected form")
            value = (imm & 0xFFFF_FFFF) | (imm2 & 0xFFFF_FFFF) << 32
            if result.validate and value != result.orig:
                raise _Failure(f"the instruction holds {value}, not the expected {result.orig}")
            return False
        raise _Failure(f"instruction code {code:#04x} cannot be relocated")


class _FieldMatch:
    """Matching a local field spec against one candidate, libbpf's way: named members are
    searched through anonymous structs and unions, depth first, in member order."""

    def __init__(self, resolver: _Resolver, cand: int, notes: list[str]) -> None:
        self.resolver = resolver
        self.target = resolver.target
        self.cand = cand
        self.notes = notes
        self.accessors: list[Accessor] = []
        self.raw: list[int] = []
        self.bit_offset = 0

    def _note(self, text: str) -> None:
        if not self.notes:
            self.notes.append(text)

    def run(self, local_spec: Spec) -> tuple[int, Spec | None]:
        target = self.target
        tid = self.cand
        for i, acc in enumerate(local_spec.accessors):
            tid = target.resolve(tid)
            if acc.name is not None:
                found, tid = self._member(acc, tid)
                if found <= 0:
                    return found, None
                continue
            if i > 0:
                if target.kind(tid) is not Kind.ARRAY:
                    self._note(f"the kernel's {self._path()} is not an array")
                    return 0, None
                info = target.array(tid)
                if not _flexible(target, self.accessors[-1], info.nelems) and (
                    acc.index >= info.nelems
                ):
                    self._note(
                        f"index {acc.index} is past the {info.nelems} elements of the "
                        f"kernel's {self._path()}"
                    )
                    return 0, None
                tid = target.resolve(info.elem_type_id)
            if len(self.raw) == MAX_SPEC_LEN:
                return -1, None
            self.accessors.append(Accessor(tid, acc.index, None))
            self.raw.append(acc.index)
            size = resolve_size(target, tid)
            if size is None:
                raise _Failure(f"the kernel's {_kind_name(target, tid)} has no size")
            self.bit_offset += acc.index * size * 8
        return 1, Spec(self.cand, tuple(self.accessors), tuple(self.raw), self.bit_offset)

    def _path(self) -> str:
        name = self.target.name(self.cand) or "<anon>"
        return name + "".join(f".{a.name}" for a in self.accessors if a.name is not None)

    def _member(self, acc: Accessor, tid: int) -> tuple[int, int]:
        """Find local member `acc` in target composite `tid`: (1, member type id) when found
        compatible, (0, 0) when not, (-1, 0) when the spec grows too long."""
        target = self.target
        if target.kind(tid) not in (Kind.STRUCT, Kind.UNION):
            self._note(f"the kernel's {self._path()} is {_kind_name(target, tid)}, not a struct")
            return 0, 0
        local = self.resolver.local
        local_member = self.resolver._members(local, acc.type_id)[acc.index]
        found, next_id = self._search(local_member, tid)
        if found == 0 and not self.notes:
            self._note(f"the kernel's {self._path()} has no member {local_member.name}")
        return found, next_id

    def _search(self, local_member: Member, tid: int) -> tuple[int, int]:
        target = self.target
        tid = target.resolve(tid)
        if target.kind(tid) not in (Kind.STRUCT, Kind.UNION):
            return 0, 0
        members = self.resolver._members(target, tid)
        if members and len(self.raw) == MAX_SPEC_LEN:
            return -1, 0
        # libbpf walks every member; only the anonymous ones and the one of the same name
        # can match (names are unique across a struct and its anonymous members).
        for i in self.resolver._visit(tid, local_member.name):
            member = members[i]
            if len(self.raw) == MAX_SPEC_LEN:
                return -1, 0
            self.bit_offset += member.bit_offset
            self.raw.append(i)
            if not member.name:
                found, next_id = self._search(local_member, member.type_id)
                if found:
                    return found, next_id
            elif member.name == local_member.name:
                compatible = fields_compatible(
                    self.resolver.local, local_member.type_id, target, member.type_id
                )
                if compatible:
                    self.accessors.append(Accessor(tid, i, member.name))
                    return compatible, member.type_id
                local = self.resolver.local
                theirs = _kind_name(target, target.resolve(member.type_id))
                ours = _kind_name(local, local.resolve(local_member.type_id))
                self._note(
                    f"the kernel's {self._path()}.{member.name} is {theirs}, incompatible "
                    f"with the object's {ours}"
                )
                return 0, 0
            self.bit_offset -= member.bit_offset
            self.raw.pop()
        return 0, 0


def _parse_raw(text: str) -> tuple[int, ...]:
    raw: list[int] = []
    for part in text.split(":"):
        if not part.isdigit():
            raise _Failure("the access string is not a list of indexes")
        raw.append(int(part))
        if len(raw) > MAX_SPEC_LEN:
            raise _Failure(f"access string is longer than {MAX_SPEC_LEN} steps")
    return tuple(raw)


def _flexible(btf: Btf, previous: Accessor, nelems: int) -> bool:
    """A zero-length array that is the last member of its struct (a flexible array)."""
    if previous.name is None or nelems > 0:
        return False
    return previous.index == btf.vlen(previous.type_id) - 1


def _innermost(btf: Btf, tid: int) -> int:
    tid = btf.resolve(tid)
    while btf.kind(tid) is Kind.ARRAY:
        tid = btf.resolve(btf.array(tid).elem_type_id)
    return tid


def _decode(insn: bytes, byte_order: ByteOrder) -> tuple[int, int, int, int, int]:
    """code, dst_reg, src_reg, off, imm of one 8-byte instruction."""
    code, regs, off, imm = struct.unpack_from("<BBhi" if byte_order == "little" else ">BBhi", insn)
    if byte_order == "little":
        return code, regs & 0x0F, regs >> 4, off, imm
    return code, regs >> 4, regs & 0x0F, off, imm


def _flavored(btf: Btf) -> dict[str, tuple[int, ...]]:
    """Type ids whose name carries a `___flavor`, by essential name (base objects too)."""

    def build(one: Btf) -> dict[str, tuple[int, ...]]:
        by_name: dict[str, list[int]] = {}
        for tid in one.search_names("___"):
            name = one.name(tid)
            essential = essential_name(name)
            if essential != name:
                by_name.setdefault(essential, []).append(tid)
        return {name: tuple(ids) for name, ids in by_name.items()}

    merged: dict[str, tuple[int, ...]] = {}
    current: Btf | None = btf
    while current is not None:
        flavored = current.derived("preflight.flavored", functools.partial(build, current))
        for name, ids in flavored.items():
            merged[name] = merged.get(name, ()) + ids
        current = current.base
    return merged
