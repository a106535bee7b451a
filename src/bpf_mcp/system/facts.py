"""What the system reader found: each file's fate, and the values parsed from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from .parse import Mount

FileState = Literal["ok", "missing", "permission", "not-mounted", "error"]

_ARCH_FLAGS = (
    ("CONFIG_X86_64", "x86_64"),
    ("CONFIG_X86_32", "i686"),
    ("CONFIG_ARM64", "aarch64"),
    ("CONFIG_S390", "s390x"),
    ("CONFIG_LOONGARCH", "loongarch64"),
)


@attrs.frozen
class FileFact:
    """What happened when one kernel file was read: `state` "ok", or why not and the fix.

    `role` names what the file is for ("config", "sysctl kernel.kptr_restrict", ...).
    """

    role: str
    path: str
    state: FileState
    detail: str = ""
    fix: str = ""

    @property
    def readable(self) -> bool:
        return self.state == "ok"


@attrs.frozen
class SystemFacts:
    """Everything the system reader learned in one load; None where a file was unreadable.

    `files` holds the fate of every file consulted, readable or not. `config` maps
    `CONFIG_*` names to their value ("y", "m", "n" for "is not set", or the quoted text).
    `sysctls` maps dotted names to their text. `pmus` lists the perf event sources
    (/sys/bus/event_source/devices). `tracefs` is the readable tracefs mount, if any.
    `cap_effective` is the effective capability mask of the server process itself.
    """

    sysroot: str
    files: tuple[FileFact, ...]
    release: str | None = None
    version: str | None = None
    config: Mapping[str, str] | None = attrs.field(default=None, eq=False)
    config_path: str | None = None
    sysctls: Mapping[str, str | None] = attrs.field(factory=dict, eq=False)
    lockdown: str | None = None
    lockdown_modes: tuple[str, ...] = ()
    lsms: tuple[str, ...] | None = None
    pmus: tuple[str, ...] | None = None
    tracefs: str | None = None
    kprobe_events: bool | None = None
    filter_functions: frozenset[str] | None = attrs.field(default=None, eq=False)
    ftrace_records: int | None = None
    kprobe_blacklist: frozenset[str] | None = attrs.field(default=None, eq=False)
    btf_bytes: int | None = None
    mounts: tuple[Mount, ...] | None = None
    cap_effective: int | None = None
    machine: str | None = None

    def file(self, role: str) -> FileFact | None:
        """The fate of the file read for `role`, if the reader consulted one."""
        for fact in self.files:
            if fact.role == role:
                return fact
        return None

    def flag(self, name: str) -> str | None:
        """The config value of `name` ("n" when not set), or None when no config was read."""
        if self.config is None:
            return None
        return self.config.get(name, "n")

    def arch(self) -> str | None:
        """The architecture the config was built for, when the config says."""
        if self.config is None:
            return None
        for flag, arch in _ARCH_FLAGS:
            if self.config.get(flag) == "y":
                return arch
        if self.config.get("CONFIG_RISCV") == "y":
            return "riscv64" if self.config.get("CONFIG_64BIT") == "y" else "riscv32"
        if self.config.get("CONFIG_PPC64") == "y":
            little = self.config.get("CONFIG_CPU_LITTLE_ENDIAN") == "y"
            return "ppc64le" if little else "ppc64"
        if self.config.get("CONFIG_ARM") == "y":
            return "arm"
        return None

    def mount_points(self, fs_type: str) -> tuple[str, ...]:
        """Where file systems of `fs_type` are mounted, per the mount table read."""
        if self.mounts is None:
            return ()
        return tuple(m.mount_point for m in self.mounts if m.fs_type == fs_type)
