"""snapshot() over a fake kernel and a fake /proc and /sys: what it assembles, and how it
survives races, missing privileges, a kernel without bpf() and processes that exit."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.loaded import BpfUnavailable, Kind, LeftOut, Owner, abi
from bpf_mcp.readers.loaded import procfs
from bpf_mcp.readers.loaded.scan import list_ids, snapshot
from bpf_mcp.readers.loaded.syscall import LibcBpf

from .conftest import PROG_BTF_ID, World, process
from .encode import btf_info, link_info, map_info, prog_info
from .fake import FakeKernel, FakeObject


def test_snapshot_assembles_every_kind(world: World) -> None:
    snap = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    assert snap.ids(Kind.PROGRAMS) == (5, 6)
    prog = snap.programs[0]
    assert (prog.name, prog.type, prog.tag, prog.gpl_compatible) == (
        "on_switch",
        "raw_tracepoint",
        "0001020304050607",
        True,
    )
    assert prog.map_ids == (30, 31)
    assert prog.func_names == ("use_all", "scale")
    assert prog.memlock == 4096
    assert prog.owners == (Owner(100, "loader"),)
    assert prog.pins == (str(world.bpffs / "app" / "prog"),)
    assert prog.loaded_at is not None and prog.loaded_at < snap.captured_at

    counts, cfg = snap.maps
    assert (counts.name, counts.type, counts.key_size, counts.value_size, counts.max_entries) == (
        "counts",
        "hash",
        4,
        8,
        64,
    )
    assert (counts.memlock, counts.frozen) == (6160, False)
    assert counts.owners == (Owner(200, "agent"),)
    assert counts.pins == (str(world.bpffs / "app" / "counts"),)
    assert cfg.owners == () and cfg.pins == ()

    raw_tp, cgroup, xdp, fentry = snap.links
    assert (raw_tp.target.kind, raw_tp.target.name, raw_tp.prog_id) == (
        "tracepoint",
        "sched_switch",
        5,
    )
    assert raw_tp.owners == (Owner(100, "loader"),)
    assert raw_tp.pins == (str(world.bpffs / "app" / "link"),)
    assert (cgroup.target.kind, cgroup.target.name) == ("cgroup", str(world.cgroup / "svc"))
    assert cgroup.attach_type == "cgroup_inet_egress"
    assert (xdp.target.kind, xdp.target.name, xdp.target.ifindex) == ("netdev", "eth9", 9)
    # Without vmlinux BTF given, kernel function names are left for the answers.
    assert (fentry.target.kind, fentry.target.name, fentry.target.btf_type_id) == (
        "function",
        "",
        57,
    )
    assert fentry.attach_type == "trace_fentry"
    assert snap.programs[1].attach_func is None

    vmlinux, own = snap.btf
    assert (vmlinux.name, vmlinux.kernel, vmlinux.prog_ids) == ("vmlinux", True, ())
    assert (own.prog_ids, own.map_ids, own.owners) == ((5,), (30, 31), (Owner(100, "loader"),))

    assert snap.stats_enabled is True
    assert snap.left_out == ()
    assert snap.notes == ()
    assert world.kernel.open_fds == {}


def test_an_id_freed_between_listing_and_opening_is_left_out_and_counted(world: World) -> None:
    world.kernel.faults[("fd_by_id", Kind.MAPS, 30)] = errno.ENOENT
    world.kernel.faults[("fd_by_id", Kind.PROGRAMS, 6)] = errno.ENOENT
    snap = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    assert snap.ids(Kind.MAPS) == (31,)
    assert snap.ids(Kind.PROGRAMS) == (5,)
    assert set(snap.left_out) == {
        LeftOut("maps", "vanished", 1),
        LeftOut("programs", "vanished", 1),
    }
    assert world.kernel.open_fds == {}


def test_info_failures_and_malformed_info_leave_one_entry_out(world: World) -> None:
    world.kernel.faults[("info", Kind.LINKS, 3)] = errno.EIO
    world.kernel.objects[Kind.MAPS][31].info = b"\x02\x00"
    snap = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    assert snap.ids(Kind.LINKS) == (1, 2, 4)
    assert snap.ids(Kind.MAPS) == (30,)
    assert set(snap.left_out) == {
        LeftOut("links", "info failed (EIO)", 1),
        LeftOut("maps", "malformed info", 1),
    }
    assert world.kernel.open_fds == {}


@pytest.mark.parametrize(
    ("fault", "cause", "words"),
    [
        (("next_id", Kind.PROGRAMS, None), errno.EPERM, ("CAP_SYS_ADMIN", "BPF_PROG_GET_NEXT_ID")),
        (("fd_by_id", Kind.MAPS, 30), errno.EACCES, ("CAP_SYS_ADMIN", "BPF_MAP_GET_FD_BY_ID")),
        (("next_id", None, None), errno.ENOSYS, ("no bpf() system call", "CONFIG_BPF_SYSCALL")),
        (("next_id", Kind.LINKS, None), errno.EINVAL, ("bpf() system call failed",)),
    ],
)
def test_refusals_raise_one_sentence_saying_what_to_do(
    world: World, fault: tuple[str, Kind | None, int | None], cause: int, words: tuple[str, ...]
) -> None:
    world.kernel.faults[fault] = cause
    with pytest.raises(BpfUnavailable) as info:
        snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    for word in words:
        assert word in str(info.value)
    expected = {errno.EPERM: "permission", errno.EACCES: "permission", errno.ENOSYS: "missing"}
    assert info.value.cause == expected.get(cause, "io")
    assert world.kernel.open_fds == {}


def test_an_unknown_architecture_is_a_kernel_without_bpf() -> None:
    calls = LibcBpf(machine="vax")
    with pytest.raises(OSError, match="no known bpf"):
        calls.next_id(Kind.PROGRAMS, 0)
    with pytest.raises(BpfUnavailable, match="no bpf\\(\\) system call"):
        snapshot(calls)


def test_a_process_that_exits_mid_scan_is_left_out_and_counted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = procfs.read_text

    def exits_while_read(path: Path | str) -> str:
        if "/100/fdinfo/" in str(path):
            shutil.rmtree(world.proc / "100")
        return read(path)

    monkeypatch.setattr(procfs, "read_text", exits_while_read)
    snap = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    assert snap.programs[0].owners == ()
    assert snap.maps[0].owners == (Owner(200, "agent"),)
    assert LeftOut("processes", "vanished", 1) in snap.left_out


def test_a_process_gone_before_its_comm_is_read_and_a_closed_descriptor(world: World) -> None:
    process(world.proc, 300, None, {})
    (world.proc / "100" / "fdinfo" / "3").unlink()  # closed after its fd was listed
    snap = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    assert LeftOut("processes", "vanished", 1) in snap.left_out
    assert snap.programs[0].owners == ()  # fd 3 was the only descriptor of program 5
    assert snap.links[0].owners == (Owner(100, "loader"),)


def test_a_link_whose_name_cannot_be_read_is_still_listed(world: World) -> None:
    world.kernel.faults[("info", Kind.LINKS, 1)] = errno.EFAULT
    world.kernel.spare[("info", Kind.LINKS, 1)] = 1  # the first call (type, length) works
    snap = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    assert (snap.links[0].target.kind, snap.links[0].target.name) == ("tracepoint", "")
    assert snap.left_out == ()


def test_without_bpffs_or_stats(world: World) -> None:
    (world.proc / "self" / "mounts").write_text("proc /proc proc rw 0 0\n")
    (world.proc / "sys" / "kernel" / "bpf_stats_enabled").write_text("0\n")
    snap = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    assert snap.stats_enabled is False
    assert snap.programs[0].pins == ()
    assert snap.notes == ("no bpffs is mounted, so no pinned paths are known",)
    # No cgroup2 mount: the cgroup link keeps its id and no path.
    assert (snap.links[1].target.name, snap.links[1].target.cgroup_id) == (
        "",
        os.stat(world.cgroup / "svc").st_ino,
    )


def test_an_unparsable_program_btf_gives_no_function_names(world: World) -> None:
    world.kernel.objects[Kind.BTF][PROG_BTF_ID].buffers[abi.BTF_INFO.offset("btf")] = b"junk"
    snap = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    assert snap.programs[0].func_names == ()
    assert snap.programs[0].map_ids == (30, 31)


def test_pins_that_cannot_be_opened_are_counted(world: World) -> None:
    (world.bpffs / "app" / "stranger").touch()
    world.kernel.pin_faults[str(world.bpffs / "app" / "stranger")] = errno.EACCES
    (world.bpffs / "app" / "not-an-object").touch()  # ENOENT: not counted
    snap = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    assert snap.notes == ("1 entry under bpffs could not be opened",)
    assert snap.programs[0].pins == (str(world.bpffs / "app" / "prog"),)


FAULTS = st.sampled_from([errno.ENOENT, errno.EIO, errno.EFAULT, errno.EINVAL, errno.EPERM])
OPS = st.sampled_from(["fd_by_id", "info"])


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.tuples(OPS, st.sampled_from(list(Kind)), st.integers(1, 6)), FAULTS, max_size=8
    ),
    st.dictionaries(
        st.tuples(OPS, st.sampled_from(list(Kind)), st.integers(1, 6)), st.integers(0, 2)
    ),
)
def test_any_faults_leave_entries_out_or_refuse_and_close_every_descriptor(
    faults: dict[tuple[str, Kind | None, int | None], int],
    spare: dict[tuple[str, Kind | None, int | None], int],
) -> None:
    objects = {
        Kind.PROGRAMS: {i: FakeObject(prog_info(id=i, type=1, btf_id=4)) for i in (1, 2, 3)},
        Kind.MAPS: {i: FakeObject(map_info(id=i, type=2)) for i in (2, 5)},
        Kind.LINKS: {
            i: FakeObject(link_info(abi.LINK_RAW_TRACEPOINT, id=i, prog_id=1)) for i in (1, 6)
        },
        Kind.BTF: {4: FakeObject(btf_info(id=4, btf_size=8))},
    }
    kernel = FakeKernel(objects=objects, faults=dict(faults), spare=dict(spare))
    total = sum(len(objs) for objs in objects.values())
    refused: str | None = None
    try:
        snap = snapshot(kernel, proc=Path("/nonexistent"), sys_root=Path("/nonexistent"))
    except BpfUnavailable as exc:
        refused = exc.cause
    else:
        listed = sum(len(snap.of(kind)) for kind in Kind)
        left = sum(x.count for x in snap.left_out if x.kind != "processes")
        assert listed + left == total
    assert refused in (None, "permission")  # EPERM at GET_FD_BY_ID refuses the scan
    assert kernel.open_fds == {}


def test_ids_that_do_not_increase_end_the_listing() -> None:
    class Stuck(FakeKernel):
        def next_id(self, kind: Kind, start: int) -> int | None:
            return 1 if kind is Kind.PROGRAMS else None

    kernel = Stuck(objects={Kind.PROGRAMS: {1: FakeObject(prog_info(id=1, type=1))}})
    assert list_ids(kernel, Kind.PROGRAMS) == [1]
