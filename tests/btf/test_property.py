"""Mutated BTF never raises anything but BtfError, whatever is asked of it."""

from __future__ import annotations

import contextlib
import functools
import struct
from collections.abc import Callable

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bpf_mcp.btf import Btf, BtfError, Kind, parse_btf
from bpf_mcp.testing.btf import reencode

from .conftest import FIXTURE_VMLINUX, LIVE_VMLINUX, blob

SAMPLE_IDS = 400  # the first ids of vmlinux cover ints, modifiers, enums, structs, protos

Mutation = Callable[[bytearray], None]


@functools.cache
def vmlinux_sample() -> bytes:
    """The first SAMPLE_IDS types of vmlinux re-encoded on their own (kinds.btf if absent)."""
    for path in (FIXTURE_VMLINUX, LIVE_VMLINUX):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        return reencode(parse_btf(data), SAMPLE_IDS)
    return blob("kinds")


@functools.cache
def base_btf() -> Btf:
    return parse_btf(blob("base"), object_name="base")


SEEDS: dict[str, Callable[[], bytes]] = {
    "kinds": lambda: blob("kinds"),
    "tags": lambda: blob("tags"),
    "module": lambda: blob("module"),
    "vmlinux sample": vmlinux_sample,
}

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


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(seed=st.sampled_from(sorted(SEEDS)), mutations=st.lists(MUTATIONS, min_size=1, max_size=4))
def test_mutated_blobs_raise_only_btf_error(seed: str, mutations: list[Mutation]) -> None:
    parse_mutated_and_exercise(seed, mutations)


def parse_mutated_and_exercise(seed: str, mutations: list[Mutation]) -> None:
    """Apply `mutations` to the seed blob, parse, and exercise what parses."""
    data = bytearray(SEEDS[seed]())
    for mutate in mutations:
        mutate(data)
    base = base_btf() if seed == "module" else None
    try:
        btf = parse_btf(bytes(data), base=base, object_name=seed)
    except BtfError as err:
        event(f"parse rejected: {str(err).split(':')[1].split()[0]}")
        return
    event("parsed")
    exercise(btf)


TYPE_WORD_MUTATIONS = st.one_of(
    st.builds(_set_type_word, st.integers(0, 1 << 16), WORDS),
    st.builds(_set_type_word, st.integers(0, 1 << 16), st.integers(0, 4096)),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    mutations=st.lists(TYPE_WORD_MUTATIONS, min_size=1, max_size=3),
)
def test_mutated_type_records_raise_only_btf_error(seed: str, mutations: list[Mutation]) -> None:
    """Header intact, records damaged: most of these parse, so the accessors get the work."""
    parse_mutated_and_exercise(seed, mutations)


def test_unmutated_seeds_parse_and_answer() -> None:
    for name, make in SEEDS.items():
        btf = parse_btf(make(), base=base_btf() if name == "module" else None)
        exercise(btf)
        assert len(btf) > 0
