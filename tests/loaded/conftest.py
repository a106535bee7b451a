"""A fake kernel with a few objects of each kind, under a fake /proc, /sys, bpffs and
cgroup2 tree: what snapshot() and the answers are tested on."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import attrs
import pytest

from bpf_mcp.loaded import Kind, abi

from .encode import btf_info, link_info, map_info, prog_info
from .fake import FakeKernel, FakeObject

REPO = Path(__file__).resolve().parents[2]
KINDS_BTF = (REPO / "fixtures" / "btf" / "kinds.btf").read_bytes()  # FUNCs 53 use_all, 55 scale

PROG_BTF_ID = 40
VMLINUX_BTF_ID = 1
HELPER_FUNC = 57  # a FUNC of kinds.btf, which stands in for vmlinux in the answer tests


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


def process(proc: Path, pid: int, comm: str | None, fds: dict[int, tuple[str, str]]) -> None:
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
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    # Not tmp_path: its name holds the test's, which patterns could match in pin paths.
    tmp_path = tmp_path_factory.mktemp("world")
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
                6: FakeObject(
                    prog_info(
                        id=6,
                        type=26,
                        name=b"on_read",
                        attach_btf_obj_id=VMLINUX_BTF_ID,
                        attach_btf_id=HELPER_FUNC,
                    ),
                    {},
                    _fdinfo("prog_id", 6),
                ),
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
                4: FakeObject(
                    link_info(
                        abi.LINK_TRACING,
                        id=4,
                        prog_id=6,
                        fields={
                            "tracing.attach_type": 24,
                            "tracing.target_obj_id": VMLINUX_BTF_ID,
                            "tracing.target_btf_id": HELPER_FUNC,
                        },
                    )
                ),
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
    process(
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
    process(proc, 200, "agent", {7: ("anon_inode:bpf-map", _fdinfo("map_id", 30))})
    return World(kernel, proc, sys_root, bpffs, cgroup)
