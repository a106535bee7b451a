"""The frozen result of checking a BPF object against a kernel."""

from __future__ import annotations

import attrs

from .kernel import Verdict

__all__ = [
    "OUTSIDE",
    "ExternCheck",
    "HelperUse",
    "MapCheck",
    "ObjectCheck",
    "ProgramCheck",
    "Reason",
    "Relocation",
    "worst",
]

OUTSIDE = (
    "Not checked: whether the verifier accepts each program (bounds, pointer use, "
    "loops, helper and kfunc arguments, program size); only loading on this kernel "
    "answers that. Everything else libbpf resolves before the verifier runs is checked."
)

_ORDER = {"no": 0, "unknown": 1, "yes": 2}


def worst(*verdicts: Verdict) -> Verdict:
    """The least favourable of `verdicts` (no < unknown < yes); "yes" for none."""
    found: Verdict = "yes"
    for verdict in verdicts:
        if _ORDER[verdict] < _ORDER[found]:
            found = verdict
    return found


@attrs.frozen
class Reason:
    """Why a verdict is not "yes": the program element, the kernel fact, its source."""

    verdict: Verdict
    element: str
    fact: str
    source: str


@attrs.frozen
class Relocation:
    """One CO-RE relocation as libbpf would resolve it on this kernel.

    `kind` is libbpf's label (byte_off, byte_sz, field_exists, signed, lshift_u64,
    rshift_u64, local_type_id, target_type_id, type_exists, type_size, type_matches,
    enumval_exists, enumval_value); `access` reads like C; `status` is ok, poisoned
    (no target: an invalid instruction, fatal if reached) or failed (libbpf refuses the
    object); `target_value` is what libbpf patches in (None unless ok).
    """

    index: int
    section: str
    insn: int
    kind: str
    access: str
    status: str
    local_value: int | None
    target_value: int | None
    target_type_id: int | None
    sentence: str

    @property
    def ok(self) -> bool:
        """True when libbpf patches the instruction with `target_value`."""
        return self.status == "ok"


@attrs.frozen
class HelperUse:
    """A helper call: the `bpf_func_id` value, its name on this kernel ("" if it has
    none), the first instruction calling it, and whether this kernel has it."""

    id: int
    name: str
    insn: int
    exists: bool


@attrs.frozen
class ExternCheck:
    """An extern of the object: kfunc (.ksyms function), ksym (.ksyms variable) or
    kconfig, whether weak, the verdict for it and a sentence (the value, or the why)."""

    name: str
    kind: str
    weak: bool
    verdict: Verdict
    detail: str


@attrs.frozen
class MapCheck:
    """A map the object defines: name, type constant (or number), sizes, verdict."""

    name: str
    type: str
    key_size: int | None
    value_size: int | None
    max_entries: int
    verdict: Verdict
    detail: str


@attrs.frozen
class ProgramCheck:
    """One program: how libbpf reads its section, its target, what it uses, verdicts.

    `load` says whether libbpf and the kernel accept it for loading (the verifier's own
    judgement aside), `attach` whether its target exists and can be attached to here,
    `verdict` the worse of the two; `reasons` explain every verdict that is not "yes".
    """

    name: str
    section: str
    prog_type: str
    expected_attach_type: str
    attach_target: str
    sleepable: bool
    autoload: bool
    load: Verdict
    attach: Verdict
    verdict: Verdict
    relocations: tuple[Relocation, ...]
    helpers: tuple[HelperUse, ...]
    kfuncs: tuple[str, ...]
    uses: tuple[str, ...]
    reasons: tuple[Reason, ...]


@attrs.frozen
class ObjectCheck:
    """The whole object: its metadata, programs, maps and externs, and the verdict.

    `reasons` are the object-wide ones (a map, an extern, a relocation libbpf refuses):
    each makes every program's `load` at best what it says. `outside` states once what
    is not checked.
    """

    name: str
    size: int
    license: str | None
    byte_order: str
    btf_types: int
    verdict: Verdict
    programs: tuple[ProgramCheck, ...]
    maps: tuple[MapCheck, ...]
    externs: tuple[ExternCheck, ...]
    reasons: tuple[Reason, ...]
    outside: str = OUTSIDE
