"""The facts about a target kernel that a preflight check reads, as one frozen value.

Only `btf` is required; every other fact may be None, meaning "not known here", and the
check then answers `unknown` where it would have needed it. The answers layer fills them
from the server's indexes (tracefs, kallsyms, function verdicts, config, LSM list).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

import attrs

from ..btf import Btf, Kind

__all__ = ["FunctionCheck", "KernelFacts", "Verdict", "kernel_enum"]

Verdict = Literal["yes", "no", "unknown"]


@attrs.frozen
class FunctionCheck:
    """Whether a kernel function can be attached to by one mechanism, and why: `source`
    names the kernel files the answer rests on."""

    verdict: Verdict
    reason: str
    source: str


FunctionVerdicts = Callable[[str, Literal["kprobe", "trampoline"]], FunctionCheck]


@attrs.frozen
class KernelFacts:
    """What is known of the kernel an object is checked against.

    - `btf`: the kernel's BTF (vmlinux), and `btf_source`, where it was read;
    - `config`: CONFIG_* -> value ("y", "m", a number or string), and where from;
    - `release`: the kernel release (uname -r), for LINUX_KERNEL_VERSION;
    - `tracepoints`: "category/name" of every tracefs event;
    - `functions`: a function's attachability by kprobe or trampoline (fentry/fexit);
    - `kprobes`: whether kprobes work at all here, with the reason;
    - `lsm`: whether BPF LSM programs run here (bpf in the active LSM list), with why;
    - `symbols`: whether a name is in /proc/kallsyms (untyped __ksym externs).
    """

    btf: Btf
    btf_source: str = "/sys/kernel/btf/vmlinux"
    config: Mapping[str, str] | None = attrs.field(default=None, eq=False)
    config_source: str = "/proc/config.gz"
    release: str | None = None
    tracepoints: frozenset[str] | None = attrs.field(default=None, eq=False)
    tracepoints_source: str = "tracefs available_events"
    functions: FunctionVerdicts | None = attrs.field(default=None, eq=False)
    kprobes: tuple[Verdict, str] | None = None
    lsm: tuple[Verdict, str] | None = None
    symbols: Callable[[str], bool] | None = attrs.field(default=None, eq=False)


def kernel_enum(btf: Btf, name: str) -> dict[str, int] | None:
    """The enumerators of `enum name` in `btf` (constant -> value), or None if absent.

    Kept with the Btf after the first use, so repeated checks do not decode it again.
    """

    def build() -> dict[str, int] | None:
        for tid in btf.find(name):
            if btf.kind(tid) in (Kind.ENUM, Kind.ENUM64):
                return {v.name: v.value for v in btf.enum_values(tid)}
        return None

    return btf.derived(f"preflight.enum.{name}", build)
