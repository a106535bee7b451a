"""Several kernels in one server: registering them, loading on first use, LRU eviction,
absent sources, and the `kernel` argument of the tools."""

from __future__ import annotations

import base64
import contextlib
import shutil
import struct
from pathlib import Path

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.btf import BtfError
from bpf_mcp.btf.elf import btf_section
from bpf_mcp.config import Config, KernelSpec
from bpf_mcp.errors import InvalidArgument, NotFound, SourceUnavailable
from bpf_mcp.kernels import KernelOptionError, parse_kernel_option
from bpf_mcp.queries import (
    CheckBpfObject,
    CheckBpftraceScript,
    CompareKernels,
    CompareTypeAcross,
    DescribeBtfType,
    GetTracepoint,
    ListKernels,
    ListTracepoints,
)
from bpf_mcp.transports.calls import answer_tool, kernel_argument

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "linux-6.18"
VMLINUX = FIXTURE / "sys/kernel/btf/vmlinux"
OBJECTS = Path(__file__).resolve().parents[1] / "preflight" / "objects"


def elf_with(sections: dict[str, bytes]) -> bytes:
    """A minimal little-endian ELF64 file holding `sections` (and the name table)."""
    names = b"\0" + b"".join(n.encode() + b"\0" for n in [*sections, ".shstrtab"])
    body = b"".join(sections.values())
    header_size, entry = 64, 64
    data_at = header_size
    names_at = data_at + len(body)
    table_at = names_at + len(names)
    count = len(sections) + 2  # the null section, then ours, then the name table
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack(
        "<HHIQQQIHHHHHH", 1, 247, 1, 0, 0, table_at, 0, 64, 0, 0, entry, count, count - 1
    )
    table = bytes(entry)
    offset, name_at = data_at, 1
    for name, content in sections.items():
        table += struct.pack("<IIQQQQIIQQ", name_at, 1, 0, 0, offset, len(content), 0, 0, 1, 0)
        offset += len(content)
        name_at += len(name) + 1
    table += struct.pack("<IIQQQQIIQQ", name_at, 3, 0, 0, names_at, len(names), 0, 0, 1, 0)
    return header + body + names + table


def test_the_btf_section_of_an_elf_file() -> None:
    blob = VMLINUX.read_bytes()[:4096]
    data = elf_with({".text": b"\x90" * 16, ".BTF": blob})
    assert btf_section(data) == blob
    with pytest.raises(BtfError, match=r"no \.BTF section"):
        btf_section(elf_with({".text": b"x"}))
    with pytest.raises(BtfError, match="past the end"):
        btf_section(data[: len(data) - 40])


@given(st.binary(max_size=512))
def test_random_bytes_raise_only_btf_error(data: bytes) -> None:
    for candidate in (data, b"\x7fELF" + data):
        with contextlib.suppress(BtfError):
            btf_section(candidate)


def test_kernel_options_are_checked(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello world")
    cases = {
        "no-equals": "expected NAME=PATH",
        f"local={FIXTURE}": "running kernel",
        f"bad name={FIXTURE}": "must be 1-64",
        f"x={tmp_path / 'missing'}": "does not exist",
        f"x={junk}": "neither a directory",
    }
    for text, message in cases.items():
        with pytest.raises(KernelOptionError, match=message):
            parse_kernel_option(text)
    first = parse_kernel_option(f"a={FIXTURE}")
    assert first == KernelSpec("a", FIXTURE, "sysroot")
    with pytest.raises(KernelOptionError, match="two kernels"):
        parse_kernel_option(f"a={VMLINUX}", {"a": first})
    assert parse_kernel_option(f"b={VMLINUX}").kind == "btf"


def kernels_config(tmp_path: Path, max_loaded: int = 3) -> Config:
    bare = tmp_path / "vmlinux.btf"
    shutil.copy(VMLINUX, bare)
    elf = tmp_path / "vmlinux.elf"
    elf.write_bytes(elf_with({".BTF": VMLINUX.read_bytes()}))
    return Config(
        sysroot=FIXTURE,
        kernels=(
            KernelSpec("fx", FIXTURE, "sysroot"),
            KernelSpec("bare", bare, "btf"),
            KernelSpec("elf", elf, "btf"),
        ),
        max_loaded_kernels=max_loaded,
    )


async def test_each_kernel_answers_from_its_own_data(tmp_path: Path) -> None:
    with trio.fail_after(120):
        async with open_bpf_mcp(kernels_config(tmp_path)) as handle:
            local = await handle.query(DescribeBtfType(name="list_head"))
            for name in ("fx", "bare", "elf"):
                other = await handle.query(DescribeBtfType(name="list_head"), name)
                assert other.size == local.size == 16
            listed = await handle.query(GetTracepoint(name="sched:sched_switch"), "fx")
            assert listed.name == "sched:sched_switch"
            with pytest.raises(SourceUnavailable, match=r"kernel 'bare'.*bare BTF file"):
                await handle.query(ListTracepoints(), "bare")
            with pytest.raises(NotFound, match="list_kernels names them: local, fx"):
                await handle.query(ListTracepoints(), "nope")
            kernels = await handle.query(ListKernels())
            assert [k.name for k in kernels.items] == ["local", "fx", "bare", "elf"]
            assert all(k.loaded for k in kernels.items)
            assert kernels.items[2].sources == ("btf", "reference")


async def test_the_least_recently_used_kernel_is_unloaded(tmp_path: Path) -> None:
    with trio.fail_after(120):
        async with open_bpf_mcp(kernels_config(tmp_path, max_loaded=1)) as handle:
            await handle.query(DescribeBtfType(name="list_head"), "fx")
            await handle.query(DescribeBtfType(name="list_head"), "bare")
            loaded = {k.name: k.loaded for k in handle.kernels().items}
            assert loaded == {"local": True, "fx": False, "bare": True, "elf": False}
            # Asked again, an unloaded kernel loads again.
            again = await handle.query(DescribeBtfType(name="list_head"), "fx")
            assert again.name == "list_head"
            assert [k.name for k in handle.kernels().items if k.loaded] == ["local", "fx"]


async def test_concurrent_first_questions_start_one_engine(tmp_path: Path) -> None:
    with trio.fail_after(120):
        async with open_bpf_mcp(kernels_config(tmp_path)) as handle:
            sizes: list[int | None] = []

            async def ask() -> None:
                sizes.append((await handle.query(DescribeBtfType(name="list_head"), "bare")).size)

            async with trio.open_nursery() as nursery:
                for _ in range(8):
                    nursery.start_soon(ask)
            assert sizes == [16] * 8
            assert len(handle._loaded) == 1


async def test_the_kernel_argument_of_the_tools(tmp_path: Path) -> None:
    assert kernel_argument({"name": "x", "kernel": "fx"}, True) == ({"name": "x"}, "fx")
    assert kernel_argument({"kernel": "fx"}, False) == ({"kernel": "fx"}, "local")
    assert kernel_argument({"kernel": None}, True) == ({}, "local")
    for bad in (7, "", "k" * 65, ["fx"]):
        with pytest.raises(InvalidArgument, match="kernel"):
            kernel_argument({"kernel": bad}, True)
    with trio.fail_after(120):
        async with open_bpf_mcp(kernels_config(tmp_path)) as handle:
            answered = await answer_tool(
                handle, "describe_btf_type", {"name": "list_head", "kernel": "bare"}
            )
            assert not isinstance(answered, str) and answered.payload["size"] == 16
            refused = await answer_tool(handle, "list_tracepoints", {"kernel": "bare"})
            assert isinstance(refused, str) and "bare BTF file" in refused
            unknown = await answer_tool(handle, "list_kernels", {"kernel": "bare"})
            assert isinstance(unknown, str) and "unknown argument" in unknown


async def test_two_real_kernels_compared_page_by_page_within_the_budget(
    linux_6_12_root: Path,
) -> None:
    config = Config(sysroot=FIXTURE, kernels=(KernelSpec("old", linux_6_12_root, "sysroot"),))
    with trio.fail_after(180):
        async with open_bpf_mcp(config) as handle:
            whole = await handle.query(
                CompareKernels(a="old", b="local", what="types", pattern="bpf_", limit=1000)
            )
            assert whole.total > 20 and whole.counts
            seen, offset = [], 0
            while True:
                page = await handle.query(
                    CompareKernels(a="old", b="local", pattern="bpf_", limit=7, offset=offset)
                )
                seen += [item.name for item in page.items]
                if page.next_offset is None:
                    break
                offset = page.next_offset
            assert seen == [item.name for item in whole.items]
            # Through MCP the worst page stays inside the answer budget, and says so.
            answered = await answer_tool(
                handle, "compare_kernels", {"a": "old", "b": "local", "limit": 1000}
            )
            assert not isinstance(answered, str)
            assert len(answered.text) * 2 < 64 * 1024
            across = await handle.query(
                CompareTypeAcross(name="bpf_prog", kernels=("old", "local"), only_differences=True)
            )
            assert across.differing > 0 and all(not row.same for row in across.items)
            with pytest.raises(SourceUnavailable, match="tracefs"):
                await handle.query(CompareKernels(a="old", b="local", what="tracepoints"))


async def test_preflight_answers_a_matrix_across_kernels(linux_6_12_root: Path) -> None:
    config = Config(
        sysroot=FIXTURE,
        kernels=(
            KernelSpec("old", linux_6_12_root, "sysroot"),
            KernelSpec("bare", VMLINUX, "btf"),
        ),
    )
    with trio.fail_after(180):
        async with open_bpf_mcp(config) as handle:
            for name in ("core_fields.bpf.o", "bad_helper.bpf.o"):
                data = base64.b64encode((OBJECTS / name).read_bytes()).decode()
                alone = await handle.query(CheckBpfObject(data_base64=data))
                both = await handle.query(
                    CheckBpfObject(data_base64=data, kernels=("local", "old", "nope"))
                )
                assert alone.across is None and both.verdict == alone.verdict
                assert both.across is not None
                local, old, nope = both.across
                assert (local.kernel, local.verdict) == ("local", alone.verdict)
                assert (local.reason is None) == (alone.verdict == "yes")
                assert old.kernel == "old" and old.verdict in ("yes", "no", "unknown")
                assert nope.verdict == "unknown" and "No kernel is named 'nope'" in (
                    nope.reason or ""
                )
            script = "tracepoint:sched:sched_switch { @[args.prev_pid] = count(); }"
            traced = await handle.query(CheckBpftraceScript(script=script, kernels=("bare",)))
            assert traced.across is not None
            (bare,) = traced.across
            # A bare BTF file has no tracefs: the tracepoint cannot be confirmed there.
            assert bare.verdict != "yes" and bare.reason
