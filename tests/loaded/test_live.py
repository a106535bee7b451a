"""The live kernel, compared with bpftool: ids, names, types, tags, map sizes and link
targets of `bpftool -j prog/map/link/btf show` equal our snapshot.

Needs root, clang and bpftool: the fixture compiles a small BPF object, loads it with
`bpftool prog loadall` into a fresh bpffs directory, creates four links (raw tracepoint,
task iterator, cgroup, XDP on a quiet device), and removes all of it afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from bpf_mcp.btf import Btf, parse_btf
from bpf_mcp.loaded import Kind, LoadedBpf, Owner
from bpf_mcp.readers.loaded.scan import list_ids, snapshot
from bpf_mcp.readers.loaded.syscall import LibcBpf

from . import kernel_objects
from .kernel_objects import Loaded

pytestmark = [pytest.mark.live, pytest.mark.oracle]


def _tool(name: str) -> str:
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if Path(p).exists()), None
    )
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(scope="module")
def bpftool() -> str:
    return _tool("bpftool")


@pytest.fixture(scope="module")
def loaded(bpftool: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    if os.geteuid() != 0:
        pytest.skip("loading BPF programs for the oracle needs root")
    clang = _tool("clang")
    work = tmp_path_factory.mktemp("bpf")
    root = Path("/sys/fs/bpf")
    try:
        obj = kernel_objects.compile_object(clang, work)
        mounted = kernel_objects.ensure_bpffs(root)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot build or mount what the oracle test needs: {exc}")
    pin_dir = root / f"bpf-mcp-test-{os.getpid()}"
    cgroup = None
    try:
        made = kernel_objects.load(bpftool, obj, pin_dir)
        cgroup = made.cgroup
        yield made
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"this kernel refused our test programs: {exc.stderr.decode()[-300:]}")
    finally:
        kernel_objects.remove(pin_dir, cgroup)
        if mounted:
            kernel_objects.unmount(root)


@pytest.fixture(scope="module")
def vmlinux() -> Btf | None:
    try:
        return parse_btf(Path("/sys/kernel/btf/vmlinux").read_bytes())
    except OSError:
        return None


@pytest.fixture(scope="module")
def snap(loaded: Loaded, vmlinux: Btf | None) -> LoadedBpf:
    return snapshot(vmlinux=vmlinux)


def _show(bpftool: str, what: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [bpftool, "-j", "-f", what, "show"], capture_output=True, check=True, timeout=60
    ).stdout
    result: list[dict[str, Any]] = json.loads(out)
    return result


def _pairs(bpftool: str, snap: LoadedBpf, kind: Kind) -> list[tuple[Any, dict[str, Any]]]:
    """(ours, bpftool's) for every object of `kind`, once both list the same ids; pinned
    paths must agree too."""
    what = {Kind.PROGRAMS: "prog", Kind.MAPS: "map", Kind.LINKS: "link", Kind.BTF: "btf"}[kind]
    theirs = _show(bpftool, what)
    ours = {obj.id: obj for obj in snap.of(kind)}
    assert set(ours) == {t["id"] for t in theirs}
    pairs = [(ours[t["id"]], t) for t in theirs]
    for obj, t in pairs:
        assert sorted(getattr(obj, "pins", ())) == sorted(t.get("pinned", []))
    return pairs


def test_programs_equal_bpftool(bpftool: str, loaded: Loaded, snap: LoadedBpf) -> None:
    for prog, p in _pairs(bpftool, snap, Kind.PROGRAMS):
        assert (prog.name, prog.type, prog.tag) == (p.get("name", ""), p["type"], p["tag"])
        assert prog.gpl_compatible == p["gpl_compatible"]
        assert prog.created_by_uid == p["uid"]
        assert prog.loaded_at is not None and abs(prog.loaded_at - p["loaded_at"]) <= 1
        assert prog.xlated_len == p["bytes_xlated"]
        assert prog.jited_len == p.get("bytes_jited", 0)
        assert prog.memlock == p["bytes_memlock"]
        assert sorted(prog.map_ids) == sorted(p.get("map_ids", []))
        assert prog.btf_id == p.get("btf_id", 0)
        if "pids" in p:
            assert {(o.pid, o.comm) for o in prog.owners} == {
                (x["pid"], x["comm"]) for x in p["pids"]
            }
    names = {prog.name for prog in snap.programs}
    assert {"mcp_switch", "mcp_xdp", "mcp_egress", "mcp_sock", "mcp_iter"} <= names


def test_program_extras(loaded: Loaded, snap: LoadedBpf, vmlinux: Btf | None) -> None:
    progs = {
        p.name: p for p in snap.programs if p.pins and p.pins[0].startswith(str(loaded.pin_dir))
    }
    switch = progs["mcp_switch"]
    assert switch.func_names == ("mcp_switch", "bump")
    assert switch.verified_insns > 0 and switch.jited_len > 0
    maps = {m.name: m.id for m in snap.maps}
    assert sorted(switch.map_ids) == sorted([maps["counts"], maps["cfg"]])
    if vmlinux is not None:
        assert progs["mcp_iter"].attach_func == "bpf_iter_task"


def test_maps_equal_bpftool(bpftool: str, loaded: Loaded, snap: LoadedBpf) -> None:
    for ours_m, m in _pairs(bpftool, snap, Kind.MAPS):
        assert (ours_m.name, ours_m.type, ours_m.flags) == (
            m.get("name", ""),
            m["type"],
            m["flags"],
        )
        assert (ours_m.key_size, ours_m.value_size, ours_m.max_entries) == (
            m["bytes_key"],
            m["bytes_value"],
            m["max_entries"],
        )
        assert ours_m.memlock == m["bytes_memlock"]
        assert ours_m.frozen == bool(m["frozen"])
        assert ours_m.btf_id == m.get("btf_id", 0)


def test_links_equal_bpftool(bpftool: str, loaded: Loaded, snap: LoadedBpf) -> None:
    for link, lk in _pairs(bpftool, snap, Kind.LINKS):
        assert (link.type, link.prog_id) == (lk["type"], lk["prog_id"])
        if "tp_name" in lk:
            assert link.target.name == lk["tp_name"]
        if "target_name" in lk:
            assert link.target.name == lk["target_name"]
        if "cgroup_id" in lk:
            assert link.target.cgroup_id == lk["cgroup_id"]
        if "attach_type" in lk:
            assert link.attach_type == lk["attach_type"]
        if "ifindex" in lk:
            assert link.target.ifindex == lk["ifindex"]
        for key in ("target_obj_id", "target_btf_id"):
            if key in lk:
                assert getattr(link.target, key.replace("target_", "btf_")) == lk[key]


def test_our_link_targets(loaded: Loaded, snap: LoadedBpf) -> None:
    mine = {Path(lk.pins[0]).name: lk for lk in snap.links if lk.pins}
    assert (mine["raw_tp"].target.kind, mine["raw_tp"].target.name) == (
        "tracepoint",
        "sched_switch",
    )
    assert (mine["iter"].target.kind, mine["iter"].target.name) == ("iterator", "task")
    assert (mine["xdp"].target.kind, mine["xdp"].target.name) == ("netdev", loaded.netdev)
    if loaded.cgroup is not None:
        assert mine["cgroup"].target.name == str(loaded.cgroup)
        assert mine["cgroup"].target.cgroup_id == os.stat(loaded.cgroup).st_ino


def test_btf_equal_bpftool(bpftool: str, loaded: Loaded, snap: LoadedBpf) -> None:
    for obj, b in _pairs(bpftool, snap, Kind.BTF):
        assert (obj.size, obj.kernel, obj.name) == (b["size"], b["kernel"], b.get("name", ""))
        assert sorted(obj.prog_ids) == sorted(b["prog_ids"])
        assert sorted(obj.map_ids) == sorted(b["map_ids"])


def test_ids_listed_equal_bpftool(bpftool: str, loaded: Loaded) -> None:
    calls = LibcBpf()
    for kind, what in ((Kind.PROGRAMS, "prog"), (Kind.MAPS, "map"), (Kind.LINKS, "link")):
        assert list_ids(calls, kind) == sorted(x["id"] for x in _show(bpftool, what))


def test_a_process_holding_a_descriptor_owns_the_object(loaded: Loaded) -> None:
    calls = LibcBpf()
    fd = calls.obj_get(str(loaded.progs["mcp_sock"]), 0)
    try:
        snap = snapshot(calls)
    finally:
        calls.close(fd)
    prog = next(p for p in snap.programs if p.pins == (str(loaded.progs["mcp_sock"]),))
    assert Owner(os.getpid(), Path("/proc/self/comm").read_text().strip()) in prog.owners
    assert all(
        not p.owners or os.getpid() not in {o.pid for o in p.owners}
        for p in snap.programs
        if p is not prog
    )


async def test_the_tools_on_the_live_kernel(loaded: Loaded, vmlinux: Btf | None) -> None:
    from bpf_mcp.api import open_bpf_mcp
    from bpf_mcp.config import Config
    from bpf_mcp.transports.server import call_tool

    with trio.fail_after(60):
        async with open_bpf_mcp(Config()) as handle:
            listing = await call_tool(handle, "list_loaded_bpf", {"pattern": str(loaded.pin_dir)})
            links = await call_tool(
                handle, "list_loaded_bpf", {"kind": "links", "pattern": str(loaded.pin_dir)}
            )
            items = {i["name"]: i for i in listing.structured_content["items"]}
            iterator = await call_tool(
                handle, "get_loaded_bpf", {"kind": "programs", "id": items["mcp_iter"]["id"]}
            )
    assert set(items) == {"mcp_switch", "mcp_xdp", "mcp_egress", "mcp_sock", "mcp_iter"}
    targets = {i["target"] for i in links.structured_content["items"]}
    assert "tracepoint sched_switch" in targets and "iterator task" in targets
    program = iterator.structured_content["program"]
    assert program["functions"] == ["mcp_iter"]
    if vmlinux is not None:
        assert program["attach_to"] == "bpf_iter_task"
