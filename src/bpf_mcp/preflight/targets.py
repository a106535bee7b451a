"""Does this kernel have a program's type, expected attach type and attach target?

libbpf resolves the targets of BTF-attached programs (tp_btf, fentry/fexit/fmod_ret, lsm,
iter) before loading and fails when they are missing; the other targets (tracepoints,
kprobes, raw tracepoints) only matter when attaching. Each finding says which.
"""

from __future__ import annotations

from typing import NamedTuple

from ..btf import Btf, Kind
from .kernel import KernelFacts, Verdict, kernel_enum
from .sections import SectionMatch, Target

__all__ = ["LIBBPF_RULES", "Finding", "func_exists", "target_findings", "type_findings"]

LIBBPF_RULES = "libbpf's section rules (section_defs in libbpf.c)"
_SYSCALL_PREFIXES = ("__x64_sys_", "__arm64_sys_", "__s390x_sys_", "__riscv_sys_", "sys_")
_PATTERN = "a pattern of functions: check what it matches with list_functions"


class Finding(NamedTuple):
    """A fact against a program: where in it, the verdict, the fact, its source, and
    whether it decides loading (True) or only attaching (False)."""

    where: str
    verdict: Verdict
    fact: str
    source: str
    loads: bool


def func_exists(btf: Btf, name: str) -> int | None:
    """The id of a FUNC named `name` in `btf`, or None."""
    return next((t for t in btf.find(name) if btf.kind(t) is Kind.FUNC), None)


def _typedef_exists(btf: Btf, name: str) -> bool:
    return any(btf.kind(t) is Kind.TYPEDEF for t in btf.find(name))


def _built_prog_types(btf: Btf) -> frozenset[str] | None:
    """Program types compiled in: members `<CONSTANT>_prog` of struct bpf_ctx_convert."""

    def build() -> frozenset[str] | None:
        for tid in btf.find("bpf_ctx_convert"):
            if btf.kind(tid) is Kind.STRUCT:
                names = (m.name for m in btf.members(tid))
                return frozenset(n.removesuffix("_prog") for n in names if n.endswith("_prog"))
        return None

    return btf.derived("preflight.built_prog_types", build)


def type_findings(kernel: KernelFacts, prog_type: str, attach_type: str) -> list[Finding]:
    """Whether the kernel has `prog_type` (in its enum and compiled in) and `attach_type`."""
    btf = kernel.btf
    source = f"kernel BTF ({kernel.btf_source})"
    found: list[Finding] = []
    where = f"program type {prog_type}"
    prog_types = kernel_enum(btf, "bpf_prog_type")
    built = _built_prog_types(btf)
    if prog_types is None:
        found.append(
            Finding(where, "unknown", "the kernel's BTF has no enum bpf_prog_type", source, True)
        )
    elif prog_type not in prog_types:
        found.append(
            Finding(
                where,
                "no",
                "this kernel's enum bpf_prog_type has no such type (the kernel is older)",
                source,
                True,
            )
        )
    elif built is not None and prog_type not in built:
        found.append(
            Finding(
                where,
                "no",
                "this kernel was built without it (struct bpf_ctx_convert has no member for it)",
                source,
                True,
            )
        )
    attach_types = kernel_enum(btf, "bpf_attach_type")
    if attach_type and attach_types is not None and attach_type not in attach_types:
        found.append(
            Finding(
                f"expected attach type {attach_type}",
                "no",
                "this kernel's enum bpf_attach_type has no such attach type (the kernel is older)",
                source,
                True,
            )
        )
    return found


def target_findings(kernel: KernelFacts, match: SectionMatch) -> list[Finding]:
    """What is wrong with, or unknown about, the attach target of a matched section."""
    rule = match.rule
    if rule is None or rule.target is Target.NONE:
        return []
    return _Targets(kernel, match).findings()


class _Targets:
    def __init__(self, kernel: KernelFacts, match: SectionMatch) -> None:
        assert match.rule is not None
        self.kernel = kernel
        self.btf = kernel.btf
        self.rule = match.rule
        self.target = match.target
        self.where = f"target {match.target}" if match.target else "target"
        self.source = f"kernel BTF ({kernel.btf_source})"
        self.found: list[Finding] = []

    def add(self, verdict: Verdict, fact: str, source: str, *, loads: bool) -> None:
        self.found.append(Finding(self.where, verdict, fact, source, loads))

    def missing(self, what: str) -> None:
        """A BTF name libbpf looks up before loading is absent."""
        self.add(
            "no",
            f"the kernel's BTF has no {what}, so libbpf fails to load the program",
            self.source,
            loads=True,
        )

    def findings(self) -> list[Finding]:
        kind, target, btf = self.rule.target, self.target, self.btf
        if not target and kind is not Target.STRUCT_OPS:
            if self.rule.attach_btf:
                fact = (
                    "the section names no target, so the loader must set one before "
                    "loading (bpf_program__set_attach_target)"
                )
            else:
                fact = "the section names no target; the loader must give one when attaching"
            self.add("unknown", fact, LIBBPF_RULES, loads=self.rule.attach_btf)
        elif kind in (Target.UPROBE, Target.USDT):
            self.add(
                "unknown",
                "a user-space target: binaries are not checked",
                LIBBPF_RULES,
                loads=False,
            )
        elif kind is Target.TRACEPOINT:
            self.tracepoint()
        elif kind is Target.RAW_TRACEPOINT:
            self.raw_tracepoint()
        elif kind is Target.TP_BTF:
            if not _typedef_exists(btf, f"btf_trace_{target}"):
                self.missing(f"typedef btf_trace_{target} (no such raw tracepoint)")
        elif kind is Target.FUNCTION:
            self.function()
        elif kind in (Target.KPROBE, Target.KSYSCALL):
            self.kprobe()
        elif kind is Target.KPROBE_MULTI:
            if not self.kprobe_support():
                self.add("unknown", _PATTERN, LIBBPF_RULES, loads=False)
        elif kind is Target.FUNCTION_MULTI:
            self.add("unknown", _PATTERN, LIBBPF_RULES, loads=False)
        elif kind is Target.FREPLACE:
            self.add(
                "unknown",
                "the target is a function of another loaded BPF program",
                LIBBPF_RULES,
                loads=True,
            )
        elif kind is Target.LSM:
            if func_exists(btf, f"bpf_lsm_{target}") is None:
                self.missing(f"function bpf_lsm_{target} (no such LSM hook)")
            elif self.kernel.lsm is not None and self.kernel.lsm[0] != "yes":
                self.add(
                    self.kernel.lsm[0], self.kernel.lsm[1], "/sys/kernel/security/lsm", loads=False
                )
        elif kind is Target.ITER and func_exists(btf, f"bpf_iter_{target}") is None:
            self.missing(f"function bpf_iter_{target} (no such iterator)")
        return self.found

    def tracepoint(self) -> None:
        known, source = self.kernel.tracepoints, self.kernel.tracepoints_source
        if "/" not in self.target:
            self.add("no", "libbpf needs the form category/name", LIBBPF_RULES, loads=False)
        elif known is None:
            self.add(
                "unknown", "the kernel's tracepoints were not read (tracefs)", source, loads=False
            )
        elif self.target not in known:
            self.add(
                "no", f"there is no tracepoint {self.target} in this kernel", source, loads=False
            )

    def raw_tracepoint(self) -> None:
        if _typedef_exists(self.btf, f"btf_trace_{self.target}"):
            return
        known = self.kernel.tracepoints
        if known is not None and any(t.endswith(f"/{self.target}") for t in known):
            return
        self.add(
            "no" if known is not None else "unknown",
            f"no raw tracepoint {self.target}: the kernel's BTF has no typedef "
            f"btf_trace_{self.target} and tracefs no such event",
            self.source,
            loads=False,
        )

    def function(self) -> None:
        module, _, function = self.target.rpartition(":")
        if module and module != "vmlinux":
            self.add("unknown", f"module {module}'s BTF is not checked", self.source, loads=True)
            return
        if func_exists(self.btf, function) is None:
            self.missing(f"function {function}")
            return
        if self.rule.attach_type == "BPF_MODIFY_RETURN" and not function.startswith("security_"):
            self.add(
                "unknown",
                "fmod_ret needs a function on the kernel's error-injection "
                "list, which is not read here",
                self.source,
                loads=True,
            )
        self.verdict(function, "trampoline")

    def kprobe_support(self) -> bool:
        """Adds a finding and returns True when kprobes do not work here at all."""
        kprobes = self.kernel.kprobes
        if kprobes is not None and kprobes[0] != "yes":
            self.add(kprobes[0], kprobes[1], "kernel config and /sys", loads=False)
            return True
        return False

    def kprobe(self) -> None:
        function = self.target.split("+", 1)[0]
        if self.rule.target is Target.KSYSCALL:
            names = [prefix + self.target for prefix in _SYSCALL_PREFIXES]
            function = next((n for n in names if func_exists(self.btf, n)), "")
            if not function:
                self.add(
                    "no",
                    f"the kernel's BTF has no system call function for "
                    f"{self.target} ({', '.join(names[:2])}...)",
                    self.source,
                    loads=False,
                )
                return
        if not self.kprobe_support():
            self.verdict(function, "kprobe")

    def verdict(self, function: str, mechanism: str) -> None:
        verdicts = self.kernel.functions
        if verdicts is None:
            if mechanism == "kprobe":
                self.add(
                    "unknown", "function verdicts were not available", self.source, loads=False
                )
            return
        check = verdicts(function, "kprobe" if mechanism == "kprobe" else "trampoline")
        if check.verdict != "yes":
            self.add(check.verdict, check.reason, check.source, loads=False)
