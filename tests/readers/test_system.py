"""The system reader: its parsers, what it finds in the captured kernel, and that every
unreadable file becomes a recorded fact rather than a failure."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
import trio

from bpf_mcp.config import Config
from bpf_mcp.readers.system import SystemReader, collect
from bpf_mcp.sources import Source
from bpf_mcp.system import (
    SystemFacts,
    capability_names,
    parse_cap_effective,
    parse_config,
    parse_first_number,
    parse_function_list,
    parse_kprobe_blacklist,
    parse_lockdown,
    parse_lsm_list,
    parse_mounts,
)

# -- parsers ------------------------------------------------------------------------------


def test_config_values_and_unset_flags() -> None:
    text = 'CONFIG_BPF=y\n# CONFIG_KPROBES is not set\nCONFIG_LSM="bpf,x"\n\n# comment\nnoise'
    assert parse_config(text) == {"CONFIG_BPF": "y", "CONFIG_KPROBES": "n", "CONFIG_LSM": '"bpf,x"'}


@pytest.mark.parametrize(
    ("text", "active", "modes"),
    [
        (
            "none [integrity] confidentiality\n",
            "integrity",
            ("none", "integrity", "confidentiality"),
        ),
        ("[none] integrity confidentiality", "none", ("none", "integrity", "confidentiality")),
        ("none integrity", None, ("none", "integrity")),
        ("", None, ()),
    ],
)
def test_lockdown_mode(text: str, active: str | None, modes: tuple[str, ...]) -> None:
    assert parse_lockdown(text) == (active, modes)


def test_lsm_list() -> None:
    assert parse_lsm_list("lockdown,capability,,bpf\n") == ("lockdown", "capability", "bpf")


def test_capabilities_from_status() -> None:
    status = "Name:\tx\nCapInh:\t0\nCapEff:\t000001fffeffffff\nCapBnd:\t0\n"
    mask = parse_cap_effective(status)
    assert mask == 0x1FFFEFFFFFF
    names = capability_names(mask)
    assert "CAP_BPF" in names and "CAP_PERFMON" in names and "CAP_SYS_RESOURCE" not in names
    assert parse_cap_effective("CapEff:\tzz\n") is None
    assert parse_cap_effective("Name: x\n") is None
    assert capability_names(1 << 45) == ("cap_45",)


def test_lists_and_numbers() -> None:
    assert parse_function_list("vfs_read\nfoo [mod]\n\n") == {"vfs_read", "foo"}
    blacklist = "0xffffffff81000000-0xffffffff81000010\tdo_int3\n0x0-0x0 nmi [x]\nbad\n"
    assert parse_kprobe_blacklist(blacklist) == {"do_int3", "nmi"}
    assert parse_first_number("48514 pages:192 groups: 2\n") == 48514
    assert parse_first_number("none") is None


def test_mounts_decode_escapes() -> None:
    (mount,) = parse_mounts("nodev /sys/kernel/my\\040dir tracefs rw 0 0\nshort line\n")
    assert (mount.mount_point, mount.fs_type) == ("/sys/kernel/my dir", "tracefs")


# -- the captured kernel --------------------------------------------------------------------


@pytest.fixture(scope="module")
def facts(fixture_root: Path) -> SystemFacts:
    return collect(Config(sysroot=fixture_root))


def test_fixture_facts(facts: SystemFacts, fixture_root: Path) -> None:
    assert facts.release == "6.18.44-fc-v782"
    assert facts.arch() == "x86_64"
    assert facts.flag("CONFIG_KPROBES") == "n"
    assert facts.flag("CONFIG_BPF_SYSCALL") == "y"
    assert facts.flag("CONFIG_NOT_A_FLAG") == "n"
    assert facts.config_path == str(fixture_root / "proc/config.gz")
    assert facts.sysctls["kernel.unprivileged_bpf_disabled"] == "2"
    assert facts.sysctls["kernel.perf_event_paranoid"] == "2"
    assert facts.sysctls["kernel.kptr_restrict"] == "0"
    assert facts.lockdown == "integrity"
    assert facts.lsms is not None and "bpf" in facts.lsms
    assert facts.pmus is not None and "kprobe" not in facts.pmus and "tracepoint" in facts.pmus
    assert facts.kprobe_events is False
    assert facts.ftrace_records == 48514
    assert facts.btf_bytes == (fixture_root / "sys/kernel/btf/vmlinux").stat().st_size
    assert facts.mount_points("debugfs") == ("/sys/kernel/debug",)


def test_fixture_unreadable_files_are_facts(facts: SystemFacts) -> None:
    unreadable = {f.role: f for f in facts.files if not f.readable}
    assert set(unreadable) == {"ftrace functions", "kprobe_events", "kprobe blacklist"}
    assert facts.filter_functions is None and facts.kprobe_blacklist is None
    # The capture could not read available_filter_functions (EPERM) although the kernel
    # has dynamic ftrace: the fact says the copy is incomplete, not that ftrace is absent.
    assert "CONFIG_DYNAMIC_FTRACE=y" in unreadable["ftrace functions"].detail
    assert "no kprobes" in unreadable["kprobe blacklist"].detail


def test_empty_sysroot_records_every_file_and_never_raises(tmp_path: Path) -> None:
    facts = collect(Config(sysroot=tmp_path))
    assert facts.release is None and facts.config is None and facts.pmus is None
    states = {f.role: f.state for f in facts.files}
    assert states["config"] == "missing"
    assert states["ftrace functions"] == "not-mounted"
    assert states["kprobe blacklist"] == "not-mounted"
    assert states["lockdown"] == "not-mounted"
    assert all(f.fix for f in facts.files if f.state == "not-mounted")
    # The process's own capabilities are not under the sysroot.
    assert facts.file("capabilities") is not None and facts.cap_effective is not None


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/config.gz").write_bytes(b"not gzip")
    (tmp_path / "proc/version").mkdir()  # a directory where a file belongs
    status = tmp_path / "status"
    status.write_text("Name: x\n")
    facts = collect(Config(sysroot=tmp_path), status)
    assert facts.file("config").state == "error"  # type: ignore[union-attr]
    assert "gzip" in facts.file("config").detail  # type: ignore[union-attr]
    assert facts.file("version").state == "error"  # type: ignore[union-attr]
    assert facts.file("capabilities").state == "error"  # type: ignore[union-attr]
    assert facts.cap_effective is None


def test_boot_config_is_the_fallback(tmp_path: Path) -> None:
    (tmp_path / "proc/sys/kernel").mkdir(parents=True)
    (tmp_path / "proc/sys/kernel/osrelease").write_text("6.1.0-test\n")
    (tmp_path / "boot").mkdir()
    (tmp_path / "boot/config-6.1.0-test").write_text("CONFIG_KPROBES=y\n")
    facts = collect(Config(sysroot=tmp_path))
    assert facts.flag("CONFIG_KPROBES") == "y"
    assert facts.config_path == str(tmp_path / "boot/config-6.1.0-test")
    assert facts.file("config").state == "missing"  # type: ignore[union-attr]


def test_gzip_config(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/config.gz").write_bytes(gzip.compress(b"CONFIG_BPF_JIT=y\n"))
    assert collect(Config(sysroot=tmp_path)).flag("CONFIG_BPF_JIT") == "y"


async def test_reader_emits_one_value_and_a_changing_signature(tmp_path: Path) -> None:
    reader = SystemReader()
    assert reader.source is Source.SYSTEM
    config = Config(sysroot=tmp_path)
    emitted: list[object] = []

    async def emit(payload: object) -> None:
        emitted.append(payload)

    with trio.fail_after(10):
        first = await reader.signature(config)
        loaded = await reader.load(config, emit)
        (tmp_path / "proc/sys/kernel").mkdir(parents=True)
        (tmp_path / "proc/sys/kernel/kptr_restrict").write_text("1\n")
        second = await reader.signature(config)
    assert len(emitted) == 1 and isinstance(emitted[0], SystemFacts)
    assert "unreadable" in loaded.summary
    assert first != second


@pytest.mark.live
def test_live_facts_match_the_running_kernel() -> None:
    if not os.path.exists("/proc/config.gz"):
        pytest.skip("/proc/config.gz does not exist on this machine")
    facts = collect(Config())
    assert facts.release == os.uname().release
    assert facts.machine == os.uname().machine
    assert facts.btf_bytes == os.stat("/sys/kernel/btf/vmlinux").st_size
