"""Errors of the loaded-BPF package: malformed info bytes, and a kernel that will not say."""

from __future__ import annotations

from typing import Literal

__all__ = ["BpfUnavailable", "LoadedBpfError"]


class LoadedBpfError(Exception):
    """Bytes from the kernel are not a `bpf_*_info` struct (too short, an id of 0), or a
    scan could not be made at all (see BpfUnavailable). Decoders raise nothing else."""


Cause = Literal["permission", "missing", "io"]

PRIVILEGE_FIX = (
    "run bpf-mcp as root, or grant it CAP_SYS_ADMIN (e.g. `setcap cap_sys_admin+ep` on its"
    " Python, or `--cap-add SYS_ADMIN` for a container): the kernel lets only CAP_SYS_ADMIN"
    " list BPF objects by id, and CAP_BPF alone is not enough for that; the sizes of"
    " translated and JITed code also need CAP_BPF or CAP_SYS_ADMIN, and addresses need"
    " CAP_SYSLOG under kernel.kptr_restrict"
)
NO_SYSCALL_FIX = (
    "nothing on this kernel: it was built without CONFIG_BPF_SYSCALL (or a seccomp filter"
    " refuses bpf()); use a kernel with BPF enabled"
)


class BpfUnavailable(LoadedBpfError):
    """The bpf() system call refused to list objects at all.

    `cause` is "permission" (EPERM/EACCES: capabilities missing), "missing" (ENOSYS: no
    bpf() syscall, or an architecture whose syscall number this package does not know)
    or "io" (any other error). `detail` says what failed; `fix` what a person can do.
    """

    def __init__(self, cause: Cause, detail: str, fix: str) -> None:
        text = f"{detail}. To fix: {fix}." if fix else f"{detail}."
        super().__init__(text)
        self.cause: Cause = cause
        self.detail = detail
        self.fix = fix
