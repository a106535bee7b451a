"""The hard-coded UAPI in bpf_mcp.loaded.abi agrees with the kernel's own BTF.

Runs on the captured 6.18 vmlinux BTF under fixtures/ (always), and on the running
kernel's /sys/kernel/btf/vmlinux where it is readable (marked live).
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path

import pytest

from bpf_mcp.btf import Btf, Kind, parse_btf
from bpf_mcp.btf.layout import layouts_of
from bpf_mcp.loaded import abi

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "linux-6.18" / "sys" / "kernel" / "btf" / "vmlinux"
LIVE = Path("/sys/kernel/btf/vmlinux")


@functools.cache
def _parse(path: Path) -> Btf:
    return parse_btf(path.read_bytes())


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(FIXTURE, id="fixture"),
        pytest.param(LIVE, id="live", marks=pytest.mark.live),
    ],
)
def kernel(request: pytest.FixtureRequest) -> Btf:
    path: Path = request.param
    try:
        return _parse(path)
    except OSError as exc:
        pytest.skip(f"{path} is not readable here: {exc.strerror}")


def _named(btf: Btf, name: str, kind: Kind) -> int:
    ids = [t for t in btf.find(name) if btf.kind(t) is kind]
    assert ids, f"no {kind.label} {name} in this BTF"
    return ids[0]


def _member(btf: Btf, tid: int, path: str) -> tuple[int, int, int]:
    """(bit offset, size in bytes, member type id) of a dotted member path, looking
    through anonymous structs and unions as C does."""
    layouts = layouts_of(btf)

    def find(tid: int, name: str, base: int) -> tuple[int, int] | None:
        for m in btf.members(btf.resolve(tid)):
            if m.name == name:
                return base + m.bit_offset, m.type_id
            if not m.name:
                found = find(m.type_id, name, base + m.bit_offset)
                if found is not None:
                    return found
        return None

    offset = 0
    for part in path.split("."):
        found = find(tid, part, offset)
        assert found is not None, f"no member {path} (at {part})"
        offset, tid = found
    return offset, layouts.sizeof(tid), tid


def _c_struct(layout: abi.Layout) -> str:
    base = layout.name.split("(")[0]
    return base if base.startswith("bpf_") else "bpf_link_info"


INFO_LAYOUTS = [abi.PROG_INFO, abi.MAP_INFO, abi.BTF_INFO, abi.LINK_INFO]
UNION_LAYOUTS = [*abi.LINK_UNIONS.values(), abi.ITER_TASK_LAYOUT, abi.PERF_EVENT_EVENT_LAYOUT]


@pytest.mark.parametrize("layout", INFO_LAYOUTS + UNION_LAYOUTS, ids=lambda lay: lay.name)
def test_field_offsets_and_sizes_match_btf(kernel: Btf, layout: abi.Layout) -> None:
    struct_id = _named(kernel, _c_struct(layout), Kind.STRUCT)
    assert layouts_of(kernel).sizeof(struct_id) == layout.size
    for field, (offset, code) in layout.fields.items():
        if field == "gpl_word":
            continue
        bits, size, _ = _member(kernel, struct_id, field)
        assert (bits, size) == (offset * 8, struct.calcsize("=" + code)), field


def test_gpl_compatible_is_the_first_bit_of_its_word(kernel: Btf) -> None:
    struct_id = _named(kernel, "bpf_prog_info", Kind.STRUCT)
    member = next(m for m in kernel.members(struct_id) if m.name == "gpl_compatible")
    assert (member.bit_offset, member.bitfield_size) == (abi.PROG_INFO.offset("gpl_word") * 8, 1)


@pytest.mark.parametrize(
    ("struct_name", "field", "where"),
    [
        ("bpf_prog_info", "tag", abi.PROG_TAG),
        ("bpf_prog_info", "name", abi.PROG_NAME),
        ("bpf_map_info", "name", abi.MAP_NAME),
    ],
)
def test_byte_arrays_match_btf(
    kernel: Btf, struct_name: str, field: str, where: tuple[int, int]
) -> None:
    bits, size, tid = _member(kernel, _named(kernel, struct_name, Kind.STRUCT), field)
    assert kernel.kind(kernel.resolve(tid)) is Kind.ARRAY
    assert (bits // 8, size) == where


def test_func_info_record_size(kernel: Btf) -> None:
    tid = _named(kernel, "bpf_func_info", Kind.STRUCT)
    assert layouts_of(kernel).sizeof(tid) == abi.FUNC_INFO_REC_SIZE


@pytest.mark.parametrize("layout", [abi.ATTR_GET_ID, abi.ATTR_INFO, abi.ATTR_OBJ_GET], ids=str)
def test_bpf_attr_pieces_match_btf(kernel: Btf, layout: abi.Layout) -> None:
    attr = _named(kernel, "bpf_attr", Kind.UNION)
    prefix = "info." if layout is abi.ATTR_INFO else ""
    for field, (offset, code) in layout.fields.items():
        bits, size, _ = _member(kernel, attr, prefix + field)
        assert (bits, size) == (offset * 8, struct.calcsize("=" + code)), field


def _enum(btf: Btf, name: str, prefix: str) -> dict[int, str]:
    values: dict[int, str] = {}
    for v in btf.enum_values(_named(btf, name, Kind.ENUM)):
        if v.name.startswith("__MAX") or v.name.endswith("_DEPRECATED"):
            continue
        values.setdefault(v.value, v.name.removeprefix(prefix).lower())
    return values


@pytest.mark.parametrize(
    ("enum", "prefix", "names"),
    [
        ("bpf_prog_type", "BPF_PROG_TYPE_", abi.PROG_TYPES),
        ("bpf_map_type", "BPF_MAP_TYPE_", abi.MAP_TYPES),
        ("bpf_link_type", "BPF_LINK_TYPE_", abi.LINK_TYPES),
        ("bpf_attach_type", "BPF_", abi.ATTACH_TYPES),
    ],
)
def test_type_names_match_the_kernel_enums(
    kernel: Btf, enum: str, prefix: str, names: tuple[str, ...]
) -> None:
    from_kernel = _enum(kernel, enum, prefix)
    # Our table may be newer than a kernel, never different where both have a value.
    assert {i: n for i, n in enumerate(names) if i in from_kernel} == from_kernel
    assert len(names) >= len(from_kernel)


def test_command_numbers_match_the_kernel_enum(kernel: Btf) -> None:
    values = {v.name: v.value for v in kernel.enum_values(_named(kernel, "bpf_cmd", Kind.ENUM))}
    for name, number in abi.COMMANDS.items():
        assert values[name] == number, name


def test_link_type_constants_index_the_names() -> None:
    assert abi.LINK_TYPES[abi.LINK_RAW_TRACEPOINT] == "raw_tracepoint"
    assert abi.LINK_TYPES[abi.LINK_SOCKMAP] == "sockmap"
    assert set(abi.LINK_UNIONS) == set(range(1, len(abi.LINK_TYPES)))


def test_layout_refuses_overlapping_and_oversized_fields() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        abi.Layout("x", 16, {"a": (0, "Q"), "b": (4, "I")})
    with pytest.raises(ValueError, match="past its size"):
        abi.Layout("x", 4, {"a": (0, "Q")})


def test_syscall_numbers() -> None:
    assert abi.syscall_number("x86_64") == 321
    assert abi.syscall_number("aarch64") == 280
    assert abi.syscall_number("riscv64") is None
