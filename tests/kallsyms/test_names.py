"""base_name, is_clone and is_padding."""

from __future__ import annotations

import pytest

from bpf_mcp.kallsyms import base_name, is_clone, is_padding


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("vfs_read", "vfs_read"),
        ("tcp_v4_rcv.isra.0", "tcp_v4_rcv"),
        ("update_sd_lb_stats.constprop.0", "update_sd_lb_stats"),
        ("free_pages.part.0", "free_pages"),
        ("bpf_int_jit_compile.cold", "bpf_int_jit_compile"),
        ("foo.cold.12", "foo"),
        ("foo.llvm.1234567890123456789", "foo"),
        ("foo.lto_priv.0", "foo"),
        ("foo.constprop.0.isra.0", "foo"),
        ("foo.isra.0.cold", "foo"),
        ("foo.part.0.constprop.1.cold", "foo"),
        ("foo.isra", "foo.isra"),
        ("foo.isra.x", "foo.isra.x"),
        ("foo.slowpath", "foo.slowpath"),
        ("foo.isra.0bar", "foo.isra.0bar"),
        ("foo.isra.0bar.cold", "foo.isra.0bar"),
        (".cold", ".cold"),
        ("__pfx_foo.isra.0", "__pfx_foo"),
        ("", ""),
    ],
)
def test_base_name(name: str, base: str) -> None:
    assert base_name(name) == base
    assert is_clone(name) == (name != base)


def test_is_padding() -> None:
    assert is_padding("__pfx_vfs_read")
    assert is_padding("__pfx_foo.isra.0")
    assert not is_padding("vfs_read")
    assert not is_padding("__pf_x")
