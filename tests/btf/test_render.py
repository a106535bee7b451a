"""C text of types: names, declarations, prototypes and definitions."""

from __future__ import annotations

import pytest

from bpf_mcp.btf import Btf, BtfError, Kind, parse_btf
from bpf_mcp.btf.render import c_definition, declaration, func_prototype, type_name
from bpf_mcp.testing.btf import BtfBuilder

from .conftest import FIXTURE_VMLINUX


@pytest.fixture(scope="module")
def kernel() -> Btf:
    """The captured Linux 6.18 vmlinux BTF."""
    return parse_btf(FIXTURE_VMLINUX.read_bytes())


def one(btf: Btf, name: str, kind: Kind) -> int:
    (tid,) = [t for t in btf.find(name) if btf.kind(t) is kind]
    return tid


def member_decls(btf: Btf, tid: int) -> dict[str, str]:
    return {m.name: declaration(btf, m.type_id, m.name) for m in btf.members(tid)}


def test_member_declarations(kinds: Btf) -> None:
    decls = member_decls(kinds, one(kinds, "outer", Kind.STRUCT))
    assert decls["name"] == "char name[16]"
    assert decls["next"] == "struct outer *next"
    assert decls["cv"] == "volatile const int *cv"
    assert decls["rp"] == "char *restrict rp"
    assert decls["counter"] == "chained_u32 counter"
    assert decls["hidden"] == "struct opaque *hidden"
    assert decls["maybe"] == "union later *maybe"
    assert decls["callback"] == "void (*callback)(int, const char *, ...)"


def test_type_names(kinds: Btf) -> None:
    types = {m.name: m.type_id for m in kinds.members(one(kinds, "outer", Kind.STRUCT))}
    assert type_name(kinds, types["name"]) == "char[16]"
    assert type_name(kinds, types["next"]) == "struct outer *"
    assert type_name(kinds, types["callback"]) == "void (*)(int, const char *, ...)"
    assert type_name(kinds, types["rp"]) == "char *restrict"
    anonymous = [m.type_id for m in kinds.members(one(kinds, "outer", Kind.STRUCT)) if not m.name]
    assert [type_name(kinds, t) for t in anonymous] == ["union {...}", "struct {...}"]
    assert type_name(kinds, 0) == "void"


def test_prototypes(kinds: Btf) -> None:
    assert func_prototype(kinds, one(kinds, "log_message", Kind.FUNC)) == (
        "int log_message(int level, const char *fmt, ...)"
    )
    assert func_prototype(kinds, one(kinds, "helper", Kind.FUNC)) == (
        "long int helper(struct bits *b, union number n)"
    )
    with pytest.raises(BtfError, match="not func"):
        func_prototype(kinds, one(kinds, "outer", Kind.STRUCT))


def test_type_tags_stay_in_the_text(tags: Btf) -> None:
    decls = member_decls(tags, one(tags, "tagged", Kind.STRUCT))
    assert decls["ubuf"] == "char __user *ubuf"
    assert decls["next"] == "struct tagged __rcu *next"


def test_definitions(kinds: Btf) -> None:
    assert c_definition(kinds, one(kinds, "bits", Kind.STRUCT)) == (
        "struct bits {\n"
        "\tunsigned int a: 3;\n"
        "\tunsigned int b: 5;\n"
        "\tint c: 7;\n"
        "\tlong long unsigned int d;\n"
        "\tunsigned char e: 1;\n"
        "};"
    )
    assert c_definition(kinds, one(kinds, "delta", Kind.ENUM)) == (
        "enum delta {\n\tMINUS_TWO = -2,\n\tZERO = 0,\n\tPLUS_THREE = 3,\n};"
    )
    wide = c_definition(kinds, one(kinds, "wide", Kind.ENUM64))
    assert "W_TOP = 18364758544493064720ULL," in wide
    assert "WN_MIN = -4294967296LL," in c_definition(kinds, one(kinds, "wide_neg", Kind.ENUM64))
    assert c_definition(kinds, one(kinds, "chained_u32", Kind.TYPEDEF)) == (
        "typedef my_u32 chained_u32;"
    )
    assert c_definition(kinds, one(kinds, "opaque", Kind.FWD)) == "struct opaque;"
    assert c_definition(kinds, one(kinds, "later", Kind.FWD)) == "union later;"
    assert c_definition(kinds, one(kinds, "log_message", Kind.FUNC)) == (
        "int log_message(int level, const char *fmt, ...);"
    )
    outer = c_definition(kinds, one(kinds, "outer", Kind.STRUCT))
    assert "\tunion {\n\t\tint as_int;\n\t\tchar as_bytes[4];\n\t};\n" in outer


def test_kernel_text(kernel: Btf) -> None:
    assert func_prototype(kernel, one(kernel, "vfs_read", Kind.FUNC)) == (
        "ssize_t vfs_read(struct file *file, char *buf, size_t count, loff_t *pos)"
    )
    task = member_decls(kernel, one(kernel, "task_struct", Kind.STRUCT))
    assert task["comm"] == "char comm[16]"
    assert task["sched_class"] == "const struct sched_class *sched_class"
    assert c_definition(kernel, one(kernel, "atomic_t", Kind.TYPEDEF)) == (
        "typedef struct {\n\tint counter;\n} atomic_t;"
    )
    ops = member_decls(kernel, one(kernel, "file_operations", Kind.STRUCT))
    assert ops["read"] == ("ssize_t (*read)(struct file *, char *, size_t, loff_t *)")
    percpu = [
        t for t in kernel.ids_of_kind(Kind.PTR) if kernel.kind(kernel.ref(t)) is Kind.TYPE_TAG
    ]
    assert type_name(kernel, percpu[0]) == "void __attribute__((address_space(1))) *"


def test_pointer_to_array_and_array_of_function_pointers() -> None:
    b = BtfBuilder()
    int_ = b.int_("int", 4, 32, encoding=1)
    arr = b.add(Kind.ARRAY, trailer=[int_, int_, 4])
    ptr_arr = b.ref(Kind.PTR, arr)
    proto = b.func_proto(int_, [("", int_)], variadic=False)
    fptr = b.ref(Kind.PTR, proto)
    fptrs = b.add(Kind.ARRAY, trailer=[fptr, int_, 2])
    const_ptr = b.ref(Kind.CONST, b.ref(Kind.PTR, int_))
    returns_fptr = b.func_proto(fptr, [], variadic=False)
    btf = parse_btf(b.blob())
    assert declaration(btf, ptr_arr, "p") == "int (*p)[4]"
    assert declaration(btf, fptrs, "table") == "int (*table[2])(int)"
    assert declaration(btf, const_ptr, "q") == "int *const q"
    assert type_name(btf, const_ptr) == "int *const"
    assert declaration(btf, returns_fptr, "f") == "int (*f(void))(int)"


def test_reference_loops_raise_btf_error() -> None:
    b = BtfBuilder()
    # PTR 1 -> PTR 2 -> PTR 1: no base type ever.
    b.ref(Kind.PTR, 2)
    b.ref(Kind.PTR, 1)
    b.ref(Kind.CONST, 4)
    b.ref(Kind.CONST, 3)
    btf = parse_btf(b.blob())
    for tid in (1, 3):
        with pytest.raises(BtfError, match="loop"):
            type_name(btf, tid)
        with pytest.raises(BtfError, match="loop"):
            c_definition(btf, tid)
