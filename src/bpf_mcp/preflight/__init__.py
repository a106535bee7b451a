"""Preflight: will a compiled BPF object load on a kernel? Checked offline, nothing loaded.

Pure: the object's bytes and a `KernelFacts` in, an `ObjectCheck` out. Reads the ELF with
pyelftools and the object's .BTF / .BTF.ext with our own parsers; maps section names to
program types as libbpf does; resolves CO-RE relocations by libbpf's rules.
"""

from __future__ import annotations

from .btf_ext import BtfExt, CoreRelo, FuncInfo, parse_btf_ext
from .check import check_object
from .core import CoreOutcome, ReloKind, Spec, resolve_relocations
from .elf import MAX_OBJECT_BYTES, BpfObject, read_object
from .errors import BtfExtError, ObjectError
from .kernel import FunctionCheck, KernelFacts, Verdict
from .model import (
    OUTSIDE,
    ExternCheck,
    HelperUse,
    MapCheck,
    ObjectCheck,
    ProgramCheck,
    Reason,
    Relocation,
    worst,
)
from .sections import SECTION_DEFS, SectionDef, SectionMatch, Target, match_section

__all__ = [
    "MAX_OBJECT_BYTES",
    "OUTSIDE",
    "SECTION_DEFS",
    "BpfObject",
    "BtfExt",
    "BtfExtError",
    "CoreOutcome",
    "CoreRelo",
    "ExternCheck",
    "FuncInfo",
    "FunctionCheck",
    "HelperUse",
    "KernelFacts",
    "MapCheck",
    "ObjectCheck",
    "ObjectError",
    "ProgramCheck",
    "Reason",
    "Relocation",
    "ReloKind",
    "SectionDef",
    "SectionMatch",
    "Spec",
    "Target",
    "Verdict",
    "check_object",
    "match_section",
    "parse_btf_ext",
    "read_object",
    "worst",
    "resolve_relocations",
]
