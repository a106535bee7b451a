"""Input that is not a checkable BPF object: clear errors, nothing of the file echoed."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpf_mcp.preflight import (
    MAX_OBJECT_BYTES,
    BtfExtError,
    KernelFacts,
    ObjectError,
    check_object,
    read_object,
)

from .conftest import OBJECTS

SAMPLE = (OBJECTS / "core_fields.bpf.o").read_bytes()
# Strings in the sample that must never appear in an error about it.
SECRETS = ("sched_process_exec", "exec_fields", "GPL", "task_struct", "comm")


def error_for(data: bytes, facts: KernelFacts) -> str:
    with pytest.raises(ObjectError) as caught:
        check_object(data, facts, name="prog.o")
    message = str(caught.value)
    assert message.startswith("prog.o: ")
    assert message.isprintable()
    for secret in SECRETS:
        assert secret not in message
    return message


def test_the_sample_is_good(fixture_facts: KernelFacts) -> None:
    assert check_object(SAMPLE, fixture_facts).verdict == "yes"


@pytest.mark.parametrize("size", [0, 3, 16, 63, 64, 200, 4096, len(SAMPLE) // 2, len(SAMPLE) - 1])
def test_truncated(size: int, fixture_facts: KernelFacts) -> None:
    message = error_for(SAMPLE[:size], fixture_facts)
    assert any(word in message for word in ("truncated", "not an ELF", "past the end", "malformed"))


def test_wrong_machine(fixture_facts: KernelFacts) -> None:
    data = bytearray(SAMPLE)
    struct.pack_into("<H", data, 18, 62)  # EM_X86_64
    assert "machine 62, not BPF (247)" in error_for(bytes(data), fixture_facts)


def test_32_bit_and_linked_files(fixture_facts: KernelFacts) -> None:
    data = bytearray(SAMPLE)
    data[4] = 1
    assert "32-bit" in error_for(bytes(data), fixture_facts)
    data = bytearray(SAMPLE)
    struct.pack_into("<H", data, 16, 2)  # ET_EXEC
    assert "not a relocatable object" in error_for(bytes(data), fixture_facts)


def test_no_btf(fixture_facts: KernelFacts) -> None:
    data = SAMPLE.replace(b".BTF", b".XTF")
    assert "has no .BTF section" in error_for(data, fixture_facts)


def _btf_ext_offset() -> int:
    obj = read_object(SAMPLE)
    section = obj.section(".BTF.ext")
    assert section is not None
    return SAMPLE.index(section.data)


@pytest.mark.parametrize(
    ("offset", "value", "words"),
    [
        (0, 0x1234, "magic"),
        (4, 4, "header length"),
        (8 + 4 * 4, 0xFFFF, "outside"),  # core_relo offset
        (32, 3, "record size"),  # func_info record size
    ],
)
def test_corrupt_btf_ext(offset: int, value: int, words: str, fixture_facts: KernelFacts) -> None:
    data = bytearray(SAMPLE)
    start = _btf_ext_offset()
    fmt = "<H" if offset == 0 else "<I"
    struct.pack_into(fmt, data, start + offset, value)
    with pytest.raises(BtfExtError) as caught:
        check_object(bytes(data), fixture_facts, name="prog.o")
    assert words in str(caught.value)


def test_random_16_mib(fixture_facts: KernelFacts) -> None:
    noise = random.Random(15).randbytes(MAX_OBJECT_BYTES)
    assert "not an ELF file" in error_for(noise, fixture_facts)
    assert "limit" in error_for(noise + b"\0", fixture_facts)
    elf_noise = SAMPLE[:64] + noise[64:]
    error_for(elf_noise, fixture_facts)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(
    changes=st.lists(st.tuples(st.integers(0, len(SAMPLE) - 1), st.integers(0, 255)), max_size=8)
)
def test_mutated_objects_raise_only_object_errors(
    changes: list[tuple[int, int]], fixture_facts: KernelFacts
) -> None:
    data = bytearray(SAMPLE)
    for offset, value in changes:
        data[offset] = value
    message = "prog.o: "
    try:
        check_object(bytes(data), fixture_facts, name="prog.o")
    except ObjectError as err:
        message = str(err)
    assert message.startswith("prog.o: ")
