"""The kernel sources bpf-mcp reads, and where each lives under a sysroot."""

from __future__ import annotations

import enum


class Source(enum.StrEnum):
    """One kernel source, owned by exactly one reader actor."""

    TRACEFS = "tracefs"
    KALLSYMS = "kallsyms"
    BTF = "btf"
    REFERENCE = "reference"
    SYSTEM = "system"
    LOADED = "loaded_bpf"


TRACEFS_MOUNTS = ("sys/kernel/tracing", "sys/kernel/debug/tracing")
"""Where tracefs may be mounted, relative to the sysroot, in order of preference."""

KALLSYMS_PATH = "proc/kallsyms"
BTF_DIR = "sys/kernel/btf"
BTF_VMLINUX = "sys/kernel/btf/vmlinux"
BOOT_ID_PATH = "proc/sys/kernel/random/boot_id"
MODULES_PATH = "proc/modules"
