"""Whether a small kernel file's text has the shape the kernel writes.

These files' text goes into answers as it is (the release, the active LSMs, sysctl
values), so text of any other shape is refused rather than shown: whatever was put where
the kernel's file belongs (a copied or linked file of the machine's own) stays unquoted.
"""

from __future__ import annotations

import re

_RELEASE = re.compile(r"[0-9][0-9A-Za-z._+~-]{0,127}")
_VERSION = re.compile(r"Linux version [^\n]{1,1000}\n?")
_NUMBERS = re.compile(r"-?[0-9]{1,20}(?:[ \t]+-?[0-9]{1,20}){0,7}")
_LSMS = re.compile(r"[a-z0-9_]{1,64}(?:,[a-z0-9_]{1,64}){0,63},?")
_LOCKDOWN = re.compile(r"(?:\[?[a-z]{1,32}\]?)(?: \[?[a-z]{1,32}\]?){0,7}")


def is_release(text: str) -> bool:
    """`6.18.0-rc1+` (/proc/sys/kernel/osrelease, stripped)."""
    return _RELEASE.fullmatch(text) is not None


def is_version(text: str) -> bool:
    """`Linux version 6.18.0 (builder@host) (gcc ...) #1 SMP ...` (/proc/version), one line."""
    return _VERSION.fullmatch(text) is not None


def is_numbers(text: str) -> bool:
    """A few whitespace-separated integers: a numeric sysctl, stripped."""
    return _NUMBERS.fullmatch(text) is not None


def is_lsm_list(text: str) -> bool:
    """`lockdown,capability,landlock,bpf` (securityfs `lsm`, stripped)."""
    return _LSMS.fullmatch(text) is not None


def is_lockdown(text: str) -> bool:
    """`[none] integrity confidentiality` (securityfs `lockdown`, stripped)."""
    return _LOCKDOWN.fullmatch(text) is not None
