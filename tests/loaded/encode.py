"""Build `bpf_*_info` bytes for tests from named fields (the offsets come from abi, which
test_abi checks against the kernel's BTF)."""

from __future__ import annotations

from collections.abc import Mapping

from bpf_mcp.loaded import abi


def _with(layout: abi.Layout, values: Mapping[str, int], raw: Mapping[int, bytes]) -> bytes:
    buf = layout.pack(values)
    for offset, data in raw.items():
        buf[offset : offset + len(data)] = data
    return bytes(buf)


def prog_info(*, name: bytes = b"", tag: bytes = b"", **fields: int) -> bytes:
    """bpf_prog_info bytes with `fields` set (gpl_word for the gpl_compatible bit)."""
    return _with(
        abi.PROG_INFO,
        fields,
        {abi.PROG_NAME[0]: name[: abi.PROG_NAME[1]], abi.PROG_TAG[0]: tag[: abi.PROG_TAG[1]]},
    )


def map_info(*, name: bytes = b"", **fields: int) -> bytes:
    """bpf_map_info bytes with `fields` set."""
    return _with(abi.MAP_INFO, fields, {abi.MAP_NAME[0]: name[: abi.MAP_NAME[1]]})


def btf_info(**fields: int) -> bytes:
    """bpf_btf_info bytes with `fields` set."""
    return _with(abi.BTF_INFO, fields, {})


def link_info(
    code: int,
    *,
    id: int,
    prog_id: int = 0,
    fields: Mapping[str, int] | None = None,
    raw: Mapping[int, bytes] | None = None,
) -> bytes:
    """bpf_link_info bytes of link type `code` with union `fields` set by dotted name and
    `raw` bytes written at absolute offsets."""
    head = abi.LINK_INFO.pack({"type": code, "id": id, "prog_id": prog_id})
    layout = abi.LINK_UNIONS.get(code)
    if layout is not None and fields:
        union = layout.pack(fields)
        head[abi.LINK_UNION :] = union[abi.LINK_UNION :]
    for offset, data in (raw or {}).items():
        head[offset : offset + len(data)] = data
    return bytes(head)
