"""Shared test fixtures: the captured kernel under fixtures/linux-6.18 and a View of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpf_mcp.index import View
from bpf_mcp.testing.fixtures import unpack_fixture
from bpf_mcp.testing.view import build_view

from .support import FIXTURE_ROOT, LINUX_6_12, live_readable


@pytest.fixture(scope="session")
def fixture_root() -> Path:
    return FIXTURE_ROOT


@pytest.fixture(scope="session")
def linux_6_12_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fixtures/linux-6.12 (Debian's 6.12 cloud kernel) as a sysroot: BTF of vmlinux and
    four modules, config, release and version; no kallsyms, no tracefs."""
    return unpack_fixture(LINUX_6_12, tmp_path_factory.mktemp("linux-6.12"))


@pytest.fixture(scope="session")
def view() -> View:
    """The fixture kernel, indexed once per test session."""
    return build_view(FIXTURE_ROOT)


@pytest.fixture(scope="session")
def live_view() -> View:
    """The running kernel, indexed once; skips where its sources cannot be read."""
    reason = live_readable(
        "/sys/kernel/tracing/available_events", "/proc/kallsyms", "/sys/kernel/btf/vmlinux"
    )
    if reason:
        pytest.skip(f"live kernel sources unavailable: {reason} (mount tracefs as root)")
    return build_view(Path("/"))
