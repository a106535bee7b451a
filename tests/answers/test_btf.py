"""describe_btf_type, generate_c_header and get_btf_types' matching, on the captured
kernel and on a sysroot that also has module BTF."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from bpf_mcp.answers import answer
from bpf_mcp.config import Config
from bpf_mcp.convert import structure_arguments, unstructure
from bpf_mcp.errors import InvalidArgument, NotFound
from bpf_mcp.index import View
from bpf_mcp.index.indexes import BtfIndex, build_index
from bpf_mcp.queries import DescribeBtfType, GenerateCHeader, GetBtfTypes
from bpf_mcp.readers.btf import BtfReader
from bpf_mcp.results import BtfTypeDescription, CHeader
from bpf_mcp.sources import Source
from bpf_mcp.testing.view import build_view
from tests.support import BTF_BLOBS

MODULE_BLOB = BTF_BLOBS / "module_vmlinux.btf"


def describe(view: View, name: str, **kw: Any) -> BtfTypeDescription:
    """The whole description: every member and value, and the C text."""
    whole = {"member_limit": 1000, "value_limit": 10_000, "include_c": True}
    result = answer(DescribeBtfType(name=name, **{**whole, **kw}), view)
    assert isinstance(result, BtfTypeDescription)
    return result


# -- describe_btf_type --------------------------------------------------------------------


def test_struct_layout(view: View) -> None:
    task = describe(view, "task_struct")
    assert (task.kind, task.size, task.alignment, task.object) == ("struct", 3264, 64, "vmlinux")
    assert task.layout is not None and task.members is not None
    assert (task.layout.holes, task.layout.sum_holes, task.layout.padding) == (17, 72, 24)
    by_path = {m.path: m for m in task.members}
    assert by_path["comm"].type == "char[16]" and by_path["comm"].size == 16
    assert by_path["tasks"].type == "struct list_head"
    assert by_path["sched_class"].type == "const struct sched_class *"
    flag = by_path["sched_reset_on_fork"]
    assert (flag.bitfield_size, flag.offset, flag.bit_offset % 32) == (1, 1188, 0)
    assert by_path["sched_task_hot"].bit_hole_after == 28
    assert task.c is not None and task.c_bytes == len(task.c.encode())
    assert task.c.startswith("struct task_struct {\n") and task.c.endswith("};")
    assert task.typedef_chain is None and task.values is None


def test_anonymous_members_are_expanded(view: View) -> None:
    skb = describe(view, "sk_buff")
    assert skb.members is not None and skb.layout is not None
    direct = [m for m in skb.members if m.depth == 0]
    assert len(direct) == skb.layout.members
    assert len(skb.members) > len(direct) + 65
    nxt = next(m for m in skb.members if m.path == "next")
    assert (nxt.depth, nxt.type, nxt.offset) == (2, "struct sk_buff *", 0)
    assert any(m.path == "headers.protocol" for m in skb.members)


def test_enum_values_and_signedness(view: View) -> None:
    prog = describe(view, "bpf_prog_type")
    assert prog.kind == "enum" and prog.signed is False and prog.values is not None
    values = {v.name: v.value for v in prog.values}
    assert values["BPF_PROG_TYPE_UNSPEC"] == 0 and "__MAX_BPF_PROG_TYPE" in values
    assert prog.c is not None and prog.c.startswith("enum bpf_prog_type {")


def test_typedef_chain(view: View) -> None:
    pid = describe(view, "pid_t")
    assert pid.typedef_chain is not None
    assert [s.type for s in pid.typedef_chain] == ["pid_t", "__kernel_pid_t", "int"]
    assert (pid.size, pid.type, pid.c) == (4, "__kernel_pid_t", "typedef __kernel_pid_t pid_t;")


def test_func_prototype_and_decl_tags(view: View) -> None:
    read = describe(view, "vfs_read")
    assert read.prototype == (
        "ssize_t vfs_read(struct file *file, char *buf, size_t count, loff_t *pos)"
    )
    assert read.params is not None and [p.name for p in read.params] == [
        "file",
        "buf",
        "count",
        "pos",
    ]
    assert (read.return_type, read.variadic, read.linkage) == ("ssize_t", False, "static")
    kfunc = describe(view, "bpf_task_acquire")
    assert any(t.tag == "bpf_kfunc" and t.component == -1 for t in kfunc.decl_tags)
    assert kfunc.c == "struct task_struct *bpf_task_acquire(struct task_struct *p);"


def test_kind_picks_among_same_named_types(view: View) -> None:
    both = describe(view, "kthread")  # a struct and a function share the name
    assert both.kind == "struct"
    assert [o.kind for o in both.others] == ["func"]
    assert describe(view, "kthread", kind="func").prototype is not None
    assert describe(view, "struct kthread").kind == "struct"
    with pytest.raises(InvalidArgument, match="says union"):
        describe(view, "union kthread", kind="struct")
    with pytest.raises(NotFound, match="No enum named 'task_struct'; that name belongs to"):
        describe(view, "task_struct", kind="enum")


def test_unknown_name_suggests_close_ones(view: View) -> None:
    with pytest.raises(NotFound) as caught:
        describe(view, "task_strcut")
    assert "Close matches: task_struct" in str(caught.value)
    with pytest.raises(NotFound, match="Close matches: task_struct"):
        describe(view, "TASK_STRUCT")
    with pytest.raises(NotFound, match="No BTF object named 'nosuchmod'"):
        describe(view, "task_struct", object="nosuchmod")


def test_other_kinds(view: View) -> None:
    int_ = describe(view, "int")
    assert (int_.kind, int_.size, int_.signed, int_.bits, int_.c) == ("int", 4, True, 32, "int")
    var = describe(view, "runqueues")
    assert var.kind == "var" and var.linkage is not None and var.type == "struct rq"


def test_describe_arguments_are_validated() -> None:
    with pytest.raises(InvalidArgument, match="name"):
        structure_arguments({"name": ""}, DescribeBtfType)
    with pytest.raises(InvalidArgument, match="unknown argument"):
        structure_arguments({"name": "x", "colour": "red"}, DescribeBtfType)


# -- generate_c_header --------------------------------------------------------------------


def header(view: View, *names: str) -> CHeader:
    """The whole header: its parts, fetched by next_offset, concatenated."""
    result = answer(GenerateCHeader(names=names), view)
    assert isinstance(result, CHeader)
    text = result.header
    offset = result.next_offset
    while offset is not None:
        part = answer(GenerateCHeader(names=names, offset=offset), view)
        text += part.header
        offset = part.next_offset
    return attrs.evolve(result, header=text, bytes=len(text.encode()), next_offset=None)


def test_header_compiles(view: View, tmp_path: Path) -> None:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    result = header(view, "task_struct", "struct sock", "bpf_prog_type", "atomic_t", "vfs_read")
    assert result.defined > 5 and result.declared > 5
    assert [r.name for r in result.roots] == [
        "task_struct",
        "sock",
        "bpf_prog_type",
        "atomic_t",
        "vfs_read",
    ]
    assert result.bytes == len(result.header.encode())
    path = tmp_path / "t.h"
    path.write_text(result.header)
    done = subprocess.run([gcc, "-fsyntax-only", "-x", "c", str(path)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[:2000]


def test_header_unknown_names(view: View) -> None:
    with pytest.raises(NotFound) as caught:
        header(view, "task_struct", "sk_bufff", "nosuch_thing_at_all")
    message = str(caught.value)
    assert "'sk_bufff' (close: sk_buff" in message and "'nosuch_thing_at_all'" in message


def test_header_parts_keep_to_max_bytes(view: View) -> None:
    first = answer(GenerateCHeader(names=("task_struct", "sock"), max_bytes=4096), view)
    assert first.bytes <= 4096 and first.next_offset is not None and first.offset == 0
    assert first.definitions == first.defined > first.next_offset
    small = answer(GenerateCHeader(names=("list_head",)), view)
    assert small.next_offset is None and small.note is None
    assert small.header.startswith("/* Generated") and small.header.endswith("*/\n")


def test_header_names_are_bounded() -> None:
    with pytest.raises(InvalidArgument, match="names"):
        structure_arguments({"names": []}, GenerateCHeader)
    with pytest.raises(InvalidArgument, match="names"):
        structure_arguments({"names": ["x"] * 65}, GenerateCHeader)
    with pytest.raises(InvalidArgument, match="names"):
        structure_arguments({"names": ["ok", ""]}, GenerateCHeader)
    assert structure_arguments({"names": ["a", "b"]}, GenerateCHeader).names == ("a", "b")


# -- get_btf_types: match and case ---------------------------------------------------------


def names(view: View, **kw: object) -> list[str]:
    result = answer(GetBtfTypes(limit=1000, **kw), view)  # type: ignore[arg-type]
    return [t.name for t in result.items]


def test_match_modes(view: View) -> None:
    assert names(view, pattern="task_struct", match="exact") == ["task_struct"]
    assert names(view, pattern="TASK_STRUCT", match="exact") == ["task_struct"]
    assert names(view, pattern="TASK_STRUCT", match="exact", case_sensitive=True) == []
    ops = names(view, pattern="bpf_*_ops", match="glob", kind="struct")
    assert "bpf_map_ops" in ops and "bpf_struct_ops" in ops
    assert all(n.startswith("bpf_") and n.endswith("_ops") for n in ops)
    assert names(view, pattern="[st]k_buff", match="glob") == ["sk_buff"]
    substring = names(view, pattern="SK_BUFF")
    assert "sk_buff" in substring and "__sk_buff" in substring
    assert names(view, pattern="SK_BUFF", case_sensitive=True) == []


def test_match_is_validated() -> None:
    with pytest.raises(InvalidArgument, match="match"):
        structure_arguments({"match": "regex"}, GetBtfTypes)


# -- module BTF ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_view(tmp_path_factory: pytest.TempPathFactory, fixture_root: Path) -> View:
    """The captured kernel plus one module's split BTF, read through the sysroot."""
    root = tmp_path_factory.mktemp("sysroot")
    shutil.copytree(fixture_root, root, dirs_exist_ok=True, symlinks=True)
    shutil.copy(MODULE_BLOB, root / "sys/kernel/btf/bpf_testmod")
    base = build_view(root)
    return attrs.evolve(base, indexes=attrs.evolve(base.indexes, btf=module_index(root)))


def module_index(root: Path) -> BtfIndex:
    """The BTF index built the way the reader and router build it."""
    chunks: list[object] = []

    async def emit(chunk: object) -> None:
        chunks.append(chunk)

    async def load() -> str:
        loaded = await BtfReader().load(Config(sysroot=root), emit)
        return loaded.summary

    summary = trio.run(load)
    assert "1 module" in summary
    index = build_index(Source.BTF, chunks)
    assert isinstance(index, BtfIndex)
    return index


def test_module_types_are_listed_with_their_object(module_view: View) -> None:
    result = answer(GetBtfTypes(pattern="fixture_mod", limit=1000), module_view)
    objects = {t.object for t in result.items}
    assert "bpf_testmod" in objects
    mine = [t for t in result.items if t.object == "bpf_testmod"]
    assert all(t.id > 126_699 for t in mine)


def test_module_types_are_described_and_headed(module_view: View, tmp_path: Path) -> None:
    module_ids = [
        t
        for t in answer(GetBtfTypes(pattern="fixture_mod", kind="struct"), module_view).items
        if t.object == "bpf_testmod"
    ]
    assert module_ids
    first = module_ids[0]
    described = describe(module_view, first.name, object="bpf_testmod")
    assert (described.object, described.id) == ("bpf_testmod", first.id)
    result = header(module_view, first.name)
    assert result.object == "bpf_testmod"
    gcc = shutil.which("gcc")
    if gcc is not None:
        path = tmp_path / "m.h"
        path.write_text(result.header)
        done = subprocess.run([gcc, "-fsyntax-only", "-x", "c", str(path)], capture_output=True)
        assert done.returncode == 0, done.stderr.decode()[:2000]


def test_results_convert_to_json(view: View) -> None:
    value = unstructure(describe(view, "list_head"))
    assert value["members"][0] == {
        "name": "next",
        "path": "next",
        "depth": 0,
        "type": "struct list_head *",
        "type_id": value["members"][0]["type_id"],
        "offset": 0,
        "bit_offset": 0,
        "size": 8,
        "bitfield_size": None,
        "hole_after": 0,
        "bit_hole_after": 0,
    }


def test_a_malformed_module_is_left_out(tmp_path: Path, fixture_root: Path) -> None:
    btf_dir = tmp_path / "sys/kernel/btf"
    btf_dir.mkdir(parents=True)
    shutil.copyfile(fixture_root / "sys/kernel/btf/vmlinux", btf_dir / "vmlinux")
    (btf_dir / "broken").write_bytes(b"\x9f\xeb\x01\x00" + b"\0" * 8)
    chunks: list[object] = []

    async def emit(chunk: object) -> None:
        chunks.append(chunk)

    async def load() -> str:
        return (await BtfReader().load(Config(sysroot=tmp_path), emit)).summary

    summary = trio.run(load)
    assert "module BTF left out: broken (broken: BTF header truncated" in summary
    assert len(chunks) == 1
