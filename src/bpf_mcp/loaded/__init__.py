"""The BPF objects loaded in the running kernel, read-only: programs, maps, links and BTF.

`decode` turns the kernel's `bpf_*_info` bytes into frozen values (pure, fuzzed);
`syscall` is the small typed layer over bpf(2) that issues only read-only commands;
`scan.snapshot` lists everything once, with owning processes and pinned paths.
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
from .scan import list_ids, snapshot
from .syscall import BpfCalls, LibcBpf

__all__ = [
    "BpfCalls",
    "BpfUnavailable",
    "BtfObject",
    "FdInfo",
    "Kind",
    "LeftOut",
    "LibcBpf",
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
    "list_ids",
    "parse_fdinfo",
    "snapshot",
]
