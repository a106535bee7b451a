"""Shared fixtures: the committed BTF blobs and the running kernel's vmlinux."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from bpf_mcp.btf import Btf, parse_btf

from .oracle import bpftool, dump

ROOT = Path(__file__).resolve().parents[2]
BLOBS = ROOT / "fixtures" / "btf"
LIVE_VMLINUX = Path("/sys/kernel/btf/vmlinux")
FIXTURE_VMLINUX = ROOT / "fixtures" / "linux-6.18" / "sys" / "kernel" / "btf" / "vmlinux"


def blob(name: str) -> bytes:
    """The bytes of fixtures/btf/<name>.btf."""
    return (BLOBS / f"{name}.btf").read_bytes()


def read_or_skip(path: Path) -> bytes:
    """The bytes at `path`, or skip the test saying why they cannot be read."""
    try:
        return path.read_bytes()
    except OSError as err:
        pytest.skip(f"{path} is not readable here: {err.strerror}")


@pytest.fixture(scope="session")
def kinds() -> Btf:
    return parse_btf(blob("kinds"), object_name="kinds")


@pytest.fixture(scope="session")
def tags() -> Btf:
    return parse_btf(blob("tags"), object_name="tags")


@pytest.fixture(scope="session")
def base() -> Btf:
    return parse_btf(blob("base"), object_name="base")


@pytest.fixture(scope="session")
def module(base: Btf) -> Btf:
    return parse_btf(blob("module"), base=base, object_name="module")


@pytest.fixture(scope="session")
def vmlinux_bytes() -> bytes:
    return read_or_skip(LIVE_VMLINUX)


@pytest.fixture(scope="session")
def vmlinux(vmlinux_bytes: bytes) -> Btf:
    return parse_btf(vmlinux_bytes)


@pytest.fixture(scope="session")
def tool() -> str:
    """The bpftool executable; skips the test where it is not installed."""
    found = bpftool()
    if found is None:
        pytest.skip("bpftool is not installed (Debian: apt-get install bpftool)")
    return found


@pytest.fixture(scope="session")
def live_dump(tool: str, vmlinux_bytes: bytes) -> list[dict[str, Any]]:
    """bpftool's JSON types of the running kernel's vmlinux, dumped once per session."""
    return dump(tool, LIVE_VMLINUX)


def matching_vmlinux() -> bytes | None:
    """A vmlinux byte-identical to the one module_vmlinux.btf was split against, if any."""
    want = (BLOBS / "module_vmlinux.base.sha256").read_text().strip()
    for path in (FIXTURE_VMLINUX, LIVE_VMLINUX):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() == want:
            return data
    return None


EXHAUSTIVE = "exhaustive"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{EXHAUSTIVE}: checks every type of the kernel (seconds each); run with -m {EXHAUSTIVE}",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Exhaustive checks run only when asked for by marker, to keep the default run fast."""
    if EXHAUSTIVE in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason=f"exhaustive check: run with -m {EXHAUSTIVE}")
    for item in items:
        if EXHAUSTIVE in item.keywords:
            item.add_marker(skip)
