"""Mutated BTF never raises anything but BtfError, whatever is asked of it."""

from __future__ import annotations

import functools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpf_mcp.testing.btf import (
    MUTATIONS,
    SEED_NAMES,
    TYPE_WORD_MUTATIONS,
    Mutation,
    Seeds,
    exercise,
    parse_mutated_and_exercise,
)

from .conftest import BLOBS, FIXTURE_VMLINUX, LIVE_VMLINUX


@functools.cache
def seeds() -> Seeds:
    return Seeds.read(BLOBS, [FIXTURE_VMLINUX, LIVE_VMLINUX])


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(seed=st.sampled_from(SEED_NAMES), mutations=st.lists(MUTATIONS, min_size=1, max_size=4))
def test_mutated_blobs_raise_only_btf_error(seed: str, mutations: list[Mutation]) -> None:
    parse_mutated_and_exercise(seeds(), seed, mutations)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    seed=st.sampled_from(SEED_NAMES),
    mutations=st.lists(TYPE_WORD_MUTATIONS, min_size=1, max_size=3),
)
def test_mutated_type_records_raise_only_btf_error(seed: str, mutations: list[Mutation]) -> None:
    """Header intact, records damaged: most of these parse, so the accessors get the work."""
    parse_mutated_and_exercise(seeds(), seed, mutations)


def test_unmutated_seeds_parse_and_answer() -> None:
    for name in SEED_NAMES:
        btf = seeds().parse(name)
        exercise(btf)
        assert len(btf) > 0
