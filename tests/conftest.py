"""Shared test fixtures: the captured kernel under fixtures/linux-6.18 and a View of it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

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

REPO = Path(__file__).resolve().parent.parent
FIXTURE_ROOT = REPO / "fixtures" / "linux-6.18"


def build_view(sysroot: Path) -> View:
    """Every index of `sysroot`, built synchronously by the readers' own parsing steps."""
    config = Config(sysroot=sysroot)
    tracefs_root = locate(config)
    events = list(parse_available_events((tracefs_root / "available_events").read_text()))
    records, _ = read_batch(tracefs_root, events)
    kallsyms = parse_kallsyms((sysroot / "proc/kallsyms").read_text())
    btf = parse_btf((sysroot / "sys/kernel/btf/vmlinux").read_bytes())
    now = time.time()
    return View(
        indexes=Indexes.of(
            {
                Source.TRACEFS: TracefsIndex.build(
                    [TracefsChunk(str(tracefs_root), tuple(records))]
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


@pytest.fixture(scope="session")
def fixture_root() -> Path:
    return FIXTURE_ROOT


@pytest.fixture(scope="session")
def view() -> View:
    """The fixture kernel, indexed once per test session."""
    return build_view(FIXTURE_ROOT)


def live_readable(*paths: str) -> str | None:
    """None when every path can be read here, else the reason a live test must skip."""
    for path in paths:
        if not os.path.exists(path):
            return f"{path} does not exist on this machine"
        if not os.access(path, os.R_OK):
            return f"{path} is not readable by this user"
    return None


@pytest.fixture(scope="session")
def live_view() -> View:
    """The running kernel, indexed once; skips where its sources cannot be read."""
    reason = live_readable(
        "/sys/kernel/tracing/available_events", "/proc/kallsyms", "/sys/kernel/btf/vmlinux"
    )
    if reason:
        pytest.skip(f"live kernel sources unavailable: {reason} (mount tracefs as root)")
    return build_view(Path("/"))
