"""get_kernel_info: what the kernel was built with and allows, and what bpf-mcp can read."""

from __future__ import annotations

import time

from ..errors import SourceUnavailable
from ..index import View
from ..index.indexes import BtfIndex
from ..queries import GetKernelInfo
from ..reference import ReferenceData
from ..results import (
    ConfigFlag,
    FileStatus,
    KernelFeature,
    KernelInfo,
    MountInfo,
    SourceStatusInfo,
)
from ..sources import Source
from ..system import SystemFacts, capability_names
from .attach import Finding, kprobe_support, trampoline_support
from .catalog import lsm_availability
from .listing import status_info

CAPABILITY_NOTES = (
    ("CAP_BPF", "load BPF programs and create maps (with CAP_PERFMON for tracing programs)"),
    ("CAP_PERFMON", "attach tracing programs and read kernel memory from BPF"),
    ("CAP_SYS_ADMIN", "everything BPF offers, on kernels older than 5.8 the only way"),
    ("CAP_NET_ADMIN", "attach networking programs (XDP, tc, cgroup sockets)"),
    ("CAP_SYSLOG", "see kernel addresses in /proc/kallsyms (with kptr_restrict at 1)"),
    ("CAP_DAC_OVERRIDE", "read tracefs and debugfs, which are mode 0700"),
)

_SYSCTL_MEANINGS = {
    "kernel.unprivileged_bpf_disabled": {
        "0": "unprivileged users may call bpf()",
        "1": "unprivileged bpf() is off until reboot",
        "2": "unprivileged bpf() is off (root may turn it back on)",
    },
    "net.core.bpf_jit_enable": {
        "0": "the JIT is off: programs run in the interpreter, and fentry/fexit cannot work",
        "1": "the JIT compiles every program",
        "2": "the JIT is on and dumps compiled code to the kernel log (debugging)",
    },
    "net.core.bpf_jit_harden": {
        "0": "JIT hardening is off",
        "1": "JIT hardening (constant blinding) for unprivileged programs",
        "2": "JIT hardening for every program",
    },
    "net.core.bpf_jit_kallsyms": {
        "0": "JIT-compiled programs are not in /proc/kallsyms",
        "1": "JIT-compiled programs appear in /proc/kallsyms (stack traces name them)",
    },
    "kernel.kptr_restrict": {
        "0": "kernel addresses are shown to readers with CAP_SYSLOG",
        "1": "kernel addresses are shown only to readers with CAP_SYSLOG",
        "2": "kernel addresses are hidden from everyone",
    },
}


def _sysctl_notes(facts: SystemFacts) -> list[str]:
    notes = []
    for name, meanings in _SYSCTL_MEANINGS.items():
        value = facts.sysctls.get(name)
        if value is not None and value in meanings:
            notes.append(f"{name}={value}: {meanings[value]}.")
    paranoid = facts.sysctls.get("kernel.perf_event_paranoid")
    if paranoid is not None:
        notes.append(
            f"kernel.perf_event_paranoid={paranoid}: without CAP_PERFMON, perf events (and"
            " with them kprobe, uprobe and tracepoint programs) are"
            + (" allowed" if paranoid.lstrip("-").isdigit() and int(paranoid) < 2 else " limited")
            + " for unprivileged users."
        )
    return notes


def _capabilities(facts: SystemFacts) -> tuple[tuple[str, ...] | None, list[str]]:
    if facts.cap_effective is None:
        return None, ["The server's capabilities could not be read (see files)."]
    names = capability_names(facts.cap_effective)
    missing = [
        f"{cap} missing: needed to {why}." for cap, why in CAPABILITY_NOTES if cap not in names
    ]
    return names, missing or ["The server has every capability BPF work needs."]


def _feature(name: str, findings: list[Finding]) -> KernelFeature:
    nos = [f.text for f in findings if f.level == "no"]
    if nos:
        return KernelFeature(name, "no", tuple(nos), None)
    unknowns = [f for f in findings if f.level == "unknown"]
    if unknowns:
        settle = "; ".join(dict.fromkeys(f.settle for f in unknowns if f.settle)) or None
        return KernelFeature(name, "unknown", tuple(f.text for f in unknowns), settle)
    return KernelFeature(name, "yes", tuple(f.text for f in findings if f.level == "yes"), None)


def _features(facts: SystemFacts) -> tuple[KernelFeature, ...]:
    lsm_verdict, lsm = lsm_availability(facts)
    return (
        _feature("kprobes", kprobe_support(facts)),
        _feature("fentry/fexit trampolines", trampoline_support(facts)),
        KernelFeature(
            "BPF LSM",
            lsm_verdict,
            (lsm,),
            "mount securityfs to read the active LSMs" if lsm_verdict == "unknown" else None,
        ),
    )


def _mounts(facts: SystemFacts) -> tuple[MountInfo, ...]:
    def state(role: str) -> tuple[bool | None, str | None]:
        """Whether the file system holding the file read for `role` could be read: a file
        missing from a mounted file system still means the file system was readable."""
        fact = facts.file(role)
        if fact is None:
            return None, None
        readable = fact.state in ("ok", "missing")
        return readable, None if readable else (fact.fix or None)

    return (
        MountInfo("tracefs", facts.mount_points("tracefs"), *state("ftrace records")),
        MountInfo("debugfs", facts.mount_points("debugfs"), *state("kprobe blacklist")),
        MountInfo("securityfs", facts.mount_points("securityfs"), *state("lockdown")),
    )


def get_kernel_info(query: GetKernelInfo, view: View) -> KernelInfo:

    facts: SystemFacts | None = view.indexes.system
    if facts is None:
        raise SourceUnavailable("The system facts are not loaded; see get_server_status.")
    reference: ReferenceData | None = view.indexes.reference
    flags = reference.config_flags if reference is not None else ()
    btf_index: BtfIndex | None = view.indexes.btf
    capabilities, capability_notes = _capabilities(facts)
    now = time.time()
    sources: tuple[SourceStatusInfo, ...] = tuple(
        status_info(view.statuses[s], now) for s in Source if s in view.statuses
    )
    files = tuple(
        FileStatus(f.role, f.path, f.readable, f.state, f.detail, f.fix) for f in facts.files
    )
    config = tuple(ConfigFlag(note.name, facts.flag(note.name), note.text) for note in flags)
    left_out = []
    if not query.wants("config"):
        left_out.append(f"config ({len(config)} BPF config flags with their meaning)")
    if not query.wants("files"):
        unreadable = sum(1 for f in files if not f.readable)
        left_out.append(f"files ({len(files)} files consulted, {unreadable} unreadable)")
    if not query.wants("sources"):
        left_out.append(f"sources (the status of {len(sources)} loaders)")
    note = None
    if left_out:
        note = (
            "Left out: " + "; ".join(left_out) + ". Pass sections=['config', 'files',"
            " 'sources'] (or ['all']) for them."
        )
    consulted = [f.path for f in facts.files if f.readable]
    return KernelInfo(
        release=facts.release,
        version=facts.version,
        arch=facts.arch() or facts.machine,
        btf_present=facts.btf_bytes is not None,
        btf_bytes=facts.btf_bytes,
        btf_types=len(btf_index.btf) if btf_index is not None else None,
        mounts=_mounts(facts),
        config_source=facts.config_path,
        config=config if query.wants("config") else None,
        sysctls=dict(facts.sysctls),
        sysctl_notes=tuple(_sysctl_notes(facts)),
        lockdown=facts.lockdown,
        active_lsms=facts.lsms,
        perf_event_sources=facts.pmus,
        ftrace_records=facts.ftrace_records,
        capabilities=capabilities,
        capability_notes=tuple(capability_notes),
        features=_features(facts),
        files=files if query.wants("files") else None,
        sources=sources if query.wants("sources") else None,
        source="system " + ", ".join(consulted),
        note=note,
    )
