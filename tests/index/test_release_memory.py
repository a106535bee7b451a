"""Index builds hand freed C heap memory back to the system where the C library can."""

from __future__ import annotations

import platform

import pytest

from bpf_mcp.index import indexes


def test_release_freed_memory_runs() -> None:
    indexes.release_freed_memory()
    indexes.release_freed_memory()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_glibc_malloc_trim_is_found() -> None:
    trim = indexes.find_malloc_trim()
    assert trim is not None
    assert trim(0) in (0, 1)
