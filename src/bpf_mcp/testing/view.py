"""A View of a sysroot, built synchronously: every index the router would hold."""

from __future__ import annotations

import time
from pathlib import Path

from bpf_mcp.btf import parse_btf
from bpf_mcp.config import Config
from bpf_mcp.index import Indexes, View
from bpf_mcp.index.indexes import BtfIndex, KallsymsIndex, TracefsIndex
from bpf_mcp.kallsyms import parse_kallsyms
from bpf_mcp.readers.reference import default_path
from bpf_mcp.readers.system import collect
from bpf_mcp.readers.tracefs import locate, read_batch
from bpf_mcp.reference import parse_reference
from bpf_mcp.sources import Source
from bpf_mcp.status import SourceStatus
from bpf_mcp.tracefs import TracefsChunk, parse_available_events


def build_view(sysroot: Path) -> View:
    """Every index of `sysroot`, built synchronously by the readers' own parsing steps,
    with every source marked ready now. Raises what the readers and parsers raise for a
    sysroot that lacks a source or holds a corrupt one."""
    config = Config(sysroot=sysroot)
    tracefs_root = locate(config)
    events = list(parse_available_events((tracefs_root / "available_events").read_text()))
    records, broken = read_batch(sysroot, tracefs_root, events)
    kallsyms = parse_kallsyms((sysroot / "proc/kallsyms").read_text())
    btf = parse_btf((sysroot / "sys/kernel/btf/vmlinux").read_bytes())
    now = time.time()
    return View(
        indexes=Indexes.of(
            {
                Source.TRACEFS: TracefsIndex.build(
                    [TracefsChunk(str(tracefs_root), tuple(records), tuple(broken))]
                ),
                Source.KALLSYMS: KallsymsIndex.build([kallsyms]),
                Source.BTF: BtfIndex.build([btf]),
                Source.REFERENCE: parse_reference(default_path().read_text()),
                Source.SYSTEM: collect(config),
            }
        ),
        statuses={s: SourceStatus(s, "ready", now, loaded_at=now) for s in Source},
        sysroot=str(sysroot),
    )
