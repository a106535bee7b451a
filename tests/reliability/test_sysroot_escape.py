"""A hostile sysroot: links that lead out of it are refused with a named error, and no
tool answer, resource, status, /healthz or log line ever quotes a file's content, whether
the file lies outside the sysroot or is garbage inside it."""

from __future__ import annotations

import errno
import gzip
import logging
import os
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx2
import pytest
import trio

from bpf_mcp.api import BpfMcp, open_bpf_mcp
from bpf_mcp.btf import BtfError, parse_btf
from bpf_mcp.kallsyms import KallsymsError, parse_kallsyms
from bpf_mcp.readers.loaded import is_live
from bpf_mcp.readers.sysroot import (
    Directory,
    OutsideSysroot,
    listdir_beneath,
    open_beneath,
    stat_beneath,
)
from bpf_mcp.readers.system import SYSCTLS
from bpf_mcp.sources import Source
from bpf_mcp.tools import TOOLS
from bpf_mcp.tracefs import FormatError, parse_available_events, parse_format
from bpf_mcp.transports.catalog import STATIC, read_resource
from bpf_mcp.transports.http import HttpAddress, serve_http

from .conftest import FIXTURE, SmallKernel, arguments_of, call, server_status, status_of

MARKER = "sekrit4f9a"
SECRET = f"6.0.0-{MARKER}\n"
"""Shaped like a kernel release, so only confinement keeps it out of get_kernel_info."""
GARBAGE = f"root:$y$j9T${MARKER}$0:19000:0:99999:7:::\n"
"""Shaped like nothing the kernel writes: only content-free errors keep it unquoted."""

SYSTEM_FILES = {
    "proc/sys/kernel/osrelease": "6.18.0\n",
    "proc/version": "Linux version 6.18.0 (b@h) (gcc 15) #1 SMP\n",
    "proc/mounts": "tracefs /sys/kernel/tracing tracefs rw 0 0\n",
    "sys/kernel/security/lsm": "lockdown,capability,bpf",
    "sys/kernel/security/lockdown": "[none] integrity confidentiality\n",
    **{"proc/sys/" + name.replace(".", "/"): "0\n" for name in SYSCTLS},
}
LINKED = (
    "proc/kallsyms",
    "sys/kernel/btf/vmlinux",
    "sys/kernel/tracing/available_events",
    "sys/kernel/tracing/events/sched/sched_switch/format",
    "proc/sys/kernel/random/boot_id",
    "proc/config.gz",
    *SYSTEM_FILES,
)


def full_kernel(root: Path) -> SmallKernel:
    """The small kernel of these tests with the system reader's files too."""
    kernel = SmallKernel.build(root)
    for relative, text in SYSTEM_FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    shutil.copyfile(FIXTURE / "proc/config.gz", root / "proc/config.gz")
    return kernel


def link_out(root: Path, relative: str, target: Path, *, absolute: bool) -> None:
    """Replace the file at `relative` with a link to `target` outside the sysroot."""
    path = root / relative
    path.unlink()
    path.symlink_to(target if absolute else Path(os.path.relpath(target, path.parent)))


async def every_output(handle: BpfMcp, url: str) -> str:
    """Everything a client can see: every tool with its minimal arguments and a few
    named objects, the static resources, get_server_status and /healthz."""
    seen = []
    calls = [(tool.name, arguments_of(tool.name)) for tool in TOOLS]
    calls += [
        ("get_tracepoint", {"name": "sched:sched_switch"}),
        ("describe_btf_type", {"name": "task_struct"}),
        ("list_kernel_functions", {"pattern": "s"}),
        ("get_kernel_function", {"name": "do_sys_open"}),
        ("get_kernel_info", {"sections": ["all"]}),
    ]
    for name, arguments in calls:
        outcome = await call(handle, name, arguments)
        seen.append(f"{outcome.text} {outcome.payload}")
    names = {tool.name for tool in TOOLS}
    for uri, *_ in STATIC:
        result = await read_resource(handle, uri, names)
        seen += [getattr(c, "text", "") for c in result.contents]
    async with httpx2.AsyncClient() as http:
        seen.append((await http.get(url)).text)
    return "\n".join(seen)


async def served(kernel: SmallKernel, check: Callable[[BpfMcp, str], object]) -> None:
    async with (
        open_bpf_mcp(kernel.config(), readers=kernel.readers()) as handle,
        trio.open_nursery() as nursery,
    ):
        address: HttpAddress = await nursery.start(
            partial(serve_http, handle, host="127.0.0.1", port=0)
        )
        await settled(handle)
        await check(handle, address.url("/healthz"))  # type: ignore[misc]
        nursery.cancel_scope.cancel()


async def settled(handle: BpfMcp) -> None:
    """Wait until every source has loaded or failed at least once."""
    with trio.fail_after(30):
        while True:
            sources = (await server_status(handle))["sources"]
            if all(s["state"] == "ready" or s["last_error"] for s in sources):
                return
            await trio.sleep(0.02)


@pytest.mark.parametrize("absolute", [True, False], ids=["absolute", "dotdot"])
async def test_links_out_of_the_sysroot_leak_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, absolute: bool
) -> None:
    caplog.set_level(logging.DEBUG)
    kernel = full_kernel(tmp_path / "root")
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    for relative in LINKED:
        link_out(kernel.root, relative, secret, absolute=absolute)

    async def check(handle: BpfMcp, url: str) -> None:
        text = await every_output(handle, url)
        assert MARKER not in text
        status = await server_status(handle)
        for source in (Source.KALLSYMS, Source.BTF, Source.TRACEFS):
            entry = status_of(status, source)
            assert entry["state"] != "ready"
            assert entry["last_error"]["cause"] == "outside-sysroot"
            assert "leads outside the sysroot" in entry["last_error"]["detail"]
        info = await call(handle, "get_kernel_info", {"sections": ["files"]})
        assert info.payload["release"] is None
        release = [f for f in info.payload["files"] if f["role"] == "release"]
        assert "outside the sysroot" in release[0]["detail"]

    await served(kernel, check)
    assert MARKER not in caplog.text


async def test_a_linked_directory_leaks_no_names(tmp_path: Path) -> None:
    """sys/kernel/btf linked to a directory outside: neither its files' content nor their
    names (the module list) appear."""
    kernel = full_kernel(tmp_path / "root")
    outside = tmp_path / f"dir-{MARKER}"
    outside.mkdir()
    shutil.copyfile(kernel.root / "sys/kernel/btf/vmlinux", outside / "vmlinux")
    (outside / f"module-{MARKER}").write_text(SECRET)
    shutil.rmtree(kernel.root / "sys/kernel/btf")
    (kernel.root / "sys/kernel/btf").symlink_to(outside)

    async def check(handle: BpfMcp, url: str) -> None:
        assert MARKER not in await every_output(handle, url)
        entry = status_of(await server_status(handle), Source.BTF)
        assert entry["last_error"]["cause"] == "outside-sysroot"

    await served(kernel, check)


async def test_garbage_inside_the_sysroot_is_never_quoted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kernel = full_kernel(tmp_path / "root")
    for relative in LINKED:
        (kernel.root / relative).write_text(GARBAGE)
    (kernel.root / "sys/kernel/tracing/available_events").write_text(
        f"sched:sched_wakeup\n{GARBAGE}"
    )
    # A gzip file whose content is garbage, and a module BTF file that is garbage.
    (kernel.root / "proc/config.gz").write_bytes(gzip.compress(GARBAGE.encode()))
    (kernel.root / "sys/kernel/btf/vmlinux").write_bytes(
        (FIXTURE.parent / "btf/kinds.btf").read_bytes()
    )
    (kernel.root / "sys/kernel/btf/mod").write_text(GARBAGE)

    async def check(handle: BpfMcp, url: str) -> None:
        assert MARKER not in await every_output(handle, url)

    await served(kernel, check)
    assert MARKER not in caplog.text


def test_parse_errors_never_quote_the_text() -> None:
    good = (FIXTURE / "sys/kernel/tracing/events/sched/sched_switch/format").read_text()
    lines = good.split("\n")
    end = next(i for i, line in enumerate(lines) if line.startswith("print fmt:"))
    field = "\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;"
    assert field in lines
    texts = ["\n".join([*lines[:i], GARBAGE.strip(), *lines[i + 1 :]]) for i in range(end)]
    texts += [
        good.replace(field, field.replace(old, new))
        for old, new in (
            ("char prev_comm[16]", MARKER),
            ("offset:8", f"offset:{MARKER}"),
            ("offset:8", f"{MARKER}:8"),
            ("signed:0;", f"signed:0;{MARKER}"),
            ("offset:8", MARKER),
        )
    ]
    for text in texts:
        with pytest.raises(FormatError) as caught:
            parse_format(text)
        assert MARKER not in str(caught.value)
    with pytest.raises(FormatError) as events_error:
        parse_available_events(GARBAGE)
    assert MARKER not in str(events_error.value)
    with pytest.raises(KallsymsError) as kallsyms_error:
        parse_kallsyms(GARBAGE)
    assert MARKER not in str(kallsyms_error.value)
    with pytest.raises(BtfError) as btf_error:
        parse_btf(GARBAGE.encode())
    assert GARBAGE[:2].encode().hex() not in str(btf_error.value)


# open_beneath itself: what it follows and what it refuses.


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/ with a file, a directory, and a secret beside root/."""
    root = tmp_path / "root"
    (root / "dir/sub").mkdir(parents=True)
    (root / "dir/sub/file").write_text("inside")
    (tmp_path / "secret").write_text(SECRET)
    (tmp_path / "outdir").mkdir()
    return root


def _read(root: Path, relative: str) -> str:
    fd = open_beneath(root, root / relative, os.O_RDONLY)
    with open(fd) as f:
        return f.read()


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("a", "dir/sub/file"),  # relative, down
        ("dir/a", "sub/../sub/file"),  # '..' that stays inside
        ("dir/sub/a", "../../dir/sub/file"),  # up to the top, then down
        ("dir/a", "/ROOT/dir/sub/file"),  # absolute, inside the sysroot
        ("a", "dir/sub/../../dir/./sub//file"),
    ],
)
def test_links_inside_the_sysroot_are_followed(tree: Path, link: str, target: str) -> None:
    (tree / link).symlink_to(target.replace("/ROOT", str(tree)))
    assert _read(tree, link) == "inside"


def test_links_to_directories_inside_are_followed(tree: Path) -> None:
    (tree / "d").symlink_to("dir")
    (tree / "dir/up").symlink_to("..")
    (tree / "dir/abs").symlink_to(tree / "dir/sub")
    assert _read(tree, "d/sub/file") == "inside"
    assert _read(tree, "dir/up/dir/abs/file") == "inside"
    assert listdir_beneath(tree, tree / "d") == os.listdir(tree / "dir")
    assert stat_beneath(tree, tree / "d/sub/file").st_size == len("inside")


@pytest.mark.parametrize(
    ("link", "target", "how"),
    [
        ("a", "/SECRET", "absolute"),
        ("a", "../secret", "'..'"),
        ("dir/sub/a", "../../../secret", "'..'"),
        ("dir/a", "sub/../../../secret", "'..'"),
        ("d", "/OUTDIR", "absolute"),  # a directory outside, met mid-path
        ("d", "../outdir", "'..'"),
        ("a", "/ROOTx/../secret", "absolute"),  # a sibling whose name starts the same
    ],
)
def test_links_leading_out_are_refused(tree: Path, link: str, target: str, how: str) -> None:
    outside = tree.parent
    (tree / link).symlink_to(
        target.replace("/SECRET", str(outside / "secret"))
        .replace("/OUTDIR", str(outside / "outdir"))
        .replace("/ROOT", str(tree))
    )
    (outside / "outdir/file").write_text(SECRET)
    relative = "d/file" if link == "d" else link
    with pytest.raises(OutsideSysroot) as caught:
        _read(tree, relative)
    assert caught.value.errno == errno.EXDEV
    assert f"symbolic link {link} leads" in str(caught.value.strerror)
    assert how in str(caught.value.strerror)
    assert MARKER not in str(caught.value) and "secret" not in str(caught.value.strerror)
    with pytest.raises(OutsideSysroot):
        stat_beneath(tree, tree / relative)
    if link == "d":
        with pytest.raises(OutsideSysroot):
            listdir_beneath(tree, tree / "d")


def test_a_link_loop_gives_eloop(tree: Path) -> None:
    (tree / "a").symlink_to("b")
    (tree / "b").symlink_to("a")
    with pytest.raises(OSError) as caught:
        _read(tree, "a")
    assert caught.value.errno == errno.ELOOP


def test_a_sysroot_reached_through_a_link_works(tree: Path) -> None:
    """--sysroot given as a link: absolute links naming the real path are inside."""
    alias = tree.parent / "alias"
    alias.symlink_to(tree)
    (tree / "a").symlink_to(tree / "dir/sub/file")
    assert _read(alias, "a") == "inside"
    assert _read(alias, "dir/sub/file") == "inside"


def test_a_fifo_is_not_waited_for(tree: Path) -> None:
    os.mkfifo(tree / "fifo")
    fd = open_beneath(tree, tree / "fifo", os.O_RDONLY | os.O_NONBLOCK)
    os.close(fd)


def test_no_descriptor_is_left_open(tree: Path) -> None:
    """Every walk closes the directories it opened on the way, whatever its outcome."""
    (tree / "in").symlink_to("dir/sub/file")
    (tree / "up").symlink_to("dir/../dir/sub")
    (tree / "out").symlink_to("../secret")
    (tree / "loop").symlink_to("loop")

    def count() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = count()
    for _ in range(20):
        for relative in ("dir/sub/file", "in", "up/file", "dir/sub/../sub/file"):
            os.close(open_beneath(tree, tree / relative, os.O_RDONLY))
            stat_beneath(tree, tree / relative)
        listdir_beneath(tree, tree / "up")
        for relative in ("out", "loop", "dir/missing/x", "dir/sub/file/x"):
            with pytest.raises(OSError):
                open_beneath(tree, tree / relative, os.O_RDONLY)
        with Directory(tree, tree / "dir") as directory:
            os.close(directory.open("sub/file", os.O_RDONLY))
            os.close(directory.open("../in", os.O_RDONLY))
            with pytest.raises(OutsideSysroot):
                directory.open("../../secret", os.O_RDONLY)
    assert count() == before


def test_a_proc_linked_to_this_machines_proc_is_not_a_live_sysroot(tmp_path: Path) -> None:
    """The loaded-BPF reader lists this machine's objects only for a live sysroot: a
    sysroot whose proc is a link to /proc would make it read outside the sysroot."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "proc").symlink_to("/proc")
    assert not is_live(root)
    assert is_live(Path("/"))
