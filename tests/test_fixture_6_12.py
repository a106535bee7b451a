"""fixtures/linux-6.12: Debian's 6.12 cloud kernel, unpacked into a sysroot, read by the
same readers and parsers as a live kernel, and checked against bpftool."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bpf_mcp.btf import Kind, parse_btf
from bpf_mcp.calltool import call
from bpf_mcp.config import Config
from bpf_mcp.index.indexes import BtfIndex
from bpf_mcp.readers.system import collect

from .support import LINUX_6_12

RELEASE = "6.12.118+deb12-cloud-amd64"
MODULES = ("nf_conntrack", "sch_fq", "tcp_bbr", "veth")


def _capture() -> dict[str, dict[str, object]]:
    files: dict[str, dict[str, object]] = json.loads((LINUX_6_12 / "CAPTURE.json").read_text())[
        "files"
    ]
    return files


def test_every_file_unpacks_to_what_the_capture_recorded(linux_6_12_root: Path) -> None:
    for relative, entry in _capture().items():
        data = (linux_6_12_root / relative).read_bytes()
        assert len(data) == entry["bytes"], relative
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], relative


def test_the_fixture_stays_small() -> None:
    stored = sum(p.stat().st_size for p in LINUX_6_12.rglob("*") if p.is_file())
    assert stored < 3 * 1024 * 1024


def test_vmlinux_and_module_btf_parse_as_base_and_split(linux_6_12_root: Path) -> None:
    btf_dir = linux_6_12_root / "sys/kernel/btf"
    vmlinux = parse_btf((btf_dir / "vmlinux").read_bytes(), object_name="vmlinux")
    modules = [
        parse_btf((btf_dir / name).read_bytes(), base=vmlinux, object_name=name) for name in MODULES
    ]
    index = BtfIndex.build([vmlinux, *modules])
    assert all(m.first_id == vmlinux.last_id + 1 for m in modules)
    assert {"vfs_read", "tcp_v4_connect"} <= index.func_names
    (bbr,) = [m for m in modules if m.object_name == "tcp_bbr"]
    assert {bbr.name(t) for t in bbr.ids_of_kind(Kind.FUNC)} >= {"bbr_main", "bbr_init"}
    assert index.contexts is not None and "BPF_PROG_TYPE_KPROBE" in index.contexts


def test_the_system_reader_sees_release_version_and_config(linux_6_12_root: Path) -> None:
    facts = collect(Config(sysroot=linux_6_12_root))
    assert facts.release == RELEASE
    assert facts.version is not None and "#1 SMP PREEMPT_DYNAMIC Debian" in facts.version
    assert facts.config is not None
    assert facts.config["CONFIG_DEBUG_INFO_BTF_MODULES"] == "y"
    assert facts.config_path == str(linux_6_12_root / f"boot/config-{RELEASE}")


async def test_a_tool_answers_from_it_through_sysroot(
    linux_6_12_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Config(sysroot=linux_6_12_root)
    assert await call(config, "describe_btf_type", {"name": "tcp_sock"}, as_json=True) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["kind"] == "struct" and answer["size"] > 0


@pytest.mark.oracle
def test_type_counts_and_names_equal_bpftool(linux_6_12_root: Path) -> None:
    bpftool = shutil.which("bpftool")
    if bpftool is None:
        pytest.skip("bpftool is not installed")
    path = linux_6_12_root / "sys/kernel/btf/vmlinux"
    done = subprocess.run(
        [bpftool, "-j", "btf", "dump", "file", str(path)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    types = json.loads(done.stdout)["types"]
    btf = parse_btf(path.read_bytes())
    assert len(types) == len(btf)
    expected = {(t["kind"].lower(), t["name"]) for t in types if t["name"] != "(anon)"}
    ours = {(btf.kind(i).label, btf.name(i)) for i in btf.named_ids()}
    assert ours == expected
