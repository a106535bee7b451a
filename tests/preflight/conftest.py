"""The preflight corpus: objects compiled from programs/*.bpf.c for the fixture kernel."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bpf_mcp.btf import Btf, parse_btf
from bpf_mcp.preflight import KernelFacts

HERE = Path(__file__).resolve().parent
OBJECTS = HERE / "objects"
FIXTURE = HERE.parent.parent / "fixtures" / "linux-6.18"
FIXTURE_BTF = FIXTURE / "sys/kernel/btf/vmlinux"


def corpus() -> list[Path]:
    """Every compiled object of the corpus, by name."""
    return sorted(OBJECTS.glob("*.bpf.o"))


def kallsyms_names(path: Path) -> frozenset[str]:
    """The symbol names of a /proc/kallsyms copy."""
    names = set()
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3:
            names.add(parts[2])
    return frozenset(names)


def read_config(path: Path) -> dict[str, str]:
    """CONFIG_X -> value of a config.gz (options that are not set are left out)."""
    config = {}
    with gzip.open(path, "rt") as lines:
        for line in lines:
            if line.startswith("CONFIG_") and "=" in line:
                key, value = line.rstrip("\n").split("=", 1)
                config[key] = value
    return config


@pytest.fixture(scope="session")
def fixture_btf() -> Btf:
    return parse_btf(FIXTURE_BTF.read_bytes())


@pytest.fixture(scope="session")
def fixture_facts(fixture_btf: Btf) -> KernelFacts:
    """The captured kernel as preflight sees it: BTF, config, tracepoints, LSMs, kallsyms
    (function verdicts come with the server's indexes, not here)."""
    events = (FIXTURE / "sys/kernel/tracing/available_events").read_text().split()
    lsms = (FIXTURE / "sys/kernel/security/lsm").read_text().strip().split(",")
    config = read_config(FIXTURE / "proc/config.gz")
    symbols = kallsyms_names(FIXTURE / "proc/kallsyms")
    return KernelFacts(
        btf=fixture_btf,
        config=config,
        release=(FIXTURE / "proc/sys/kernel/osrelease").read_text().strip(),
        tracepoints=frozenset(e.replace(":", "/") for e in events),
        lsm=("yes", "bpf is an active LSM") if "bpf" in lsms else ("no", "bpf is not active"),
        kprobes=("yes", "CONFIG_KPROBES=y")
        if config.get("CONFIG_KPROBES") == "y"
        else ("no", "kernel built without kprobes (CONFIG_KPROBES is not set)"),
        symbols=symbols.__contains__,
    )
