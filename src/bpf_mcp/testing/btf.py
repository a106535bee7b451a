"""BTF blobs assembled word by word, for cases real tools do not produce; and mutated
blobs, with the property the parser keeps over them (only BtfError escapes)."""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from hypothesis import event
from hypothesis import strategies as st

from bpf_mcp.btf import Btf, BtfError, Kind, parse_btf

HEADER = struct.Struct("<HBBIIIII")


def info(kind: int, vlen: int = 0, kind_flag: bool = False) -> int:
    """The info word of a record."""
    return (int(kind_flag) << 31) | ((kind & 0x1F) << 24) | (vlen & 0xFFFF)


def assemble(
    type_words: Sequence[int],
    strings: bytes,
    *,
    byte_order: str = "little",
    magic: int = 0xEB9F,
    version: int = 1,
    flags: int = 0,
    hdr_len: int = 24,
    type_off: int = 0,
    type_len: int | None = None,
    str_off: int | None = None,
    str_len: int | None = None,
    tail: bytes = b"",
) -> bytes:
    """A blob: header, then the type words, then the strings, then `tail`.

    Header fields default to a well-formed layout; pass any of them to break it.
    """
    prefix = "<" if byte_order == "little" else ">"
    types = struct.pack(f"{prefix}{len(type_words)}I", *type_words)
    header = struct.pack(
        f"{prefix}HBBIIIII",
        magic,
        version,
        flags,
        hdr_len,
        type_off,
        len(types) if type_len is None else type_len,
        len(types) if str_off is None else str_off,
        len(strings) if str_len is None else str_len,
    )
    padding = b"\0" * max(0, hdr_len - len(header))
    return header + padding + types + strings + tail


def str_len(data: bytes) -> int:
    """The str_len field of a little-endian blob's header."""
    return int(HEADER.unpack_from(data)[7])


def to_big_endian(data: bytes) -> bytes:
    """A little-endian blob rewritten as its big-endian producer would have written it."""
    fields = HEADER.unpack_from(data)
    hdr_len, type_off, type_len = fields[3], fields[4], fields[5]
    start = hdr_len + type_off
    words = struct.unpack_from(f"<{type_len // 4}I", data, start)
    out = bytearray(data)
    struct.pack_into(">HBBIIIII", out, 0, *fields)
    struct.pack_into(f">{len(words)}I", out, start, *words)
    return bytes(out)


class BtfBuilder:
    """Collects strings and type records; ids are handed out in order from `first_id`.

    For split BTF pass the base: string offsets then continue after the base's strings.
    """

    def __init__(self, *, first_id: int = 1, base_str_len: int = 0) -> None:
        self._base_str_len = base_str_len
        self._strings = bytearray(b"" if base_str_len else b"\0")
        self._offsets: dict[str, int] = {} if base_str_len else {"": 0}
        self.words: list[int] = []
        self.next_id = first_id

    def string(self, text: str | bytes) -> int:
        """The offset of `text` in the string section, adding it if new."""
        raw = text.encode() if isinstance(text, str) else text
        key = raw.decode("latin-1")
        if key not in self._offsets:
            self._offsets[key] = self._base_str_len + len(self._strings)
            self._strings += raw + b"\0"
        return self._offsets[key]

    def add(
        self,
        kind: int,
        name: str | bytes = "",
        *,
        vlen: int | None = None,
        kind_flag: bool = False,
        size_or_type: int = 0,
        trailer: Iterable[int] = (),
        items: Sequence[Sequence[int]] = (),
    ) -> int:
        """Append a record with `trailer` words then one group of words per item."""
        name_off = self.string(name) if name else 0
        count = len(items) if vlen is None else vlen
        self.words += [name_off, info(kind, count, kind_flag), size_or_type, *trailer]
        for item in items:
            self.words += item
        tid = self.next_id
        self.next_id += 1
        return tid

    def int_(self, name: str, size: int, bits: int, encoding: int = 0, bit_offset: int = 0) -> int:
        """An INT."""
        word = (encoding << 24) | (bit_offset << 16) | bits
        return self.add(Kind.INT, name, size_or_type=size, trailer=[word])

    def ref(self, kind: Kind, target: int, name: str = "") -> int:
        """A PTR, TYPEDEF, modifier or TYPE_TAG pointing at `target`."""
        return self.add(kind, name, size_or_type=target)

    def members(
        self,
        kind: Kind,
        name: str,
        size: int,
        members: Sequence[tuple[str, int, int]],
        *,
        kind_flag: bool = False,
    ) -> int:
        """A STRUCT or UNION; each member is (name, type id, offset word)."""
        items = [(self.string(n) if n else 0, t, off) for n, t, off in members]
        return self.add(kind, name, kind_flag=kind_flag, size_or_type=size, items=items)

    def enum(
        self, name: str, values: Sequence[tuple[str, int]], *, signed: bool = False, size: int = 4
    ) -> int:
        """An ENUM; values are stored as their low 32 bits."""
        items = [(self.string(n), v & 0xFFFFFFFF) for n, v in values]
        return self.add(Kind.ENUM, name, kind_flag=signed, size_or_type=size, items=items)

    def enum64(self, name: str, values: Sequence[tuple[str, int]], *, signed: bool = False) -> int:
        """An ENUM64; values are split into lo32 and hi32."""
        items = []
        for n, v in values:
            v &= (1 << 64) - 1
            items.append((self.string(n), v & 0xFFFFFFFF, v >> 32))
        return self.add(Kind.ENUM64, name, kind_flag=signed, size_or_type=8, items=items)

    def func_proto(self, ret: int, params: Sequence[tuple[str, int]], *, variadic: bool) -> int:
        """A FUNC_PROTO, with the {0, 0} marker appended when `variadic`."""
        items = [(self.string(n) if n else 0, t) for n, t in params]
        if variadic:
            items.append((0, 0))
        return self.add(Kind.FUNC_PROTO, size_or_type=ret, items=items)

    def blob(self, **header: Any) -> bytes:
        """The assembled blob; keyword arguments go to `assemble`."""
        return assemble(self.words, bytes(self._strings), **header)


def reencode(btf: Btf, last_id: int) -> bytes:
    """Re-encode ids btf.first_id..last_id of a base `btf` as a new blob, via its accessors.

    Type ids beyond `last_id` become 0 (void), so the sample is self-contained.
    """
    b = BtfBuilder()

    def clamp(tid: int) -> int:
        return tid if tid <= last_id else 0

    for tid in range(btf.first_id, last_id + 1):
        kind = btf.kind(tid)
        name = btf.name(tid)
        flag = btf.kind_flag(tid)
        vlen = btf.vlen(tid)
        size = btf.size(tid)
        if kind is Kind.INT:
            i = btf.int_info(tid)
            trailer = [(i.encoding << 24) | (i.bit_offset << 16) | i.bits]
            b.add(kind, name, size_or_type=size or 0, trailer=trailer)
        elif kind is Kind.ARRAY:
            a = btf.array(tid)
            trailer = [clamp(a.elem_type_id), clamp(a.index_type_id), a.nelems]
            b.add(kind, name, trailer=trailer)
        elif kind in (Kind.STRUCT, Kind.UNION):
            members = [
                (
                    m.name,
                    clamp(m.type_id),
                    (m.bitfield_size << 24 | m.bit_offset) if flag else m.bit_offset,
                )
                for m in btf.members(tid)
            ]
            b.members(kind, name, size or 0, members, kind_flag=flag)
        elif kind is Kind.ENUM:
            b.enum(
                name, [(v.name, v.value) for v in btf.enum_values(tid)], signed=flag, size=size or 4
            )
        elif kind is Kind.ENUM64:
            b.enum64(name, [(v.name, v.value) for v in btf.enum_values(tid)], signed=flag)
        elif kind is Kind.FUNC_PROTO:
            params = [(p.name, clamp(p.type_id)) for p in btf.params(tid)]
            b.func_proto(clamp(btf.ref(tid)), params, variadic=btf.is_variadic(tid))
        elif kind is Kind.VAR:
            b.add(kind, name, size_or_type=clamp(btf.ref(tid)), trailer=[btf.linkage(tid)])
        elif kind is Kind.DECL_TAG:
            component = btf.decl_tag_component(tid) & 0xFFFFFFFF
            b.add(kind, name, size_or_type=clamp(btf.ref(tid)), trailer=[component])
        elif kind is Kind.DATASEC:
            entries = [(clamp(e.type_id), e.offset, e.size) for e in btf.datasec_entries(tid)]
            b.add(kind, name, size_or_type=size or 0, items=entries)
        elif kind in (Kind.FWD, Kind.FLOAT):
            b.add(kind, name, kind_flag=flag, size_or_type=size or 0)
        else:  # PTR, TYPEDEF, modifiers, FUNC, TYPE_TAG
            b.add(kind, name, vlen=vlen, kind_flag=flag, size_or_type=clamp(btf.ref(tid)))
    return b.blob()


SAMPLE_IDS = 400
"""The first ids of a vmlinux cover ints, modifiers, enums, structs and prototypes."""

SEED_NAMES = ("kinds", "module", "tags", "vmlinux sample")
"""The blobs mutations start from: fixtures/btf's kinds.btf, module.btf (split BTF over
base.btf) and tags.btf, and the first SAMPLE_IDS types of a vmlinux re-encoded alone."""


@attrs.frozen(eq=False)
class Seeds:
    """The bytes of each of SEED_NAMES, read once, and the base the split one needs."""

    blobs: Mapping[str, bytes]
    base: Btf

    @classmethod
    def read(cls, directory: Path, vmlinux: Sequence[Path]) -> Seeds:
        """The seeds in `directory` (fixtures/btf), the vmlinux sample taken from the first
        readable file of `vmlinux` (kinds.btf again where none is). Raises OSError for a
        missing blob and BtfError for a corrupt one."""
        blobs = {
            name: (directory / f"{name}.btf").read_bytes() for name in ("kinds", "module", "tags")
        }
        blobs["vmlinux sample"] = blobs["kinds"]
        for path in vmlinux:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            blobs["vmlinux sample"] = reencode(parse_btf(data), SAMPLE_IDS)
            break
        return cls(blobs, parse_btf((directory / "base.btf").read_bytes(), object_name="base"))

    def parse(self, name: str, data: bytes | None = None) -> Btf:
        """Seed `name`, or `data` in its place, parsed (over the base for the split one)."""
        blob = self.blobs[name] if data is None else data
        return parse_btf(blob, base=self.base if name == "module" else None, object_name=name)


Mutation = Callable[[bytearray], None]

WORDS = st.one_of(
    st.sampled_from([0, 1, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]),
    st.integers(0, 31).map(lambda kind: kind << 24),
    st.tuples(st.integers(0, 31), st.integers(0, 0xFFFF), st.booleans()).map(
        lambda t: (t[2] << 31) | (t[0] << 24) | t[1]
    ),
    st.integers(0, 0xFFFFFFFF),
)


def _flip(at: int, bit: int) -> Mutation:
    def apply(data: bytearray) -> None:
        if data:
            data[at % len(data)] ^= 1 << bit

    return apply


def _overwrite(at: int, chunk: bytes) -> Mutation:
    def apply(data: bytearray) -> None:
        if data:
            start = at % len(data)
            data[start : start + len(chunk)] = chunk[: len(data) - start]

    return apply


def _set_word(at: int, value: int) -> Mutation:
    def apply(data: bytearray) -> None:
        if len(data) >= 4:
            start = (at % (len(data) // 4)) * 4
            data[start : start + 4] = struct.pack("<I", value)

    return apply


def _set_type_word(index: int, value: int) -> Mutation:
    """Overwrite a word of the type section, where most mutations still parse."""

    def apply(data: bytearray) -> None:
        if len(data) >= 24:
            hdr_len, type_off, type_len = struct.unpack_from("<III", data, 4)
            start = hdr_len + type_off
            words = min(type_len, len(data) - start) // 4
            if words > 0 and start % 4 == 0:
                at = start + (index % words) * 4
                data[at : at + 4] = struct.pack("<I", value)

    return apply


def _truncate(keep: int) -> Mutation:
    def apply(data: bytearray) -> None:
        del data[keep % (len(data) + 1) :]

    return apply


def _extend(chunk: bytes) -> Mutation:
    def apply(data: bytearray) -> None:
        data += chunk

    return apply


MUTATIONS = st.one_of(
    st.builds(_flip, st.integers(0, 1 << 20), st.integers(0, 7)),
    st.builds(_overwrite, st.integers(0, 1 << 20), st.binary(min_size=1, max_size=16)),
    st.builds(_set_word, st.integers(0, 1 << 20), WORDS),
    st.builds(_set_word, st.integers(0, 5), WORDS),  # header fields
    st.builds(_set_type_word, st.integers(0, 1 << 16), WORDS),
    st.builds(_set_type_word, st.integers(0, 1 << 16), st.integers(0, 4096)),  # ids, offsets
    st.builds(_truncate, st.integers(0, 1 << 20)),
    st.builds(_extend, st.binary(min_size=1, max_size=64)),
)


def exercise(btf: Btf) -> None:
    """Ask every question of every id (and a few beyond); only BtfError may escape."""
    calls: list[Callable[[int], object]] = [
        btf.kind, btf.name, btf.kind_flag, btf.vlen, btf.size, btf.ref, btf.members,
        btf.enum_values, btf.params, btf.is_variadic, btf.array, btf.int_info, btf.linkage,
        btf.decl_tag_component, btf.datasec_entries, btf.object_of, btf.resolve, btf.decl_tags,
    ]  # fmt: skip
    for tid in [*range(-1, btf.last_id + 3), 1 << 32]:
        for call in calls:
            with contextlib.suppress(BtfError):
                call(tid)
    for whole in (
        lambda: btf.named_ids(),
        lambda: btf.find("int"),
        lambda: btf.search_names("a"),
        lambda: btf.search_names("A", case_sensitive=False),
        lambda: [btf.ids_of_kind(kind) for kind in Kind],
    ):
        with contextlib.suppress(BtfError):
            whole()


TYPE_WORD_MUTATIONS = st.one_of(
    st.builds(_set_type_word, st.integers(0, 1 << 16), WORDS),
    st.builds(_set_type_word, st.integers(0, 1 << 16), st.integers(0, 4096)),
)


def parse_mutated_and_exercise(seeds: Seeds, seed: str, mutations: Sequence[Mutation]) -> None:
    """Apply `mutations` to the blob of `seed`, parse, and exercise what parses: only
    BtfError may escape (Hypothesis events count the parsed and the refused)."""
    data = bytearray(seeds.blobs[seed])
    for mutate in mutations:
        mutate(data)
    try:
        btf = seeds.parse(seed, bytes(data))
    except BtfError as err:
        event(f"parse rejected: {str(err).split(':')[1].split()[0]}")
        return
    event("parsed")
    exercise(btf)
