"""The BPF objects loaded in a kernel, as values: the bpf() UAPI's stable layouts and names
(`abi`), frozen values for programs, maps, links and BTF objects (`model`), and pure
decoders from the kernel's `bpf_*_info` bytes and fdinfo text (`decode`).

No I/O here: the reader in `bpf_mcp.readers.loaded` issues the read-only bpf() calls and
walks /proc and bpffs, then hands these values on.
"""

from __future__ import annotations

from .decode import (
    FdInfo,
    decode_btf_info,
    decode_link_info,
    decode_map_info,
    decode_prog_info,
    parse_fdinfo,
)
from .errors import BpfUnavailable, LoadedBpfError
from .model import BtfObject, Kind, LeftOut, Link, LinkTarget, LoadedBpf, Map, Owner, Program

__all__ = [
    "BpfUnavailable",
    "BtfObject",
    "FdInfo",
    "Kind",
    "LeftOut",
    "Link",
    "LinkTarget",
    "LoadedBpf",
    "LoadedBpfError",
    "Map",
    "Owner",
    "Program",
    "decode_btf_info",
    "decode_link_info",
    "decode_map_info",
    "decode_prog_info",
    "parse_fdinfo",
]
