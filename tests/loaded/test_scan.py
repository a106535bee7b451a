"""snapshot() over a fake kernel and a fake /proc and /sys: what it assembles, and how it
survives races, missing privileges, a kernel without bpf() and processes that exit."""

from __future__ import annotations

import errno
import os
import shutil
import struct
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpf_mcp.loaded import BpfUnavailable, Kind, LeftOut, Owner, abi
from bpf_mcp.readers.loaded import procfs
from bpf_mcp.readers.loaded.scan import list_ids, snapshot
from bpf_mcp.readers.loaded.syscall import LibcBpf

from .encode import btf_info, link_info, map_info, prog_info
from .fake import FakeKernel, FakeObject

REPO = Path(__file__).resolve().parents[2]
KINDS_BTF = (REPO / "fixtures" / "btf" / "kinds.btf").read_bytes()  # FUNCs 53 use_all, 55 scale

PROG_BTF_ID = 40


@attrs.frozen
class World:
    kernel: FakeKernel
    proc: Path
    sys_root: Path
    bpffs: Path
    cgroup: Path


def _fdinfo(key: str, ident: int, memlock: int | None = None) -> str:
    text = f"pos:\t0\nflags:\t02000002\n{key}:\t{ident}\n"
    return text + (f"memlock:\t{memlock}\n" if memlock is not None else "")


def _process(proc: Path, pid: int, comm: str | None, fds: dict[int, tuple[str, str]]) -> None:
    """proc/PID with `comm` (none if None) and descriptors fd -> (link target, fdinfo)."""
    base = proc / str(pid)
    (base / "fd").mkdir(parents=True)
    (base / "fdinfo").mkdir()
    if comm is not None:
        (base / "comm").write_text(comm + "\n")
    for fd, (target, info) in fds.items():
        os.symlink(target, base / "fd" / str(fd))
        (base / "fdinfo" / str(fd)).write_text(info)


@pytest.fixture
def world(tmp_path: Path) -> World:
    proc, sys_root, bpffs, cgroup = (tmp_path / d for d in ("proc", "sys", "bpffs", "cgroup"))
    for d in (proc / "self", sys_root / "class" / "net" / "eth9", bpffs / "app", cgroup / "svc"):
        d.mkdir(parents=True)
    (sys_root / "class" / "net" / "eth9" / "ifindex").write_text("9\n")
    cgroup_id = os.stat(cgroup / "svc").st_ino
    (proc / "self" / "mounts").write_text(
        f"proc /proc proc rw 0 0\nbpf {bpffs} bpf rw 0 0\ncgroup2 {cgroup} cgroup2 rw 0 0\n"
    )
    (proc / "sys" / "kernel").mkdir(parents=True)
    (proc / "sys" / "kernel" / "bpf_stats_enabled").write_text("1\n")
    for name in ("prog", "counts", "link"):
        (bpffs / "app" / name).touch()

    maps_at = abi.PROG_INFO.offset("map_ids")
    funcs_at = abi.PROG_INFO.offset("func_info")
    btf_at = abi.BTF_INFO.offset("btf")
    name_at = abi.BTF_INFO.offset("name")
    tp_at = abi.LINK_UNIONS[abi.LINK_RAW_TRACEPOINT].offset("raw_tracepoint.tp_name")
    kernel = FakeKernel(
        objects={
            Kind.PROGRAMS: {
                5: FakeObject(
                    prog_info(
                        id=5,
                        type=17,
                        name=b"on_switch",
                        tag=bytes(range(8)),
                        nr_map_ids=2,
                        nr_func_info=2,
                        btf_id=PROG_BTF_ID,
                        load_time=2_000_000_000,
                        gpl_word=1,
                    ),
                    {
                        maps_at: struct.pack("=2I", 30, 31),
                        funcs_at: struct.pack("=4I", 0, 53, 9, 55),
                    },
                    _fdinfo("prog_id", 5, 4096),
                ),
                6: FakeObject(prog_info(id=6, type=1, name=b"filter"), {}, _fdinfo("prog_id", 6)),
            },
            Kind.MAPS: {
                30: FakeObject(
                    map_info(
                        id=30,
                        type=1,
                        name=b"counts",
                        key_size=4,
                        value_size=8,
                        max_entries=64,
                        btf_id=PROG_BTF_ID,
                    ),
                    {},
                    _fdinfo("map_id", 30, 6160) + "frozen:\t0\n",
                ),
                31: FakeObject(
                    map_info(id=31, type=2, name=b"cfg", btf_id=PROG_BTF_ID),
                    {},
                    _fdinfo("map_id", 31),
                ),
            },
            Kind.LINKS: {
                1: FakeObject(
                    link_info(
                        abi.LINK_RAW_TRACEPOINT,
                        id=1,
                        prog_id=5,
                        fields={"raw_tracepoint.tp_name_len": 13},
                    ),
                    {tp_at: b"sched_switch\0"},
                    _fdinfo("link_id", 1),
                ),
                2: FakeObject(
                    link_info(
                        abi.LINK_CGROUP,
                        id=2,
                        prog_id=6,
                        fields={"cgroup.cgroup_id": cgroup_id, "cgroup.attach_type": 1},
                    ),
                ),
                3: FakeObject(link_info(abi.LINK_XDP, id=3, prog_id=6, fields={"xdp.ifindex": 9})),
            },
            Kind.BTF: {
                1: FakeObject(
                    btf_info(id=1, btf_size=5_000_000, kernel_btf=1), {name_at: b"vmlinux\0"}
                ),
                PROG_BTF_ID: FakeObject(
                    btf_info(id=PROG_BTF_ID, btf_size=len(KINDS_BTF)), {btf_at: KINDS_BTF}
                ),
            },
        },
        pins={
            str(bpffs / "app" / "prog"): (Kind.PROGRAMS, 5),
            str(bpffs / "app" / "counts"): (Kind.MAPS, 30),
            str(bpffs / "app" / "link"): (Kind.LINKS, 1),
        },
    )
    # obj_get's fdinfo comes from the object too.
    _process(
        proc,
        100,
        "loader",
        {
            3: ("anon_inode:bpf-prog", _fdinfo("prog_id", 5)),
            4: ("anon_inode:bpf_link", "link_id:\t1\nprog_id:\t5\n"),
            5: ("/dev/null", "pos:\t0\n"),
            6: ("anon_inode:btf", _fdinfo("btf_id", PROG_BTF_ID)),
        },
    )
    _process(proc, 200, "agent", {7: ("anon_inode:bpf-map", _fdinfo("map_id", 30))})
    return World(kernel, proc, sys_root, bpffs, cgroup)


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

    raw_tp, cgroup, xdp = snap.links
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
    assert snap.ids(Kind.LINKS) == (1, 2)
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
    read = procfs._read_text

    def exits_while_read(path: Path | str) -> str:
        if "/100/fdinfo/" in str(path):
            shutil.rmtree(world.proc / "100")
        return read(path)

    monkeypatch.setattr(procfs, "_read_text", exits_while_read)
    snap = snapshot(world.kernel, proc=world.proc, sys_root=world.sys_root)
    assert snap.programs[0].owners == ()
    assert snap.maps[0].owners == (Owner(200, "agent"),)
    assert LeftOut("processes", "vanished", 1) in snap.left_out


def test_a_process_gone_before_its_comm_is_read_and_a_closed_descriptor(world: World) -> None:
    _process(world.proc, 300, None, {})
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
    assert snap.notes == ("1 entries under bpffs could not be opened as pins",)
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
