"""The loaded-BPF reader: when a sysroot is live, what its signature and load give, how a
refusal becomes a source failure, and the two tools through a running bpf-mcp."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from typing import Any

import trio

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.errors import SourceError
from bpf_mcp.loaded import Kind, LoadedBpf
from bpf_mcp.readers.base import Reader
from bpf_mcp.readers.btf import BtfReader
from bpf_mcp.readers.loaded import LoadedReader, is_live
from bpf_mcp.transports.server import call_tool

from .conftest import REPO, World
from .encode import prog_info
from .fake import FakeObject

FIXTURE = REPO / "fixtures" / "linux-6.18"


def test_only_a_mounted_procfs_is_live(tmp_path: Path) -> None:
    assert is_live(Path("/"))
    assert not is_live(FIXTURE)
    (tmp_path / "host" / "proc").mkdir(parents=True)
    mounts = tmp_path / "mounts"
    mounts.write_text(f"proc {tmp_path}/host/proc proc rw 0 0\n")
    assert is_live(tmp_path / "host", mounts)
    mounts.write_text(f"tmpfs {tmp_path}/host/proc tmpfs rw 0 0\n")
    assert not is_live(tmp_path / "host", mounts)
    assert not is_live(tmp_path / "host", tmp_path / "no-such-file")


def _config(world: World) -> Config:
    return Config(sysroot=world.proc.parent, refresh_interval=0.05)


async def test_signature_follows_the_ids_and_the_stats_switch(world: World) -> None:
    reader = LoadedReader(world.kernel, live=True)
    config = _config(world)
    first = await reader.signature(config)
    assert first == await reader.signature(config)
    world.kernel.objects[Kind.PROGRAMS][9] = FakeObject(prog_info(id=9, type=1))
    second = await reader.signature(config)
    assert second != first
    (world.proc / "sys" / "kernel" / "bpf_stats_enabled").write_text("0\n")
    assert await reader.signature(config) != second


async def test_load_emits_one_scan_of_the_sysroots_proc(world: World) -> None:
    reader = LoadedReader(world.kernel, live=True)
    sent: list[Any] = []

    async def emit(payload: Any) -> None:
        sent.append(payload)

    loaded = await reader.load(_config(world), emit)
    (scan,) = sent
    assert isinstance(scan, LoadedBpf)
    assert scan.ids(Kind.PROGRAMS) == (5, 6)
    assert scan.programs[0].owners[0].comm == "loader"  # from the sysroot's proc
    assert loaded.origin == "bpf() on the running kernel"
    assert loaded.summary == "2 programs, 2 maps, 4 links, 2 btf; run-time stats on"


async def test_a_captured_tree_lists_nothing_and_says_why() -> None:
    reader = LoadedReader(live=None)
    sent: list[Any] = []

    async def emit(payload: Any) -> None:
        sent.append(payload)

    loaded = await reader.load(Config(sysroot=FIXTURE), emit)
    (scan,) = sent
    assert scan.programs == () and "captured tree" in scan.notes[0]
    assert (loaded.origin, loaded.summary) == (str(FIXTURE), "a captured tree: nothing listed")
    assert (await reader.signature(Config(sysroot=FIXTURE)))[0] == "captured"


async def test_a_refusal_is_a_source_failure_naming_what_to_grant(world: World) -> None:
    world.kernel.faults[("next_id", None, None)] = errno.EPERM
    reader = LoadedReader(world.kernel, live=True)
    try:
        await reader.signature(_config(world))
    except SourceError as exc:
        failure = exc.failure
    else:
        raise AssertionError("EPERM was not reported")
    assert (failure.source, failure.path, failure.cause) == (
        "loaded_bpf",
        "bpf() system call",
        "permission",
    )
    assert "CAP_SYS_ADMIN" in failure.fix and "CAP_SYS_ADMIN" in failure.detail


async def _serve(world: World, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    btf_dir = world.proc.parent / "sys" / "kernel" / "btf"
    btf_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "fixtures" / "btf" / "kinds.btf", btf_dir / "vmlinux")
    readers: list[Reader] = [BtfReader(), LoadedReader(world.kernel, live=True)]
    out = []
    with trio.fail_after(30):
        async with open_bpf_mcp(_config(world), readers=readers) as handle:
            for name, arguments in calls:
                out.append(await call_tool(handle, name, arguments))
    return out


async def test_the_tools_through_a_running_server(world: World) -> None:
    listing, detail, status = await _serve(
        world,
        [
            ("list_loaded_bpf", {"kind": "links"}),
            ("get_loaded_bpf", {"kind": "programs", "id": 6}),
            ("get_server_status", {}),
        ],
    )
    assert not listing.is_error and not detail.is_error
    targets = [item["target"] for item in listing.structured_content["items"]]
    assert targets[0] == "tracepoint sched_switch" and targets[3] == "function helper"
    assert detail.structured_content["program"]["attach_to"] == "helper"
    (source,) = [s for s in status.structured_content["sources"] if s["source"] == "loaded_bpf"]
    assert source["state"] == "ready" and source["summary"].startswith("2 programs")


async def test_without_privileges_the_tools_answer_what_to_grant(world: World) -> None:
    world.kernel.faults[("next_id", None, None)] = errno.EPERM
    listing, status = await _serve(world, [("list_loaded_bpf", {}), ("get_server_status", {})])
    assert listing.is_error
    text = listing.content[0].text
    assert "CAP_SYS_ADMIN" in text and "To fix:" in text
    (source,) = [s for s in status.structured_content["sources"] if s["source"] == "loaded_bpf"]
    assert source["last_error"]["cause"] == "permission"
