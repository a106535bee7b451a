"""Pure parsers for the small kernel files behind get_kernel_info: text in, values out.

Every parser accepts any text: a line it does not understand is skipped, never raised on,
because these files only add detail to answers that stand without them.
"""

from __future__ import annotations

import re

import attrs

_CONFIG_SET = re.compile(r"(CONFIG_[A-Za-z0-9_]+)=(.*)\Z")
_CONFIG_UNSET = re.compile(r"# (CONFIG_[A-Za-z0-9_]+) is not set\Z")
_FIRST_NUMBER = re.compile(r"\s*([0-9]{1,20})\b")
_HEX_MASK = re.compile(r"[0-9a-fA-F]{1,32}\Z")

CAPABILITIES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)
"""Capability names by bit number, as in include/uapi/linux/capability.h."""


@attrs.frozen
class Mount:
    """One line of /proc/mounts: what is mounted where."""

    source: str
    mount_point: str
    fs_type: str


def parse_config(text: str) -> dict[str, str]:
    """`CONFIG_X=value` lines as {"CONFIG_X": "value"}; `# CONFIG_X is not set` as "n".

    Values keep their quotes (`"landlock,bpf"`), as the file writes them.
    """
    flags: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if match := _CONFIG_SET.match(line):
            flags[match.group(1)] = match.group(2)
        elif match := _CONFIG_UNSET.match(line):
            flags[match.group(1)] = "n"
    return flags


def parse_lockdown(text: str) -> tuple[str | None, tuple[str, ...]]:
    """The active lockdown mode (the bracketed word) and every mode the kernel offers.

    `none [integrity] confidentiality` -> ("integrity", ("none", "integrity",
    "confidentiality")); the active mode is None when no word is bracketed.
    """
    active = None
    modes = []
    for word in text.split():
        if word.startswith("[") and word.endswith("]") and len(word) > 2:
            word = word[1:-1]
            active = word
        modes.append(word)
    return active, tuple(modes)


def parse_lsm_list(text: str) -> tuple[str, ...]:
    """The comma-separated active LSMs of securityfs `lsm`, in order."""
    return tuple(name for name in (part.strip() for part in text.split(",")) if name)


def parse_cap_effective(status: str) -> int | None:
    """The CapEff mask of a /proc/<pid>/status text; None when absent or malformed."""
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key == "CapEff":
            value = value.strip()
            return int(value, 16) if _HEX_MASK.match(value) else None
    return None


def capability_names(mask: int) -> tuple[str, ...]:
    """The names of the capabilities set in `mask`; unknown bits as `cap_<n>`."""
    return tuple(
        CAPABILITIES[bit] if bit < len(CAPABILITIES) else f"cap_{bit}"
        for bit in range(mask.bit_length())
        if mask >> bit & 1
    )


def parse_first_number(text: str) -> int | None:
    """The number at the start of the text (dyn_ftrace_total_info, a sysctl), or None."""
    match = _FIRST_NUMBER.match(text)
    return int(match.group(1)) if match else None


def parse_function_list(text: str) -> frozenset[str]:
    """Function names of tracefs `available_filter_functions`: one per line, optionally
    followed by ` [module]`."""
    return frozenset(fields[0] for fields in (line.split() for line in text.splitlines()) if fields)


def parse_kprobe_blacklist(text: str) -> frozenset[str]:
    """Function names of debugfs `kprobes/blacklist` (lines `0xstart-0xend<TAB>name`)."""
    return frozenset(
        fields[1] for fields in (line.split() for line in text.splitlines()) if len(fields) >= 2
    )


def parse_mounts(text: str) -> tuple[Mount, ...]:
    """The mounts of a /proc/mounts text; octal escapes (`\\040` for a space) decoded."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            mounts.append(Mount(_unescape(fields[0]), _unescape(fields[1]), fields[2]))
    return tuple(mounts)


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)
