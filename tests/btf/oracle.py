"""Compare a parsed `Btf` with `bpftool -j btf dump file`, type by type."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bpf_mcp.btf import Btf, Kind

LINKAGE = ("static", "global", "extern")
INT_ENCODING = {0: "(none)", 1: "SIGNED", 2: "CHAR", 4: "BOOL"}


def bpftool() -> str | None:
    """The bpftool executable, or None when it is not installed."""
    return shutil.which("bpftool") or next(
        (p for p in ("/usr/sbin/bpftool", "/sbin/bpftool") if Path(p).exists()), None
    )


def dump(tool: str, path: Path, base: Path | None = None) -> list[dict[str, Any]]:
    """bpftool's JSON list of types for the BTF at `path` (split over `base` if given)."""
    command = [tool, "-j"]
    if base is not None:
        command += ["-B", str(base)]
    command += ["btf", "dump", "file", str(path)]
    out = subprocess.run(command, capture_output=True, check=True, timeout=120).stdout
    types: list[dict[str, Any]] = json.loads(out)["types"]
    return types


def _name(name: str) -> str:
    return name or "(anon)"


def decode(btf: Btf, tid: int) -> dict[str, Any]:
    """`tid` rendered with bpftool's JSON field names, from our accessors only."""
    kind = btf.kind(tid)
    out: dict[str, Any] = {"id": tid, "kind": kind.name, "name": _name(btf.name(tid))}
    if kind is Kind.INT:
        info = btf.int_info(tid)
        out |= {"size": btf.size(tid), "bits_offset": info.bit_offset, "nr_bits": info.bits}
        out["encoding"] = INT_ENCODING.get(info.encoding, "UNKN")
    elif kind in (Kind.PTR, Kind.TYPEDEF, Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.TYPE_TAG):
        out["type_id"] = btf.ref(tid)
    elif kind is Kind.ARRAY:
        a = btf.array(tid)
        out |= {"type_id": a.elem_type_id, "index_type_id": a.index_type_id, "nr_elems": a.nelems}
    elif kind in (Kind.STRUCT, Kind.UNION):
        out |= {"size": btf.size(tid), "vlen": btf.vlen(tid)}
        out["members"] = [
            {"name": _name(m.name), "type_id": m.type_id, "bits_offset": m.bit_offset}
            | ({"bitfield_size": m.bitfield_size} if m.bitfield_size else {})
            for m in btf.members(tid)
        ]
    elif kind in (Kind.ENUM, Kind.ENUM64):
        out["encoding"] = "SIGNED" if btf.kind_flag(tid) else "UNSIGNED"
        out |= {"size": btf.size(tid), "vlen": btf.vlen(tid)}
        out["values"] = [{"name": v.name, "val": v.value} for v in btf.enum_values(tid)]
    elif kind is Kind.FWD:
        out["fwd_kind"] = "union" if btf.kind_flag(tid) else "struct"
    elif kind in (Kind.FUNC, Kind.VAR):
        out |= {"type_id": btf.ref(tid), "linkage": LINKAGE[btf.linkage(tid)]}
    elif kind is Kind.FUNC_PROTO:
        out |= {"ret_type_id": btf.ref(tid), "vlen": btf.vlen(tid)}
        params = [{"name": _name(p.name), "type_id": p.type_id} for p in btf.params(tid)]
        if btf.is_variadic(tid):
            params.append({"name": "(anon)", "type_id": 0})  # bpftool shows the marker
        out["params"] = params
    elif kind is Kind.DATASEC:
        out |= {"size": btf.size(tid), "vlen": btf.vlen(tid)}
        out["vars"] = [
            {"type_id": e.type_id, "offset": e.offset, "size": e.size}
            for e in btf.datasec_entries(tid)
        ]
    elif kind is Kind.FLOAT:
        out["size"] = btf.size(tid)
    elif kind is Kind.DECL_TAG:
        out |= {"type_id": btf.ref(tid), "component_idx": btf.decl_tag_component(tid)}
    return out


def normalize(entry: dict[str, Any]) -> dict[str, Any]:
    """bpftool's entry with its known quirks undone.

    bpftool 7.1 prints an unsigned 32-bit enum value with bit 31 set as a sign-extended
    64-bit number (0x80000000 becomes 18446744071562067968); the kernel's value is the u32.
    """
    if entry["kind"] == "ENUM" and entry.get("encoding") == "UNSIGNED":
        entry = entry | {"values": [v | {"val": v["val"] & 0xFFFFFFFF} for v in entry["values"]]}
    return entry


def mismatches(btf: Btf, types: list[dict[str, Any]], limit: int = 5) -> list[str]:
    """Up to `limit` descriptions of types where our decoding differs from bpftool's."""
    problems = []
    for entry in types:
        ours = decode(btf, entry["id"])
        theirs = normalize(entry)
        if ours != theirs:
            problems.append(f"ours {ours}\nbpftool {theirs}")
            if len(problems) >= limit:
                break
    return problems
