"""Which files check_bpf_object may read by path: any over stdio, only --object-dir over
HTTP (symlinks resolved), and what a refused or unreadable path answers."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
import trio

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.errors import InvalidArgument
from bpf_mcp.queries import MAX_OBJECT_BYTES, CheckBpfObject
from bpf_mcp.transports.calls import answer_tool
from bpf_mcp.transports.objects import ObjectAccess, read_object_path

from .conftest import FIXTURE, OBJECTS

SAMPLE = OBJECTS / "maps.bpf.o"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """allowed/ with an object and links in and out; outside/ with an object."""
    (tmp_path / "allowed").mkdir()
    (tmp_path / "outside").mkdir()
    shutil.copy(SAMPLE, tmp_path / "allowed" / "prog.o")
    shutil.copy(SAMPLE, tmp_path / "outside" / "prog.o")
    (tmp_path / "allowed" / "escape.o").symlink_to(tmp_path / "outside" / "prog.o")
    (tmp_path / "allowed" / "inner.o").symlink_to(tmp_path / "allowed" / "prog.o")
    return tmp_path


async def read(path: Path | str, access: ObjectAccess) -> bytes:
    query = await read_object_path(CheckBpfObject(path=str(path)), access)
    assert query.data_base64 is not None
    assert query.path == str(path)
    return base64.b64decode(query.data_base64)


async def test_stdio_reads_any_file(tree: Path) -> None:
    assert await read(tree / "outside" / "prog.o", ObjectAccess(anywhere=True)) == (
        SAMPLE.read_bytes()
    )


async def test_http_reads_below_object_dirs(tree: Path) -> None:
    access = ObjectAccess(dirs=(tree / "allowed",))
    assert await read(tree / "allowed" / "prog.o", access) == SAMPLE.read_bytes()
    assert await read(tree / "allowed" / "inner.o", access) == SAMPLE.read_bytes()
    assert await read("prog.o", access) == SAMPLE.read_bytes()  # relative to the first dir


@pytest.mark.parametrize(
    "name", ["outside/prog.o", "allowed/escape.o", "allowed/../outside/prog.o"]
)
async def test_http_refuses_paths_out_of_object_dirs(tree: Path, name: str) -> None:
    access = ObjectAccess(dirs=(tree / "allowed",))
    with pytest.raises(InvalidArgument, match="outside the directories"):
        await read(tree / name, access)


async def test_http_without_object_dirs_reads_nothing(tree: Path) -> None:
    with pytest.raises(InvalidArgument, match="--object-dir"):
        await read(tree / "allowed" / "prog.o", ObjectAccess())


async def test_unreadable_paths(tree: Path) -> None:
    anywhere = ObjectAccess(anywhere=True)
    with pytest.raises(InvalidArgument, match="no file"):
        await read(tree / "missing.o", anywhere)
    with pytest.raises(InvalidArgument, match="not a regular file"):
        await read(tree / "allowed", anywhere)
    os.mkfifo(tree / "fifo")
    with trio.fail_after(5), pytest.raises(InvalidArgument, match="not a regular file"):
        await read(tree / "fifo", anywhere)
    big = tree / "big.o"
    with big.open("wb") as file:
        file.truncate(MAX_OBJECT_BYTES + 1)
    with pytest.raises(InvalidArgument, match="at most"):
        await read(big, anywhere)


async def test_both_data_and_path_is_refused(tree: Path) -> None:
    query = CheckBpfObject(data_base64="", path=str(tree / "allowed" / "prog.o"))
    with pytest.raises(InvalidArgument, match="not both"):
        await read_object_path(query, ObjectAccess(anywhere=True))


async def test_through_the_tool_call(tree: Path) -> None:
    path = str(tree / "allowed" / "prog.o")
    async with open_bpf_mcp(Config(sysroot=FIXTURE)) as handle:
        with trio.fail_after(60):
            refused = await answer_tool(handle, "check_bpf_object", {"path": path})
            answered = await answer_tool(
                handle, "check_bpf_object", {"path": path}, objects=ObjectAccess(anywhere=True)
            )
            garbage = await answer_tool(
                handle,
                "check_bpf_object",
                {"data_base64": base64.b64encode(b"\x7fELF" + b"\x02\x01" * 40).decode()},
            )
    assert isinstance(refused, str) and "--object-dir" in refused
    assert not isinstance(answered, str)
    assert json.loads(answered.text)["verdict"] == "yes"
    assert isinstance(garbage, str) and garbage.startswith("data_base64: ")


async def test_another_kernel_by_name(tmp_path: Path) -> None:
    """With `kernel`, the object is checked against that kernel's facts: a bare BTF file
    resolves every relocation, and what it cannot know (tracepoints) is unknown."""
    from bpf_mcp.config import KernelSpec

    bare = tmp_path / "vmlinux.btf"
    shutil.copy(FIXTURE / "sys/kernel/btf/vmlinux", bare)
    config = Config(sysroot=FIXTURE, kernels=(KernelSpec("bare", bare, "btf"),))
    data = base64.b64encode((OBJECTS / "core_fields.bpf.o").read_bytes()).decode()
    async with open_bpf_mcp(config) as handle:
        with trio.fail_after(60):
            answered = await answer_tool(
                handle, "check_bpf_object", {"data_base64": data, "kernel": "bare"}
            )
            tracing = await answer_tool(
                handle,
                "check_bpf_object",
                {
                    "data_base64": base64.b64encode(
                        (OBJECTS / "tracing_sections.bpf.o").read_bytes()
                    ).decode(),
                    "kernel": "bare",
                },
            )
    assert not isinstance(answered, str) and not isinstance(tracing, str)
    result = json.loads(answered.text)
    assert result["verdict"] == "yes"
    assert result["relocations"]["ok"] == result["relocations"]["total"] > 0
    assert "not loaded: system, tracefs, kallsyms" in result["kernel"]
    tp = next(p for p in json.loads(tracing.text)["programs"] if p["name"] == "tp_switch")
    assert tp["attach"] == "unknown"
