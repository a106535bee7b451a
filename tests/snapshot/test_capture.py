"""Capturing: what is read, what is recorded as missed and why, and the command."""

from __future__ import annotations

import datetime
import gzip
import os
from pathlib import Path

import pytest

from bpf_mcp.cli import main
from bpf_mcp.snapshot import (
    arch_family,
    arch_from_config,
    capture,
    open_snapshot,
    read_manifest,
    write_snapshot,
)
from bpf_mcp.sources import Source

from ..support import live_readable

KALLSYMS = (
    "ffffffff81000000 T _stext\n"
    "ffffffff81001000 t do_one_initcall.cold\n"
    "ffffffffc0000000 t bbr_main\t[tcp_bbr]\n"
)
HIDDEN = "".join("0" * 16 + line[16:] + "\n" for line in KALLSYMS.splitlines())


def _sysroot(root: Path, files: dict[str, bytes | str]) -> Path:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def _missed(root: Path) -> dict[str, str]:
    return {m.path: m.reason for m in capture(root).manifest.missed}


def test_a_bare_tree_records_every_missing_source_with_its_fix(tmp_path: Path) -> None:
    missed = _missed(_sysroot(tmp_path, {"proc/sys/kernel/osrelease": "6.1.0\n"}))
    assert "mount -t tracefs nodev /sys/kernel/tracing" in missed["sys/kernel/tracing"]
    assert "mount -t securityfs" in missed["sys/kernel/security/lsm"]
    assert "mount -t debugfs" in missed["sys/kernel/debug/kprobes/blacklist"]
    assert missed["sys/kernel/btf"].startswith("No such file or directory (ENOENT)")
    assert "proc/kallsyms" in missed
    assert "boot/config-6.1.0" in missed  # the fallback after proc/config.gz, named too
    assert "proc/sys/kernel/osrelease" not in missed


def test_tracefs_is_read_from_its_old_mount_and_stored_at_the_new(tmp_path: Path) -> None:
    root = _sysroot(
        tmp_path,
        {
            "sys/kernel/debug/tracing/available_events": "sched:sched_switch\n",
            "sys/kernel/debug/tracing/events/sched/sched_switch/format": "name: sched_switch\n",
            "sys/kernel/debug/tracing/events/sched/enable": "0\n",
            "sys/kernel/debug/tracing/events/header_page": "x\n",
        },
    )
    captured = capture(root)
    assert sorted(p for p in captured.contents if p.startswith("sys/kernel/tracing")) == [
        "sys/kernel/tracing/available_events",
        "sys/kernel/tracing/events/sched/sched_switch/format",
    ]
    missed = {m.path: m.reason for m in captured.manifest.missed}
    assert "CONFIG_KPROBE_EVENTS" in missed["sys/kernel/tracing/kprobe_events"]
    assert Source.TRACEFS in captured.manifest.sources()


def test_a_fifo_where_a_kernel_file_belongs_is_recorded_not_waited_on(tmp_path: Path) -> None:
    root = _sysroot(tmp_path, {})
    (root / "proc").mkdir()
    os.mkfifo(root / "proc/kallsyms")
    assert _missed(root)["proc/kallsyms"] == "not a regular file (EINVAL)"


def test_addresses_are_zeroed_unless_asked_for(tmp_path: Path) -> None:
    root = _sysroot(tmp_path, {"proc/kallsyms": KALLSYMS})
    plain = capture(root)
    assert plain.contents["proc/kallsyms"].decode() == HIDDEN
    assert not plain.manifest.addresses
    kept = capture(root, with_addresses=True)
    assert kept.contents["proc/kallsyms"].decode() == KALLSYMS
    assert kept.manifest.addresses


def test_asking_for_addresses_the_kernel_hid_says_so(tmp_path: Path) -> None:
    root = _sysroot(tmp_path, {"proc/kallsyms": HIDDEN})
    captured = capture(root, with_addresses=True)
    assert not captured.manifest.addresses
    reasons = {m.path: m.reason for m in captured.manifest.missed}
    assert "showed every address as zero" in reasons["proc/kallsyms addresses"]


def test_the_architecture_of_a_foreign_tree_comes_from_its_config(tmp_path: Path) -> None:
    config = "CONFIG_ARM64=y\nCONFIG_64BIT=y\n"
    root = _sysroot(tmp_path, {"proc/config.gz": gzip.compress(config.encode())})
    assert capture(root).manifest.arch == "aarch64"
    boot = _sysroot(
        tmp_path / "boot-only",
        {
            "proc/sys/kernel/osrelease": "6.12.1-cloud\n",
            "boot/config-6.12.1-cloud": "CONFIG_X86_64=y\n",
        },
    )
    captured = capture(boot)
    assert captured.manifest.arch == "x86_64"
    assert "boot/config-6.12.1-cloud" in captured.contents


@pytest.mark.parametrize(
    ("config", "machine"),
    [
        ({"CONFIG_X86_64": "y"}, "x86_64"),
        ({"CONFIG_X86_32": "y", "CONFIG_X86": "y"}, "i686"),
        ({"CONFIG_RISCV": "y", "CONFIG_64BIT": "y"}, "riscv64"),
        ({"CONFIG_PPC64": "y", "CONFIG_CPU_LITTLE_ENDIAN": "y"}, "ppc64le"),
        ({"CONFIG_PPC64": "y"}, "ppc64"),
        ({"CONFIG_S390": "y"}, "s390x"),
        ({"CONFIG_ARM": "y"}, "arm"),
        ({}, None),
    ],
)
def test_arch_from_config(config: dict[str, str], machine: str | None) -> None:
    assert arch_from_config(config) == machine


def test_one_architecture_has_one_family_whatever_its_spelling() -> None:
    assert arch_family("amd64") == arch_family("x86_64") == "x86_64"
    assert arch_family("arm64") == arch_family("aarch64")
    assert arch_family("armv7l") == arch_family("arm")
    assert arch_family("i686") == arch_family("i386")
    assert arch_family("x86_64") != arch_family("aarch64")


def test_the_capture_time_is_recorded_in_utc(tmp_path: Path) -> None:
    when = datetime.datetime(
        2026, 12, 7, 22, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    assert capture(_sysroot(tmp_path, {}), now=when).manifest.captured_at == "2026-12-07T21:30:00Z"


def test_the_command_writes_a_snapshot_of_a_sysroot(
    tmp_path: Path, fixture_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fixture.tar.xz"
    assert main(["snapshot", "--out", str(out), "--sysroot", str(fixture_root)]) == 0
    err = capsys.readouterr().err
    assert f"wrote {out}" in err
    assert "not captured: sys/kernel/tracing/available_filter_functions" in err
    assert read_manifest(out).release == "6.18.44-fc-v782"
    assert oct(out.stat().st_mode & 0o777) == oct(0o444)
    assert main(["snapshot", "--out", str(tmp_path), "--sysroot", str(fixture_root)]) == 2
    assert main(["snapshot", "--out", str(out), "--sysroot", str(tmp_path / "nope")]) == 2


@pytest.mark.live
def test_the_running_kernel(tmp_path: Path) -> None:
    reason = live_readable("/sys/kernel/btf/vmlinux", "/proc/sys/kernel/random/boot_id")
    if reason:
        pytest.skip(reason)
    captured = capture()
    manifest = captured.manifest
    assert manifest.arch == os.uname().machine
    assert manifest.release == os.uname().release
    assert manifest.boot_id == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert (
        captured.contents["sys/kernel/btf/vmlinux"] == Path("/sys/kernel/btf/vmlinux").read_bytes()
    )
    archive = tmp_path / "live.tar.xz"
    write_snapshot(archive, captured)
    assert open_snapshot(archive, tmp_path / "tree", expect_arch=os.uname().machine) == manifest
