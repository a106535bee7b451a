"""What a snapshot holds and where: the kernel files, at their paths relative to `/`.

An archive's members are `manifest.json` and then these files under the same relative
paths as on the captured host (tracefs always at `sys/kernel/tracing/`), so an extracted
snapshot is a sysroot the readers read as they read `/`. Pure: no I/O.
"""

from __future__ import annotations

import re

from ..errors import SnapshotUnsafe

MANIFEST_NAME = "manifest.json"

TRACEFS = "sys/kernel/tracing"
"""Where a snapshot stores tracefs, wherever it was read from."""
TRACEFS_SOURCES = ("sys/kernel/tracing", "sys/kernel/debug/tracing")
TRACEFS_FILES = (
    "available_events",
    "available_filter_functions",
    "dyn_ftrace_total_info",
    "kprobe_events",
)
KALLSYMS = "proc/kallsyms"
CONFIG_GZ = "proc/config.gz"
OSRELEASE = "proc/sys/kernel/osrelease"
BOOT_ID = "proc/sys/kernel/random/boot_id"
BTF_DIR = "sys/kernel/btf"
EVENT_SOURCES = "sys/bus/event_source/devices"

PLAIN_FILES = (
    OSRELEASE,
    "proc/version",
    BOOT_ID,
    CONFIG_GZ,
    "proc/sys/kernel/unprivileged_bpf_disabled",
    "proc/sys/kernel/kptr_restrict",
    "proc/sys/kernel/perf_event_paranoid",
    "proc/sys/net/core/bpf_jit_enable",
    "proc/sys/net/core/bpf_jit_harden",
    "proc/sys/net/core/bpf_jit_kallsyms",
    "proc/sys/net/core/bpf_jit_limit",
    "sys/kernel/security/lsm",
    "sys/kernel/security/lockdown",
    "sys/kernel/debug/kprobes/blacklist",
)
"""Single files captured as they are, when they can be read."""

MAX_PATH = 255
"""Longest member path: what a ustar header holds (a 155-byte prefix and a 100-byte name)."""

_PART = r"[A-Za-z0-9_+,:@-][A-Za-z0-9_.+,:@-]*"
_ALLOWED = re.compile(
    "|".join(
        [
            "|".join(re.escape(p) for p in (*PLAIN_FILES, KALLSYMS)),
            rf"boot/config-{_PART}",
            rf"{BTF_DIR}/{_PART}",
            rf"{TRACEFS}/(?:{'|'.join(TRACEFS_FILES)})",
            rf"{TRACEFS}/events/{_PART}/{_PART}/format",
            rf"{EVENT_SOURCES}/{_PART}/(?:type|format/{_PART})",
        ]
    )
)
"""Every path a snapshot may hold. Parts never start with '.', so '.' and '..' cannot
occur, nor can an empty part, an absolute path, a backslash or a control character."""


def check_path(path: str) -> str:
    """`path` if a snapshot may hold it; raises SnapshotUnsafe naming it otherwise."""
    if len(path) > MAX_PATH or not _ALLOWED.fullmatch(path):
        raise SnapshotUnsafe(
            f"the snapshot names the file {path[:300]!r}, which is not a kernel file a"
            " snapshot holds (or not a plain relative path): refused, nothing was extracted"
        )
    return path


def is_snapshot_path(path: str) -> bool:
    """True when a snapshot may hold `path`."""
    return len(path) <= MAX_PATH and _ALLOWED.fullmatch(path) is not None


# -- architectures ----------------------------------------------------------------------------

_FAMILIES = {
    "amd64": "x86_64",
    "x86_64": "x86_64",
    "i386": "x86",
    "i486": "x86",
    "i586": "x86",
    "i686": "x86",
    "x86": "x86",
    "arm64": "aarch64",
    "aarch64": "aarch64",
    "ppc64el": "ppc64le",
}


def arch_family(machine: str) -> str:
    """`machine` (as `uname -m` or a distribution spells it) in one spelling per
    architecture: 'amd64' and 'x86_64' are one, so are 'armv7l' and 'arm'."""
    name = machine.strip().lower()
    if name.startswith("armv") or name.startswith("armhf") or name == "armel":
        return "arm"
    return _FAMILIES.get(name, name)


def arch_from_config(config: dict[str, str]) -> str | None:
    """The machine (as `uname -m` names it) a kernel config was built for, or None when
    the config says nothing this function knows."""

    def on(flag: str) -> bool:
        return config.get(f"CONFIG_{flag}") == "y"

    wide = on("64BIT")
    if on("X86_64"):
        return "x86_64"
    if on("X86_32") or on("X86"):
        return "i686"
    if on("ARM64"):
        return "aarch64"
    if on("ARM"):
        return "arm"
    if on("RISCV"):
        return "riscv64" if wide else "riscv32"
    if on("PPC64"):
        return "ppc64le" if on("CPU_LITTLE_ENDIAN") else "ppc64"
    if on("PPC32") or on("PPC"):
        return "ppc"
    if on("S390"):
        return "s390x"
    if on("LOONGARCH"):
        return "loongarch64"
    if on("MIPS"):
        return "mips64" if wide else "mips"
    return None
