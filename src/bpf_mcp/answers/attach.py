"""Attach verdicts: can a kprobe, kretprobe, fentry or fexit program attach to a kernel
function here? Pure logic over the indexes; every verdict carries the facts it rests on.

A verdict is "no" when any fact rules the mechanism out, else "unknown" when a fact it
needs could not be read (the verdict then says what would settle it), else "yes".
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import attrs

from ..index.derived import TextAreas
from ..index.indexes import KallsymsIndex
from ..kallsyms import SymbolTable, base_name
from ..results import AttachVerdict, Mechanism
from ..system import SystemFacts

MECHANISMS: tuple[Mechanism, ...] = ("kprobe", "kretprobe", "fentry", "fexit")

Level = Literal["no", "unknown", "yes", "note"]


@attrs.frozen
class Finding:
    """One fact bearing on a verdict: it rules the mechanism out ("no"), leaves it open
    ("unknown", with what would settle it), supports it ("yes"), or is a caveat ("note")."""

    level: Level
    text: str
    settle: str = ""


def decide(mechanism: Mechanism, findings: Iterable[Finding]) -> AttachVerdict:
    """The verdict the findings add up to, with the reasons that decide it first."""
    found = list(findings)
    notes = [f.text for f in found if f.level == "note"]
    nos = [f.text for f in found if f.level == "no"]
    if nos:
        return AttachVerdict(mechanism, "no", tuple(_unique(nos + notes)), None)
    unknowns = [f for f in found if f.level == "unknown"]
    if unknowns:
        settle = "; ".join(_unique(f.settle for f in unknowns if f.settle)) or None
        return AttachVerdict(
            mechanism, "unknown", tuple(_unique([f.text for f in unknowns] + notes)), settle
        )
    yeses = [f.text for f in found if f.level == "yes"]
    return AttachVerdict(mechanism, "yes", tuple(_unique(yeses + notes)), None)


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


# -- what the kernel as a whole allows ------------------------------------------------------

NO_SYSTEM = Finding(
    "unknown",
    "the system facts (kernel config, perf event sources) are not loaded",
    "see get_server_status for why the system source failed",
)


def kprobe_support(facts: SystemFacts | None) -> list[Finding]:
    """Whether this kernel can run kprobe programs at all, from its config, its perf event
    sources (the kprobe PMU) and tracefs (kprobe_events)."""
    if facts is None:
        return [NO_SYSTEM]
    evidence = []
    if facts.pmus is not None and "kprobe" not in facts.pmus:
        evidence.append("/sys/bus/event_source/devices has no kprobe PMU")
    if facts.kprobe_events is False:
        evidence.append("tracefs has no kprobe_events")
    also = f" ({'; '.join(evidence)})" if evidence else ""
    kprobes = facts.flag("CONFIG_KPROBES")
    if kprobes == "n":
        return [
            Finding(
                "no",
                "kernel built without kprobes: CONFIG_KPROBES is not set in"
                f" {facts.config_path}{also}",
            )
        ]
    if kprobes is None:
        if len(evidence) == 2:
            return [Finding("no", f"kernel built without kprobes: {'; '.join(evidence)}")]
        if facts.pmus is not None and "kprobe" in facts.pmus:
            return [Finding("yes", "the kernel has kprobes (kprobe PMU present)")]
        return [
            Finding(
                "unknown",
                "no kernel config was readable and the kprobe PMU cannot be checked",
                "make /proc/config.gz or /boot/config-<release> readable, or mount sysfs",
            )
        ]
    findings = [Finding("yes", f"the kernel has kprobes (CONFIG_KPROBES={kprobes})")]
    if facts.flag("CONFIG_KPROBE_EVENTS") == "n":
        findings.append(
            Finding(
                "no",
                "the kernel has kprobes but no kprobe events (CONFIG_KPROBE_EVENTS is not set),"
                " which BPF kprobe programs attach through",
            )
        )
    if facts.lockdown == "confidentiality":
        findings.append(
            Finding("no", "kernel lockdown is in confidentiality mode, which forbids kprobes")
        )
    return findings


def trampoline_support(facts: SystemFacts | None) -> list[Finding]:
    """Whether this kernel can build fentry/fexit trampolines: a BPF JIT, and functions
    with an ftrace entry site."""
    if facts is None:
        return [NO_SYSTEM]
    findings = []
    jit = facts.flag("CONFIG_BPF_JIT")
    jit_enable = facts.sysctls.get("net.core.bpf_jit_enable")
    if jit == "n":
        findings.append(
            Finding(
                "no",
                f"kernel built without the BPF JIT (CONFIG_BPF_JIT is not set in"
                f" {facts.config_path}): fentry/fexit trampolines need it",
            )
        )
    elif jit_enable == "0":
        findings.append(
            Finding(
                "no",
                "the BPF JIT is off (net.core.bpf_jit_enable=0): fentry/fexit need JIT-compiled"
                " programs",
            )
        )
    elif jit is not None or jit_enable is not None:
        shown = (
            f"CONFIG_BPF_JIT={jit}" if jit is not None else f"net.core.bpf_jit_enable={jit_enable}"
        )
        findings.append(Finding("yes", f"the kernel has a BPF JIT ({shown})"))
    else:
        findings.append(
            Finding(
                "unknown",
                "whether the kernel has a BPF JIT is unknown: no config and no"
                " net.core.bpf_jit_enable were readable",
                "make /proc/config.gz or /proc/sys/net/core/bpf_jit_enable readable",
            )
        )
    tracer = facts.flag("CONFIG_FUNCTION_TRACER")
    if tracer == "n":
        findings.append(
            Finding(
                "no",
                "kernel built without function tracing (CONFIG_FUNCTION_TRACER is not set):"
                " functions have no entry site for a trampoline",
            )
        )
    elif tracer is not None or facts.ftrace_records:
        evidence = [f"CONFIG_FUNCTION_TRACER={tracer}"] if tracer is not None else []
        if facts.ftrace_records:
            evidence.append(f"{facts.ftrace_records} ftrace records")
        findings.append(
            Finding("yes", f"functions have ftrace entry sites ({', '.join(evidence)})")
        )
    else:
        findings.append(
            Finding(
                "unknown",
                "whether functions have ftrace entry sites is unknown: neither the config nor"
                " tracefs dyn_ftrace_total_info was readable",
                "make /proc/config.gz readable, or mount tracefs and run as root",
            )
        )
    return findings


# -- one function -------------------------------------------------------------------------

_AREA_MEANING = {
    "init": "__init code, freed after boot: nothing is left there to attach to",
    "entry": "low-level entry code (between __entry_text_start and __entry_text_end), which"
    " cannot be traced",
    "noinstr": "noinstr code (between __noinstr_text_start and __noinstr_text_end), which the"
    " kernel keeps free of instrumentation",
    "kprobes": "in the __kprobes text area, which kprobes refuse",
}


def _name_key(index: KallsymsIndex) -> Callable[[int], str]:
    names = index.table.names
    return names.__getitem__


def clone_rows(index: KallsymsIndex, name: str) -> list[int]:
    """Rows of the compiler clones of `name` (`name.isra.0`, `name.cold`...)."""
    functions = index.functions
    key = _name_key(index)
    start = bisect.bisect_left(functions, name + ".", key=key)
    stop = bisect.bisect_left(functions, name + "/", lo=start, key=key)  # '/' follows '.'
    names = index.table.names
    return [row for row in functions[start:stop] if base_name(names[row]) == name]


@attrs.frozen
class FunctionFacts:
    """What the sources say about one function name.

    `btf_ids` is None when BTF is not loaded; `areas` None when kallsyms is not.
    """

    name: str
    exact: tuple[int, ...]
    clones: tuple[int, ...]
    btf_ids: tuple[int, ...] | None
    table: SymbolTable | None
    areas: TextAreas | None


def function_findings(
    mechanism: Mechanism, fn: FunctionFacts, facts: SystemFacts | None
) -> list[Finding]:
    """The facts about `fn` itself that bear on `mechanism` (not the kernel-wide ones)."""
    findings = _symbol_findings(mechanism, fn)
    if mechanism in ("fentry", "fexit"):
        findings += _btf_findings(fn)
        findings += _ftrace_findings(fn, facts)
    else:
        findings += _blacklist_findings(fn, facts)
    return findings


def _symbol_findings(mechanism: Mechanism, fn: FunctionFacts) -> list[Finding]:
    table, areas = fn.table, fn.areas
    if table is None or areas is None:
        return [
            Finding(
                "unknown",
                "/proc/kallsyms is not loaded, so where the function lives is unknown",
                "see get_server_status for why the kallsyms source failed",
            )
        ]
    clone_names = sorted({table.names[row] for row in fn.clones})
    shown = ", ".join(clone_names[:4]) + (", ..." if len(clone_names) > 4 else "")
    if not fn.exact:
        if clone_names:
            how = (
                "attach a kprobe to a clone by its full name instead"
                if mechanism in ("kprobe", "kretprobe")
                else "fentry/fexit resolve the BTF name through kallsyms and find nothing"
            )
            return [
                Finding(
                    "no",
                    f"only compiler clones exist in /proc/kallsyms ({shown}), no symbol named"
                    f" exactly {fn.name}: {how}",
                )
            ]
        return [
            Finding(
                "no",
                f"{fn.name} is not in /proc/kallsyms: the compiler inlined it everywhere, or"
                " it was discarded at link time (__exit code)",
            )
        ]
    findings = [Finding("yes", f"/proc/kallsyms has the text symbol {fn.name}")]
    if areas.hidden:
        findings.append(
            Finding(
                "unknown",
                "/proc/kallsyms hides addresses from this reader, so whether the function is"
                " __init, noinstr or entry code cannot be checked",
                "run bpf-mcp as root (with kernel.kptr_restrict below 2) so kallsyms shows"
                " addresses",
            )
        )
    else:
        for area in sorted({areas.area(table, row) or "text" for row in fn.exact}):
            if area != "text" and (area != "kprobes" or mechanism in ("kprobe", "kretprobe")):
                findings.append(Finding("no", f"{fn.name} is {_AREA_MEANING[area]}"))
    if len(fn.exact) > 1:
        findings.append(
            Finding(
                "note",
                f"{len(fn.exact)} kallsyms symbols share the name {fn.name} (static functions"
                " of different files): attaching by name picks one of them, and recent"
                " kernels refuse an ambiguous kprobe name (attach by address instead)",
            )
        )
    if clone_names:
        findings.append(
            Finding(
                "note",
                f"compiler clones also exist ({shown}): calls the compiler routed to a clone"
                f" do not pass through {fn.name} itself",
            )
        )
    return findings


def _btf_findings(fn: FunctionFacts) -> list[Finding]:
    if fn.btf_ids is None:
        return [
            Finding(
                "unknown",
                "the kernel's BTF is not loaded, so the function's prototype is unknown",
                "see get_server_status for why the BTF source failed",
            )
        ]
    if not fn.btf_ids:
        return [
            Finding(
                "no",
                f"no BTF prototype: /sys/kernel/btf/vmlinux has no FUNC named {fn.name}, and"
                " fentry/fexit need one",
            )
        ]
    findings = [Finding("yes", f"/sys/kernel/btf/vmlinux has a FUNC prototype for {fn.name}")]
    if len(fn.btf_ids) > 1:
        findings.append(
            Finding(
                "note",
                f"BTF has {len(fn.btf_ids)} FUNCs named {fn.name}: loaders take the first",
            )
        )
    return findings


def _ftrace_findings(fn: FunctionFacts, facts: SystemFacts | None) -> list[Finding]:
    if facts is None:
        return [NO_SYSTEM]
    functions = facts.filter_functions
    fact = facts.file("ftrace functions")
    if functions is None:
        path = fact.path if fact is not None else "available_filter_functions"
        why = fact.detail if fact is not None else "it was not read"
        settle = (
            f"read {path} (as root, with tracefs mounted and no policy denying it)"
            if fact is None or fact.state != "not-mounted"
            else f"{fact.fix}, then read {path}"
        )
        return [
            Finding(
                "unknown",
                f"whether {fn.name} has an ftrace entry site (is not notrace) cannot be"
                f" checked: {path}: {why}",
                settle,
            )
        ]
    if fn.name in functions:
        return [Finding("yes", f"{fn.name} is listed in available_filter_functions")]
    return [
        Finding(
            "no",
            f"{fn.name} is not in available_filter_functions: it has no ftrace entry site"
            " (notrace, or code ftrace cannot patch)",
        )
    ]


def _blacklist_findings(fn: FunctionFacts, facts: SystemFacts | None) -> list[Finding]:
    if facts is None:
        return [NO_SYSTEM]
    blacklist = facts.kprobe_blacklist
    if blacklist is None:
        fact = facts.file("kprobe blacklist")
        why = f"{fact.path}: {fact.detail}" if fact is not None else "it was not read"
        return [
            Finding(
                "unknown",
                f"the kprobe blacklist cannot be checked ({why})",
                fact.fix if fact is not None and fact.fix else "mount debugfs and run as root",
            )
        ]
    if fn.name in blacklist:
        return [Finding("no", f"{fn.name} is listed in the kprobe blacklist")]
    return [Finding("yes", f"{fn.name} is not in the kprobe blacklist")]


def kernel_findings(facts: SystemFacts | None) -> dict[str, list[Finding]]:
    """The kernel-wide findings of each mechanism family ("kprobe", "fentry")."""
    return {"kprobe": kprobe_support(facts), "fentry": trampoline_support(facts)}


def verdicts(
    fn: FunctionFacts,
    facts: SystemFacts | None,
    mechanisms: Sequence[Mechanism] = MECHANISMS,
    kernel: dict[str, list[Finding]] | None = None,
) -> tuple[AttachVerdict, ...]:
    """The verdict of each mechanism for `fn`; pass `kernel` (from kernel_findings) when
    judging many functions against the same facts."""
    kernel = kernel if kernel is not None else kernel_findings(facts)
    out = []
    for mechanism in mechanisms:
        family = "kprobe" if mechanism in ("kprobe", "kretprobe") else "fentry"
        out.append(decide(mechanism, kernel[family] + function_findings(mechanism, fn, facts)))
    return tuple(out)


class Triage:
    """The verdict level of one mechanism for many kallsyms rows, for filtering lists.

    A level depends only on a few facts per name (its text areas, whether BTF has it,
    whether the ftrace list and the kprobe blacklist have it), never on the name's text,
    so each combination is judged once, by the same findings as a full verdict.
    """

    def __init__(
        self,
        mechanism: Mechanism,
        index: KallsymsIndex,
        btf_names: frozenset[str] | None,
        facts: SystemFacts | None,
    ) -> None:
        self.mechanism = mechanism
        self.index = index
        self.btf_names = btf_names
        self.facts = facts
        self.areas = index.areas
        self.kernel = kernel_findings(facts)
        self.repeated = index.repeated
        self._levels: dict[tuple[object, ...], str] = {}

    def level(self, row: int) -> str:
        """ "yes", "no" or "unknown" for the function named as kallsyms row `row`."""
        table = self.index.table
        name = table.names[row]
        rows = self.index.rows_named(name) if name in self.repeated else [row]
        facts = self.facts
        key = (
            None if self.areas.hidden else frozenset(self.areas.area(table, r) for r in rows),
            None if self.btf_names is None else name in self.btf_names,
            None
            if facts is None or facts.filter_functions is None
            else name in facts.filter_functions,
            None
            if facts is None or facts.kprobe_blacklist is None
            else name in facts.kprobe_blacklist,
        )
        level = self._levels.get(key)
        if level is None:
            fn = FunctionFacts(
                name,
                tuple(rows),
                (),
                None if self.btf_names is None else ((1,) if key[1] else ()),
                table,
                self.areas,
            )
            family = "kprobe" if self.mechanism in ("kprobe", "kretprobe") else "fentry"
            findings = self.kernel[family] + function_findings(self.mechanism, fn, facts)
            level = decide(self.mechanism, findings).verdict
            self._levels[key] = level
        return level
