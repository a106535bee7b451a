"""Our load verdicts against the kernel's own: `bpftool prog loadall` into a private bpffs.

Objects we say load must load, unless something we state is outside refuses them (the
verifier, or a sandbox policy answering EPERM); objects we say cannot load must fail.
Runs as root only; the bpffs is mounted in a temporary directory and unmounted after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bpf_mcp.btf import parse_btf
from bpf_mcp.preflight import KernelFacts, check_object, worst

from .conftest import corpus, kallsyms_names, read_config

pytestmark = [pytest.mark.live, pytest.mark.oracle]

# Reasons a load fails that preflight does not claim to predict.
OUTSIDE = {
    "failed to guess program type": "the installed bpftool's libbpf predates this section",
    "Operation not permitted": "the kernel refused with EPERM (a sandbox or LSM policy)",
    "-- BEGIN PROG LOAD LOG --": "the verifier rejected a program",
}


@pytest.fixture(scope="module")
def live_facts() -> KernelFacts:
    if os.geteuid() != 0:
        pytest.skip("loading BPF programs needs root")
    if shutil.which("bpftool") is None:
        pytest.skip("bpftool is not installed")
    root = Path("/")
    events_file = root / "sys/kernel/tracing/available_events"
    events = events_file.read_text().split() if events_file.exists() else None
    lsm_file = root / "sys/kernel/security/lsm"
    lsms = lsm_file.read_text().strip().split(",") if lsm_file.exists() else None
    config = read_config(root / "proc/config.gz") if (root / "proc/config.gz").exists() else None
    return KernelFacts(
        btf=parse_btf((root / "sys/kernel/btf/vmlinux").read_bytes()),
        config=config,
        tracepoints=frozenset(e.replace(":", "/") for e in events) if events else None,
        lsm=None if lsms is None else (("yes", "bpf is active") if "bpf" in lsms else ("no", "")),
        symbols=kallsyms_names(root / "proc/kallsyms").__contains__,
    )


@pytest.fixture(scope="module")
def bpffs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    mount = tmp_path_factory.mktemp("bpffs")
    done = subprocess.run(["mount", "-t", "bpf", "bpf", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a bpffs: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("obj", corpus(), ids=lambda p: p.name)
def test_load_verdicts_match_the_kernel(obj: Path, live_facts: KernelFacts, bpffs: Path) -> None:
    result = check_object(obj.read_bytes(), live_facts, name=obj.name)
    ours = worst(*(p.load for p in result.programs if p.autoload))
    pins = bpffs / obj.stem.replace(".", "_")
    run = subprocess.run(
        ["bpftool", "-d", "prog", "loadall", str(obj), str(pins)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    shutil.rmtree(pins, ignore_errors=True)
    log = run.stdout + run.stderr
    # bpftool pins every program, those libbpf did not load (SEC("?...")) too.
    loaded = run.returncode == 0 or ("failed to pin" in log and "failed to load" not in log)
    if ours == "yes" and not loaded:
        outside = [why for needle, why in OUTSIDE.items() if needle in log]
        if outside:
            pytest.skip(f"{obj.name}: {outside[0]}")
        pytest.fail(f"{obj.name}: we say it loads, the kernel refused:\n{log[-2000:]}")
    if ours == "no":
        assert not loaded, f"{obj.name}: we say it cannot load, yet it loaded"
