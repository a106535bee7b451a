"""`Btf`: one parsed BTF object, indexed by type id and decoded on demand."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from ._format import ByteOrder
from ._names import NameIndex, ids_by_kind
from ._strings import StringTable
from .errors import BtfError
from .model import ArrayInfo, DatasecEntry, EnumValue, IntInfo, Kind, Member, Param

__all__ = ["Btf"]

_SIZED = frozenset(
    {Kind.INT, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FLOAT, Kind.DATASEC}
)
_REFERRING = frozenset(
    {
        Kind.PTR,
        Kind.TYPEDEF,
        Kind.VOLATILE,
        Kind.CONST,
        Kind.RESTRICT,
        Kind.FUNC,
        Kind.FUNC_PROTO,
        Kind.VAR,
        Kind.DECL_TAG,
        Kind.TYPE_TAG,
    }
)
_COMPOSITES = frozenset({Kind.STRUCT, Kind.UNION})
_ENUMS = frozenset({Kind.ENUM, Kind.ENUM64})
_ARRAY = frozenset({Kind.ARRAY})
_INT = frozenset({Kind.INT})
_PROTO = frozenset({Kind.FUNC_PROTO})
_LINKED = frozenset({Kind.FUNC, Kind.VAR})
_DECL_TAG = frozenset({Kind.DECL_TAG})
_DATASEC = frozenset({Kind.DATASEC})
_MODIFIERS = frozenset({Kind.TYPEDEF, Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.TYPE_TAG})
_KINDS: tuple[Kind, ...] = tuple(Kind)
T = TypeVar("T")


def _s32(value: int) -> int:
    return value - (1 << 32) if value & 0x8000_0000 else value


class Btf:
    """The types of one BTF object (vmlinux, or a module's split BTF on top of a base).

    Ids run from `first_id` to `last_id`; id 0 is void. Ids below `first_id` belong to
    `base` and are answered by it. Treat as immutable: caches are built lazily on first
    use and only ever replaced by an equal value, so concurrent readers are safe.

    Every accessor raises BtfError for an id out of range, for a kind that lacks the part
    asked for, and for a string or type id in the record that points outside the object.
    """

    __slots__ = (
        "_by_kind",
        "_derived",
        "_kinds",
        "_names",
        "_pos",
        "_strings",
        "_tags",
        "_words",
        "base",
        "byte_order",
        "first_id",
        "last_id",
        "object_name",
    )

    def __init__(
        self,
        *,
        object_name: str,
        base: Btf | None,
        first_id: int,
        byte_order: ByteOrder,
        words: Sequence[int],
        positions: array[int],
        strings: StringTable,
    ) -> None:
        """Build from parts checked by `parse_btf`, which is the way to make one."""
        self.object_name = object_name
        self.base = base
        self.first_id = first_id
        self.last_id = first_id + len(positions) - 1
        self.byte_order: ByteOrder = byte_order
        self._words = words
        self._pos = positions
        self._strings = strings
        self._names: NameIndex | None = None
        self._by_kind: dict[Kind, tuple[int, ...]] | None = None
        self._kinds: bytes | None = None
        self._derived: dict[str, object] = {}
        self._tags: dict[int, tuple[tuple[str, int], ...]] | None = None

    def __len__(self) -> int:
        """The number of types in this object, not counting void or the base's types."""
        return len(self._pos)

    def __repr__(self) -> str:
        return (
            f"<Btf {self.object_name!r} ids {self.first_id}..{self.last_id}, "
            f"{self.byte_order}-endian>"
        )

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """A value computed from this object once and kept with it (e.g. the layout
        cache), built by `build` on first use; `key` names it. Concurrent first uses may
        both build; the values are equal, and one is kept."""
        found = self._derived.get(key)
        if found is None:
            found = self._derived.setdefault(key, build())
        return found  # type: ignore[return-value]

    # -- locating records ------------------------------------------------------------

    def _locate(self, tid: int) -> tuple[Btf, int]:
        """The object holding `tid` and the word position of its record; void raises."""
        btf: Btf | None = self
        while btf is not None:
            if tid >= btf.first_id:
                index = tid - btf.first_id
                if index < len(btf._pos):
                    return btf, btf._pos[index]
                break
            btf = btf.base
        if tid == 0:
            raise BtfError(f"{self.object_name}: type id 0 is void and has no record")
        raise BtfError(
            f"{self.object_name}: type id {tid} is out of range (valid ids are 0..{self.last_id})"
        )

    def _expect(self, tid: int, kinds: frozenset[Kind], part: str) -> tuple[Btf, int, Kind]:
        btf, pos = self._locate(tid)
        kind = _KINDS[(btf._words[pos + 1] >> 24) & 0x1F]
        if kind not in kinds:
            raise BtfError(
                f"{self.object_name}: type id {tid} is of kind {kind.label}, which has no {part}"
            )
        return btf, pos, kind

    def _type_id(self, value: int, tid: int, what: str) -> int:
        if value > self.last_id:
            raise BtfError(
                f"{self.object_name}: type id {tid}: {what} refers to type id {value}, "
                f"beyond the last id {self.last_id}"
            )
        return value

    def _string(self, offset: int, tid: int, what: str) -> str:
        return self._strings.get(offset, tid, what)

    # -- any record --------------------------------------------------------------------

    def kind(self, tid: int) -> Kind:
        """The kind of `tid`; Kind.UNKN for void (0)."""
        if tid == 0:
            return Kind.UNKN
        btf, pos = self._locate(tid)
        return _KINDS[(btf._words[pos + 1] >> 24) & 0x1F]

    def name(self, tid: int) -> str:
        """The name of `tid`; "" for void and anonymous types."""
        if tid == 0:
            return ""
        btf, pos = self._locate(tid)
        return btf._string(btf._words[pos], tid, "name")

    def kind_flag(self, tid: int) -> bool:
        """The record's kind_flag bit (bitfield members, signed enum, union fwd...)."""
        if tid == 0:
            return False
        btf, pos = self._locate(tid)
        return bool(btf._words[pos + 1] >> 31)

    def vlen(self, tid: int) -> int:
        """The record's vlen field (for FUNC it is the linkage); 0 for void."""
        if tid == 0:
            return 0
        btf, pos = self._locate(tid)
        return btf._words[pos + 1] & 0xFFFF

    def size(self, tid: int) -> int | None:
        """The size in bytes of INT, STRUCT, UNION, ENUM, ENUM64, FLOAT and DATASEC types.

        None for void and for kinds whose record holds a type id instead of a size.
        """
        if tid == 0:
            return None
        btf, pos = self._locate(tid)
        if _KINDS[(btf._words[pos + 1] >> 24) & 0x1F] not in _SIZED:
            return None
        return btf._words[pos + 2]

    def ref(self, tid: int) -> int:
        """The type id a PTR, TYPEDEF, modifier, FUNC, FUNC_PROTO (return), VAR, DECL_TAG or
        TYPE_TAG refers to (0 is void)."""
        btf, pos, _ = self._expect(tid, _REFERRING, "referenced type")
        return btf._type_id(btf._words[pos + 2], tid, "the referenced type")

    def object_of(self, tid: int) -> str:
        """The name of the BTF object that defines `tid` (void: the root base object)."""
        if tid == 0:
            btf = self
            while btf.base is not None:
                btf = btf.base
            return btf.object_name
        return self._locate(tid)[0].object_name

    def string_at(self, offset: int, what: str) -> str:
        """The string at `offset` in this object's string section (or its base's), for
        records kept outside the type section, such as an object's .BTF.ext; `what` names
        the record in the BtfError raised when the offset is out of range."""
        return self._strings.get(offset, 0, what)

    # -- trailers ----------------------------------------------------------------------

    def members(self, tid: int) -> tuple[Member, ...]:
        """The members of a STRUCT or UNION, in declaration order."""
        btf, pos, _ = self._expect(tid, _COMPOSITES, "members")
        words = btf._words
        info = words[pos + 1]
        bitfields = bool(info >> 31)
        result = []
        at = pos + 3
        for i in range(info & 0xFFFF):
            offset = words[at + 2]
            if bitfields:
                bit_offset, bitfield_size = offset & 0xFFFFFF, offset >> 24
            else:
                bit_offset, bitfield_size = offset, 0
            result.append(
                Member(
                    btf._string(words[at], tid, f"member {i} name"),
                    btf._type_id(words[at + 1], tid, f"member {i}"),
                    bit_offset,
                    bitfield_size,
                )
            )
            at += 3
        return tuple(result)

    def member_names(self, tid: int) -> tuple[str, ...]:
        """The member names of a STRUCT or UNION, in declaration order: `members()`
        without decoding types and offsets (for summaries of many types)."""
        btf, pos, _ = self._expect(tid, _COMPOSITES, "members")
        words, strings = btf._words, btf._strings
        count = words[pos + 1] & 0xFFFF
        return tuple(
            strings.get(words[at], tid, "member name")
            for at in range(pos + 3, pos + 3 + 3 * count, 3)
        )

    def enum_values(self, tid: int) -> tuple[EnumValue, ...]:
        """The enumerators of an ENUM or ENUM64, signed when the kind_flag is set."""
        btf, pos, kind = self._expect(tid, _ENUMS, "enum values")
        words = btf._words
        info = words[pos + 1]
        signed = bool(info >> 31)
        result = []
        at = pos + 3
        if kind is Kind.ENUM:
            for i in range(info & 0xFFFF):
                value = words[at + 1]
                if signed:
                    value = _s32(value)
                result.append(EnumValue(btf._string(words[at], tid, f"value {i} name"), value))
                at += 2
        else:
            for i in range(info & 0xFFFF):
                value = words[at + 2] << 32 | words[at + 1]
                if signed and value >> 63:
                    value -= 1 << 64
                result.append(EnumValue(btf._string(words[at], tid, f"value {i} name"), value))
                at += 3
        return tuple(result)

    def _proto(self, tid: int) -> tuple[Btf, int, int, bool]:
        """A FUNC_PROTO's object, record position, parameter count and varargs flag."""
        btf, pos, _ = self._expect(tid, _PROTO, "parameters")
        words = btf._words
        vlen = words[pos + 1] & 0xFFFF
        last = pos + 1 + 2 * vlen  # the last parameter's first word
        variadic = vlen > 0 and words[last] == 0 and words[last + 1] == 0
        return btf, pos, vlen - variadic, variadic

    def is_variadic(self, tid: int) -> bool:
        """True when a FUNC_PROTO ends with the {0, 0} varargs marker."""
        return self._proto(tid)[3]

    def params(self, tid: int) -> tuple[Param, ...]:
        """The parameters of a FUNC_PROTO, without the trailing varargs marker."""
        btf, pos, count, _ = self._proto(tid)
        words = btf._words
        return tuple(
            Param(
                btf._string(words[pos + 3 + 2 * i], tid, f"parameter {i} name"),
                btf._type_id(words[pos + 4 + 2 * i], tid, f"parameter {i}"),
            )
            for i in range(count)
        )

    def array(self, tid: int) -> ArrayInfo:
        """The element type, index type and element count of an ARRAY."""
        btf, pos, _ = self._expect(tid, _ARRAY, "array info")
        words = btf._words
        return ArrayInfo(
            btf._type_id(words[pos + 3], tid, "the element type"),
            btf._type_id(words[pos + 4], tid, "the index type"),
            words[pos + 5],
        )

    def int_info(self, tid: int) -> IntInfo:
        """The encoding, bit offset and bit width of an INT."""
        btf, pos, _ = self._expect(tid, _INT, "integer encoding")
        word = btf._words[pos + 3]
        return IntInfo((word >> 24) & 0x0F, (word >> 16) & 0xFF, word & 0xFF)

    def linkage(self, tid: int) -> int:
        """The linkage of a FUNC (its vlen) or VAR (0 static, 1 global, 2 extern)."""
        btf, pos, kind = self._expect(tid, _LINKED, "linkage")
        if kind is Kind.FUNC:
            return btf._words[pos + 1] & 0xFFFF
        return btf._words[pos + 3]

    def decl_tag_component(self, tid: int) -> int:
        """The member or parameter index a DECL_TAG applies to; -1 for the type itself."""
        btf, pos, _ = self._expect(tid, _DECL_TAG, "component index")
        return _s32(btf._words[pos + 3])

    def datasec_entries(self, tid: int) -> tuple[DatasecEntry, ...]:
        """The variables placed in a DATASEC, in record order."""
        btf, pos, _ = self._expect(tid, _DATASEC, "section entries")
        words = btf._words
        return tuple(
            DatasecEntry(btf._type_id(words[at], tid, f"entry {i}"), words[at + 1], words[at + 2])
            for i, at in enumerate(range(pos + 3, pos + 3 + 3 * (words[pos + 1] & 0xFFFF), 3))
        )

    # -- whole-object queries ----------------------------------------------------------

    def resolve(self, tid: int) -> int:
        """Follow TYPEDEF, VOLATILE, CONST, RESTRICT and TYPE_TAG to the first other type.

        Raises BtfError when the chain loops back on itself.
        """
        seen: set[int] | None = None
        current = tid
        steps = 0
        while self.kind(current) in _MODIFIERS:
            current = self.ref(current)
            steps += 1
            if steps > 32:
                # Real chains are short; only then pay for loop detection.
                if seen is None:
                    seen = set()
                if current in seen:
                    raise BtfError(
                        f"{self.object_name}: type id {tid}: the typedef/modifier chain "
                        f"loops at type id {current}"
                    )
                seen.add(current)
        return current

    def _name_index(self) -> NameIndex:
        index = self._names
        if index is None:
            words = self._words
            offsets = [words[pos] for pos in self._pos]
            index = NameIndex(self.first_id, offsets, self._strings)
            self._names = index
        return index

    def named_ids(self) -> Sequence[int]:
        """The ids of this object (not its base) that have a name, ascending."""
        return self._name_index().ids

    def find(self, name: str) -> tuple[int, ...]:
        """Every id, base objects included, whose name is exactly `name`, ascending.

        Anonymous types are not found: `find("")` is empty.
        """
        found = self._name_index().find(name)
        if self.base is not None:
            return self.base.find(name) + found
        return found

    def search_names(
        self, needle: str, *, case_sensitive: bool = True, limit: int | None = None
    ) -> list[int]:
        """The ids of this object (not its base) whose name contains `needle`, ascending;
        the first `limit` when given."""
        return self._name_index().search(needle, case_sensitive=case_sensitive, limit=limit)

    def _kind_codes(self) -> bytes:
        codes = self._kinds
        if codes is None:
            words = self._words
            codes = bytes((words[pos + 1] >> 24) & 0x1F for pos in self._pos)
            self._kinds = codes
        return codes

    def glob_names(self, pattern: str, *, case_sensitive: bool = True) -> list[int]:
        """The ids of this object (not its base) whose whole name matches the shell-style
        `pattern` (`*`, `?`, `[set]`, as fnmatch), ascending."""
        return self._name_index().glob(pattern, case_sensitive=case_sensitive)

    def ids_of_kind(self, kind: Kind) -> tuple[int, ...]:
        """The ids of this object (not its base) of `kind`, ascending."""
        by_kind = self._by_kind
        if by_kind is None:
            by_kind = ids_by_kind(self.first_id, self._kind_codes())
            self._by_kind = by_kind
        return by_kind.get(kind, ())

    def filter_kind(self, ids: Iterable[int], kind: Kind) -> list[int]:
        """Those of `ids` whose kind is `kind`, in order; ids outside this object (its
        base's included) are left out."""
        codes = self._kind_codes()
        first = self.first_id
        last = self.last_id
        wanted = int(kind)
        return [tid for tid in ids if first <= tid <= last and codes[tid - first] == wanted]

    def unique_names(self) -> Sequence[str]:
        """Every distinct name of this object (not its base), in the order of first use."""
        return self._name_index().unique_names()

    def decl_tags(self, tid: int) -> tuple[tuple[str, int], ...]:
        """The (tag, component index) of each DECL_TAG on `tid`, base objects' tags first."""
        if tid != 0:
            self._locate(tid)
        tags = self._tags
        if tags is None:
            tags = self._build_tags()
            self._tags = tags
        own = tags.get(tid, ())
        if self.base is not None and tid < self.first_id:
            return self.base.decl_tags(tid) + own
        return own

    def _build_tags(self) -> dict[int, tuple[tuple[str, int], ...]]:
        lists: dict[int, list[tuple[str, int]]] = {}
        for tid in self.ids_of_kind(Kind.DECL_TAG):
            lists.setdefault(self.ref(tid), []).append(
                (self.name(tid), self.decl_tag_component(tid))
            )
        return {target: tuple(tags) for target, tags in lists.items()}
