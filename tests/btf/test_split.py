"""Split BTF: a module's types on top of a base object."""

from __future__ import annotations

import pytest

from bpf_mcp.btf import Btf, BtfError, Kind, parse_btf
from bpf_mcp.testing.btf import BtfBuilder, str_len

from .conftest import blob, matching_vmlinux


def test_ids_continue_after_base(base: Btf, module: Btf) -> None:
    assert module.base is base
    assert module.first_id == base.last_id + 1
    assert module.last_id == module.first_id + len(module) - 1
    assert len(module) == 6
    assert module.object_name == "module"


def test_base_ids_are_answered_by_base(base: Btf, module: Btf) -> None:
    (task,) = base.find("task_struct")
    assert module.kind(task) is Kind.STRUCT
    assert module.name(task) == "task_struct"
    assert module.members(task) == base.members(task)
    assert module.object_of(task) == "base"
    assert module.object_of(0) == "base"


def test_module_types_use_base_types_and_strings(base: Btf, module: Btf) -> None:
    (state,) = module.find("fixture_mod_state")
    assert state > base.last_id
    assert module.object_of(state) == "module"
    members = {m.name: m.type_id for m in module.members(state)}
    # list_head is deduplicated against the base, so the member refers to a base id.
    assert members["node"] == base.find("list_head")[0]
    assert module.kind(module.ref(members["owner"])) is Kind.STRUCT
    assert module.name(module.ref(members["owner"])) == "task_struct"
    (poke,) = module.find("fixture_mod_poke")
    proto = module.ref(poke)
    assert [p.name for p in module.params(proto)] == ["state", "mode"]
    assert module.name(module.params(proto)[1].type_id) == "fixture_mod_mode"


def test_find_and_search_scope(base: Btf, module: Btf) -> None:
    assert module.find("task_struct") == base.find("task_struct")
    assert module.find("int") == (*base.find("int"), *(
        t for t in module.find("int") if t > base.last_id
    ))  # fmt: skip
    assert all(t >= module.first_id for t in module.named_ids())
    assert [module.name(t) for t in module.search_names("fixture_mod")] == [
        "fixture_mod_state", "fixture_mod_mode", "fixture_mod_poke",
    ]  # fmt: skip
    assert module.search_names("task_struct") == []  # base names are not searched


def test_ids_beyond_module_are_out_of_range(module: Btf) -> None:
    with pytest.raises(BtfError, match="out of range"):
        module.kind(module.last_id + 1)


def test_split_against_running_vmlinux() -> None:
    data = matching_vmlinux()
    if data is None:
        pytest.skip("no vmlinux byte-identical to the base module_vmlinux.btf was built on")
    vmlinux = parse_btf(data)
    module = parse_btf(blob("module_vmlinux"), base=vmlinux, object_name="fixture_mod")
    assert module.first_id == vmlinux.last_id + 1
    (state,) = module.find("fixture_mod_state")
    members = {m.name: m.type_id for m in module.members(state)}
    assert module.object_of(members["node"]) == "vmlinux"
    assert module.name(members["node"]) == "list_head"
    assert module.object_of(state) == "fixture_mod"


def test_built_split_blob_with_empty_strings(base: Btf) -> None:
    b = BtfBuilder(first_id=base.last_id + 1, base_str_len=_str_len(base))
    ptr = b.ref(Kind.PTR, base.find("task_struct")[0])
    data = b.blob()
    split = parse_btf(data, base=base, object_name="m")
    assert split.ref(ptr) == base.find("task_struct")[0]
    assert split.name(ptr) == ""


def test_split_string_offsets_past_the_base(base: Btf) -> None:
    b = BtfBuilder(first_id=base.last_id + 1, base_str_len=_str_len(base))
    tid = b.int_("own_int", 4, 32)
    split = parse_btf(b.blob(), base=base, object_name="m")
    assert split.name(tid) == "own_int"
    assert split.find("own_int") == (tid,)


def test_base_must_be_a_btf() -> None:
    with pytest.raises(TypeError, match="base must be a Btf"):
        parse_btf(blob("module"), base=object())  # type: ignore[arg-type]


def _str_len(btf: Btf) -> int:
    """The string section length of fixtures/btf/base.btf, which `btf` was parsed from."""
    assert btf.object_name == "base"
    return str_len(blob("base"))
