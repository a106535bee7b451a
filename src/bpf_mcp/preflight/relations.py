"""The type relations CO-RE relocation decides by, after libbpf's rules (relo_core.c).

- essential names: `name___flavor` stands for `name` (the part before the last `___`
  that sits between two non-underscores);
- kind compatibility: equal kinds, or any two enums (ENUM and ENUM64);
- "compatible" types for type-based relocations and kfunc prototypes;
- "compatible" fields for field relocations;
- "matching" types for TYPE_MATCHES.

Each function takes the local (object) BTF and the target (kernel) BTF with one type id
in each. They return 1 for yes, 0 for no and -1 where libbpf gives up with an error
(a recursion limit), so that callers can tell "no" from "cannot decide".
"""

from __future__ import annotations

from ..btf import Btf, Kind

__all__ = [
    "essential_name",
    "fields_compatible",
    "kinds_compatible",
    "resolve_size",
    "types_compatible",
    "types_match",
]

_ENUMS = frozenset({Kind.ENUM, Kind.ENUM64})
_COMPOSITES = frozenset({Kind.STRUCT, Kind.UNION})
_SIZED = frozenset(
    {Kind.INT, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.DATASEC, Kind.FLOAT}
)
_FOLLOWED = frozenset(
    {
        Kind.TYPEDEF,
        Kind.VOLATILE,
        Kind.CONST,
        Kind.RESTRICT,
        Kind.VAR,
        Kind.DECL_TAG,
        Kind.TYPE_TAG,
    }
)
_MAX_DEPTH = 32
_U32 = 0xFFFF_FFFF
POINTER_SIZE = 8
INT_SIGNED = 1


def essential_name(name: str) -> str:
    """`name` without its flavor: "task_struct___old" -> "task_struct"; the separator is
    the last `___` with a non-underscore on each side."""
    for i in range(len(name) - 5, -1, -1):
        if name[i] != "_" and name[i + 1 : i + 4] == "___" and name[i + 4] != "_":
            return name[: i + 1]
    return name


def kinds_compatible(a: Kind, b: Kind) -> bool:
    """True when CO-RE treats kinds `a` and `b` as the same (equal, or both enums)."""
    return a is b or (a in _ENUMS and b in _ENUMS)


def resolve_size(btf: Btf, tid: int) -> int | None:
    """The byte size of `tid` as libbpf computes it (arrays multiply, pointers are 8
    bytes, typedefs, modifiers and VARs are followed), or None where it has none (void,
    functions) or it overflows 32 bits."""
    count = 1
    for _ in range(_MAX_DEPTH):
        if tid == 0:
            return None
        kind = btf.kind(tid)
        if kind in _SIZED:
            size = btf.size(tid) or 0
            return size * count if size * count <= _U32 else None
        if kind is Kind.PTR:
            return POINTER_SIZE * count
        if kind in _FOLLOWED:
            tid = btf.ref(tid)
        elif kind is Kind.ARRAY:
            info = btf.array(tid)
            count *= info.nelems
            if count > _U32:
                return None
            tid = info.elem_type_id
        else:
            return None
    return None


def _int_offset(btf: Btf, tid: int) -> int:
    return btf.int_info(tid).bit_offset


def _raw_params(btf: Btf, tid: int) -> list[int]:
    """A FUNC_PROTO's parameter types as libbpf counts them: the varargs marker too."""
    params = [p.type_id for p in btf.params(tid)]
    if btf.is_variadic(tid):
        params.append(0)
    return params


def _param_pairs(local: Btf, local_id: int, target: Btf, target_id: int) -> list[tuple[int, int]]:
    """The (local, target) parameter types of two prototypes of the same arity."""
    return list(zip(_raw_params(local, local_id), _raw_params(target, target_id), strict=True))


def _same_arity(local: Btf, local_id: int, target: Btf, target_id: int) -> bool:
    return len(_raw_params(local, local_id)) == len(_raw_params(target, target_id))


def types_compatible(
    local: Btf, local_id: int, target: Btf, target_id: int, level: int = _MAX_DEPTH
) -> int:
    """libbpf's type compatibility, for TYPE_* relocations and kfunc prototypes: kinds
    must agree level by level (modifiers and typedefs skipped); structs, unions, enums
    and forward declarations agree by kind alone; integers unless bit-shifted; pointers
    and arrays by their targets; prototypes by parameter count and each type."""
    if not kinds_compatible(local.kind(local_id), target.kind(target_id)):
        return 0
    for _ in range(_MAX_DEPTH + 1):
        local_id = local.resolve(local_id)
        target_id = target.resolve(target_id)
        kind = local.kind(local_id)
        if not kinds_compatible(kind, target.kind(target_id)):
            return 0
        if kind in (Kind.UNKN, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FWD):
            return 1
        if kind is Kind.INT:
            return int(_int_offset(local, local_id) == 0 and _int_offset(target, target_id) == 0)
        if kind is Kind.PTR:
            local_id, target_id = local.ref(local_id), target.ref(target_id)
        elif kind is Kind.ARRAY:
            local_id = local.array(local_id).elem_type_id
            target_id = target.array(target_id).elem_type_id
        elif kind is Kind.FUNC_PROTO:
            if not _same_arity(local, local_id, target, target_id):
                return 0
            for lp, tp in _param_pairs(local, local_id, target, target_id):
                if level <= 0:
                    return -1
                found = types_compatible(
                    local, local.resolve(lp), target, target.resolve(tp), level - 1
                )
                if found <= 0:
                    return found
            local_id = local.resolve(local.ref(local_id))
            target_id = target.resolve(target.ref(target_id))
        else:
            return 0
    return -1


def fields_compatible(local: Btf, local_id: int, target: Btf, target_id: int) -> int:
    """libbpf's field compatibility for field relocations: any two structs or unions;
    pointers and floats by kind; enums and forward declarations when their essential
    names agree or one is anonymous; integers unless bit-shifted; arrays by element."""
    while True:
        local_id = local.resolve(local_id)
        target_id = target.resolve(target_id)
        kind = local.kind(local_id)
        target_kind = target.kind(target_id)
        if kind in _COMPOSITES and target_kind in _COMPOSITES:
            return 1
        if not kinds_compatible(kind, target_kind):
            return 0
        if kind in (Kind.PTR, Kind.FLOAT):
            return 1
        if kind in (Kind.FWD, Kind.ENUM, Kind.ENUM64):
            a = essential_name(local.name(local_id))
            b = essential_name(target.name(target_id))
            return int(not a or not b or a == b)
        if kind is Kind.INT:
            return int(_int_offset(local, local_id) == 0 and _int_offset(target, target_id) == 0)
        if kind is not Kind.ARRAY:
            return 0
        local_id = local.array(local_id).elem_type_id
        target_id = target.array(target_id).elem_type_id


def _names_match(local_name: str, target_name: str) -> bool:
    if not target_name:
        return not local_name
    return essential_name(local_name) == essential_name(target_name)


def _enum_names(btf: Btf, tid: int) -> list[str]:
    return [value.name for value in btf.enum_values(tid)]


def _int_signed(btf: Btf, tid: int) -> bool:
    return bool(btf.int_info(tid).encoding & INT_SIGNED)


def types_match(
    local: Btf,
    local_id: int,
    target: Btf,
    target_id: int,
    behind_ptr: bool = False,
    level: int = _MAX_DEPTH,
) -> int:
    """libbpf's TYPE_MATCHES relation: names (essential) and kinds agree level by level;
    integers by size and sign; enums by size and each local enumerator's name; structs
    and unions by each local member's name and matching type (behind a pointer, by kind
    alone, a forward declaration of the same kind matching too); arrays by length and
    element; prototypes by arity and each type."""
    if level <= 0:
        return -1
    for _ in range(_MAX_DEPTH + 1):
        local_id = local.resolve(local_id)
        target_id = target.resolve(target_id)
        if not _names_match(local.name(local_id), target.name(target_id)):
            return 0
        kind = local.kind(local_id)
        target_kind = target.kind(target_id)
        if kind is Kind.UNKN:
            return int(target_kind is Kind.UNKN)
        if kind is Kind.FWD:
            union = local.kind_flag(local_id)
            if behind_ptr and target_kind is not Kind.FWD:
                return int(
                    (target_kind is Kind.STRUCT and not union)
                    or (target_kind is Kind.UNION and union)
                )
            return int(target_kind is Kind.FWD and union == target.kind_flag(target_id))
        if kind in _ENUMS:
            if target_kind not in _ENUMS:
                return 0
            return _enums_match(local, local_id, target, target_id)
        if kind in _COMPOSITES:
            if behind_ptr:
                if kind is target_kind:
                    return 1
                if target_kind is not Kind.FWD:
                    return 0
                return int((kind is Kind.UNION) == target.kind_flag(target_id))
            if kind is not target_kind:
                return 0
            return _composites_match(local, local_id, target, target_id, behind_ptr, level)
        if kind is not target_kind:
            return 0
        if kind is Kind.INT:
            return int(
                local.size(local_id) == target.size(target_id)
                and _int_signed(local, local_id) == _int_signed(target, target_id)
            )
        if kind is Kind.PTR:
            behind_ptr = True
            local_id, target_id = local.ref(local_id), target.ref(target_id)
        elif kind is Kind.ARRAY:
            la, ta = local.array(local_id), target.array(target_id)
            if la.nelems != ta.nelems:
                return 0
            local_id, target_id = la.elem_type_id, ta.elem_type_id
        elif kind is Kind.FUNC_PROTO:
            if not _same_arity(local, local_id, target, target_id):
                return 0
            for lp, tp in _param_pairs(local, local_id, target, target_id):
                found = types_match(local, lp, target, tp, behind_ptr, level - 1)
                if found <= 0:
                    return found
            local_id, target_id = local.ref(local_id), target.ref(target_id)
        else:
            return 0
    return -1


def _enums_match(local: Btf, local_id: int, target: Btf, target_id: int) -> int:
    if local.size(local_id) != target.size(target_id):
        return 0
    local_names = _enum_names(local, local_id)
    target_names = _enum_names(target, target_id)
    if len(local_names) > len(target_names):
        return 0
    return int(all(any(_names_match(n, t) for t in target_names) for n in local_names))


def _composites_match(
    local: Btf, local_id: int, target: Btf, target_id: int, behind_ptr: bool, level: int
) -> int:
    local_members = local.members(local_id)
    target_members = target.members(target_id)
    if len(local_members) > len(target_members):
        return 0
    for lm in local_members:
        matched = False
        for tm in target_members:
            if not _names_match(lm.name, tm.name):
                continue
            found = types_match(local, lm.type_id, target, tm.type_id, behind_ptr, level - 1)
            if found < 0:
                return found
            if found > 0:
                matched = True
                break
        if not matched:
            return 0
    return 1
