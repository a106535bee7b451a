"""Check a compiled BPF object against a kernel without loading it.

`check_object` reads the ELF, the object's BTF and .BTF.ext, and answers, per program,
what libbpf and this kernel would make of it before the verifier runs: the program type
and expected attach type of its section, whether its attach target exists here, every
CO-RE relocation, helper calls, kfuncs, ksyms, kconfig externs and map types.
Pure: bytes and kernel facts in, an `ObjectCheck` out.
"""

from __future__ import annotations

from ..btf import Btf, BtfError, parse_btf
from .btf_ext import BtfExt, CoreRelo, parse_btf_ext
from .core import CoreOutcome, resolve_relocations
from .declarations import declared_externs, declared_maps
from .dependencies import check_extern, check_map, check_struct_ops, extern_source
from .elf import BpfObject, Symbol, read_object
from .errors import ObjectError
from .kernel import KernelFacts, Verdict, kernel_enum
from .model import (
    ExternCheck,
    HelperUse,
    MapCheck,
    ObjectCheck,
    ProgramCheck,
    Reason,
    Relocation,
    worst,
)
from .programs import INSN, Program, code_owner, find_programs
from .reach import reachable
from .sections import match_section
from .targets import LIBBPF_RULES, Finding, target_findings, type_findings

__all__ = ["check_object"]

OBJECT_SOURCE = "the object's ELF, .BTF and .BTF.ext"
_EXISTENCE = frozenset({"field_exists", "type_exists", "enumval_exists"})
_CALL = 0x85


def check_object(data: bytes, kernel: KernelFacts, *, name: str = "object") -> ObjectCheck:
    """Check the BPF object `data` (called `name` in sentences) against `kernel`.

    Raises ObjectError (BtfExtError for .BTF.ext) for input that is not a readable BPF
    object: too large, not ELF, another machine, no .BTF, malformed BTF or .BTF.ext.
    Everything about the kernel that is missing or wrong is answered, not raised.
    Pure and synchronous; run it in a worker thread for large objects.
    """
    obj = read_object(data, name=name)
    local = _object_btf(obj)
    ext = _object_btf_ext(obj, local)
    try:
        return _Checker(obj, local, ext, kernel).run(len(data))
    except BtfError as err:
        # Records decode lazily: a bad type id or string offset shows only when used.
        raise ObjectError(f"{name}: its BTF is malformed: {err}") from None


def _object_btf(obj: BpfObject) -> Btf:
    section = obj.section(".BTF")
    if section is None:
        raise ObjectError(
            f"{obj.name}: the object has no .BTF section, so its maps, externs and CO-RE "
            "relocations cannot be read; compile with clang -g"
        )
    try:
        return parse_btf(section.data, object_name=f"{obj.name} .BTF")
    except BtfError as err:
        raise ObjectError(f"{obj.name}: its .BTF section is malformed: {err}") from None


def _object_btf_ext(obj: BpfObject, local: Btf) -> BtfExt | None:
    section = obj.section(".BTF.ext")
    if section is None:
        return None
    return parse_btf_ext(section.data, local, byte_order=obj.byte_order, name=obj.name)


class _Checker:
    def __init__(self, obj: BpfObject, local: Btf, ext: BtfExt | None, kernel: KernelFacts):
        self.obj = obj
        self.local = local
        self.ext = ext
        self.kernel = kernel
        self.btf_source = f"kernel BTF ({kernel.btf_source})"
        self.reasons: list[Reason] = []
        self.owners = code_owner(obj)
        self.reached: dict[tuple[str, int], set[int]] = {}
        self.outcomes: list[CoreOutcome] = []
        self.weak_missing: set[str] = set()

    def _object_reason(self, verdict: Verdict, element: str, fact: str, source: str) -> None:
        self.reasons.append(Reason(verdict, element, fact, source))

    def run(self, size: int) -> ObjectCheck:
        obj, kernel = self.obj, self.kernel
        programs = find_programs(obj)
        self.outcomes = self._relocations()
        maps, struct_ops = declared_maps(self.local)
        map_checks = [check_map(kernel, m) for m in maps]
        map_checks += [check_struct_ops(kernel, s) for s in struct_ops]
        externs = [check_extern(kernel, self.local, e) for e in declared_externs(obj, self.local)]
        self.weak_missing = {c.name for c in externs if c.weak and c.verdict != "yes"}
        self._object_reasons(programs, map_checks, externs)
        object_load = worst(*(r.verdict for r in self.reasons))
        checks = tuple(self._program(p, object_load, externs) for p in programs)
        return ObjectCheck(
            name=obj.name,
            size=size,
            license=obj.license,
            byte_order=obj.byte_order,
            btf_types=len(self.local),
            verdict=worst(object_load, *(p.verdict for p in checks if p.autoload)),
            programs=checks,
            maps=tuple(map_checks),
            externs=tuple(externs),
            reasons=tuple(self.reasons),
        )

    def _object_reasons(
        self, programs: list[Program], maps: list[MapCheck], externs: list[ExternCheck]
    ) -> None:
        """Problems that make libbpf refuse the whole object, whichever program is asked."""
        if self.obj.section("maps") is not None:
            self._object_reason(
                "no",
                "section maps",
                'legacy map definitions (struct bpf_map_def in SEC("maps")) are not '
                'supported by libbpf 1.0 and later; define maps in SEC(".maps")',
                OBJECT_SOURCE,
            )
        for extern in externs:
            if extern.verdict == "no" or (extern.verdict == "unknown" and not extern.weak):
                where = f"extern {extern.name} ({extern.kind})"
                source = extern_source(self.kernel, extern.kind)
                self._object_reason(extern.verdict, where, extern.detail, source)
        for check in maps:
            if check.verdict != "yes":
                where = f"map {check.name}"
                self._object_reason(check.verdict, where, check.detail, self.btf_source)
        for outcome in self.outcomes:
            if outcome.status == "failed":
                where = (
                    f"CO-RE relocation #{outcome.index} of section {outcome.section} "
                    f"({outcome.kind.label} {outcome.access})"
                )
                self._object_reason("no", where, outcome.sentence, self.btf_source)
        for prog in programs:
            if prog.static:
                fact = (
                    "it is static; libbpf refuses static functions outside .text as "
                    "programs (make it global)"
                )
                self._object_reason("no", f"program {prog.name}", fact, LIBBPF_RULES)
        if not programs:
            fact = "it has no programs (no global function outside .text)"
            self._object_reason("unknown", "object", fact, OBJECT_SOURCE)

    # -- relocations and reachability -----------------------------------------------------

    def _relocations(self) -> list[CoreOutcome]:
        if self.ext is None:
            return []
        kept = [r for r in self.ext.core_relos if self._owned(r)]
        return resolve_relocations(
            self.local,
            kept,
            self.kernel.btf,
            byte_order=self.obj.byte_order,
            instruction=self._instruction,
        )

    def _owned(self, relo: CoreRelo) -> bool:
        """libbpf skips relocations of code in no function (dropped by the linker) and of
        programs it does not load automatically."""
        insn = relo.insn_off // INSN
        spans = self.owners.get(relo.section, ())
        return any(first <= insn < end and autoload for first, end, autoload in spans)

    def _instruction(self, relo: CoreRelo) -> bytes | None:
        section = self.obj.section(relo.section)
        if section is None or relo.insn_off + INSN > len(section.data):
            return None
        return section.data[relo.insn_off : relo.insn_off + 2 * INSN]

    def _symbol(self, index: int) -> Symbol | None:
        symbols = self.obj.symbols
        return symbols[index] if index < len(symbols) else None

    def _dead(self, section_name: str, insn: int) -> bool:
        """True when no path reaches instruction `insn` of `section_name` once libbpf has
        patched the object for this kernel (an existence check that is false skips it)."""
        section = self.obj.section(section_name)
        spans = self.owners.get(section_name, ())
        span = next(((a, b) for a, b, _ in spans if a <= insn < b), None)
        if section is None or span is None:
            return False
        key = (section_name, span[0])
        seen = self.reached.get(key)
        if seen is None:
            patched = {
                o.insn: o.target_value
                for o in self.outcomes
                if o.section == section_name and o.ok and o.target_value is not None
            }
            relocated = set()
            for rel in self.obj.relocations.get(section.index, ()):
                relocated.add(rel.offset // INSN)
                symbol = self._symbol(rel.symbol_index)
                if symbol is not None and symbol.name in self.weak_missing:
                    patched[rel.offset // INSN] = 0
            seen = reachable(
                section.data,
                span[0],
                span[1],
                byte_order=self.obj.byte_order,
                patched=patched,
                relocated=relocated,
            )
            self.reached[key] = seen
        return insn not in seen

    def _calls_dead(self, prog: Program, name: str, function: bool) -> bool:
        """True when every call of extern function `name` in `prog` is dead code here
        (guarded by `if (name)`, which libbpf makes false); a variable is always used."""
        if not function:
            return False
        sites = []
        for section_name, first, end in prog.spans:
            section = self.obj.section(section_name)
            if section is None:
                continue
            for rel in self.obj.relocations.get(section.index, ()):
                symbol = self._symbol(rel.symbol_index)
                index = rel.offset // INSN
                if symbol is None or symbol.name != name or not first <= index < end:
                    continue
                if section.data[rel.offset] == _CALL:  # not a load of its address
                    sites.append((section_name, index))
        return all(self._dead(s, i) for s, i in sites)

    # -- programs -------------------------------------------------------------------------

    def _program(
        self, prog: Program, object_load: Verdict, externs: list[ExternCheck]
    ) -> ProgramCheck:
        match = match_section(prog.section if prog.autoload else f"?{prog.section}")
        findings: list[Finding] = []
        rule = match.rule
        if rule is None:
            fact = (
                "libbpf knows no program type for this section name, so it cannot load the "
                "program unless the loader sets the type itself"
            )
            findings.append(Finding(f"section {prog.section}", "no", fact, LIBBPF_RULES, True))
        else:
            findings += type_findings(self.kernel, rule.prog_type, rule.attach_type)
            findings += target_findings(self.kernel, match)
        relocations = tuple(_relocation(o) for o in self.outcomes if prog.covers(o.section, o.insn))
        findings += self._poisoned(relocations)
        helpers = self._helpers(prog)
        for helper in helpers:
            if not helper.exists:
                fact = (
                    f"this kernel's enum bpf_func_id has no helper {helper.id}; the verifier "
                    "rejects the call (invalid func)"
                )
                where = f"helper call #{helper.id} at instruction {helper.insn}"
                findings.append(Finding(where, "no", fact, self.btf_source, True))
        kinds = {e.name: e.kind for e in externs}
        for used in dict.fromkeys(prog.extern_calls + prog.loads):
            function = kinds.get(used) == "kfunc"
            if used in self.weak_missing and not self._calls_dead(prog, used, function):
                where = f"extern {used} ({kinds.get(used, 'extern')})"
                fact = "it is weak and missing here: the program must not reach its use"
                findings.append(Finding(where, "unknown", fact, self.btf_source, True))
        load = worst(object_load, *(f.verdict for f in findings if f.loads))
        attach = worst(*(f.verdict for f in findings if not f.loads))
        element = f"program {prog.name}"
        return ProgramCheck(
            name=prog.name,
            section=prog.section,
            prog_type=rule.prog_type if rule is not None else "",
            expected_attach_type=rule.attach_type if rule is not None else "",
            attach_target=match.target,
            sleepable=rule.sleepable if rule is not None else False,
            autoload=prog.autoload,
            load=load,
            attach=attach,
            verdict=worst(load, attach),
            relocations=relocations,
            helpers=helpers,
            kfuncs=tuple(n for n in prog.extern_calls if kinds.get(n) == "kfunc"),
            uses=tuple(n for n in prog.loads if n),
            reasons=tuple(
                Reason(f.verdict, f"{element}: {f.where}", f.fact, f.source) for f in findings
            ),
        )

    def _poisoned(self, relocations: tuple[Relocation, ...]) -> list[Finding]:
        """Poisoned relocations a path can reach: fatal, or unknown when an existence check
        that is false here may guard them on a path our analysis merges."""
        guarded = any(r.kind in _EXISTENCE and r.target_value == 0 for r in relocations)
        found = []
        for r in relocations:
            if r.status != "poisoned" or self._dead(r.section, r.insn):
                continue
            fact = r.sentence
            if guarded:
                fact += (
                    "; the program has an existence check that is false here, which may "
                    "make this instruction dead code"
                )
            where = f"relocation #{r.index} ({r.kind} {r.access})"
            found.append(
                Finding(where, "unknown" if guarded else "no", fact, self.btf_source, True)
            )
        return found

    def _helpers(self, prog: Program) -> tuple[HelperUse, ...]:
        ids = kernel_enum(self.kernel.btf, "bpf_func_id") or {}
        names = {v: k for k, v in ids.items() if not k.startswith("__") and v != 0}
        return tuple(
            HelperUse(
                helper_id,
                names.get(helper_id, "").removeprefix("BPF_FUNC_"),
                insn,
                helper_id in names,
            )
            for helper_id, insn in sorted(prog.helpers.items())
        )


def _relocation(outcome: CoreOutcome) -> Relocation:
    return Relocation(
        index=outcome.index,
        section=outcome.section,
        insn=outcome.insn,
        kind=outcome.kind.label,
        access=outcome.access,
        status=outcome.status,
        local_value=outcome.local_value,
        target_value=outcome.target_value if outcome.ok else None,
        target_type_id=outcome.matched[0] if outcome.matched else None,
        sentence=outcome.sentence,
    )
