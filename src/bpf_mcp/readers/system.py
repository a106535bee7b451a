"""The system reader: the small kernel files that say what this kernel was built with and
what it allows (config, sysctls, lockdown, LSMs, perf event sources, ftrace and kprobe
lists, mounts) and the server process's own capabilities.

Its failures are data: a file that cannot be read becomes a FileFact saying why and how to
fix it, and the load goes on. Nothing here raises for an unreadable file.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from ..config import Config
from ..sources import BOOT_ID_PATH, BTF_VMLINUX, MODULES_PATH, TRACEFS_MOUNTS, Source
from ..system import (
    FileFact,
    Mount,
    SystemFacts,
    parse_cap_effective,
    parse_config,
    parse_first_number,
    parse_function_list,
    parse_kprobe_blacklist,
    parse_lockdown,
    parse_lsm_list,
    parse_mounts,
)
from ..system.inflate import InflateError, gunzip
from ..system.shapes import is_lockdown, is_lsm_list, is_numbers, is_release, is_version
from .base import IO_FIX, OUTSIDE_FIX, Emit, Loaded, UnsuitableFile, in_thread, read_bytes
from .sysroot import WHOLE_SYSTEM, OutsideSysroot, listdir_beneath, stat_beneath

SELF_STATUS = Path("/proc/self/status")
"""The server process's own status (capabilities): never under the sysroot."""

CONFIG_GZ = "proc/config.gz"
OSRELEASE = "proc/sys/kernel/osrelease"
VERSION = "proc/version"
MOUNTS = "proc/mounts"
LOCKDOWN = "sys/kernel/security/lockdown"
LSM = "sys/kernel/security/lsm"
SECURITYFS = "sys/kernel/security"
DEBUGFS = "sys/kernel/debug"
EVENT_SOURCES = "sys/bus/event_source/devices"
KPROBE_BLACKLIST = "sys/kernel/debug/kprobes/blacklist"
SYSCTLS = (
    "kernel.unprivileged_bpf_disabled",
    "net.core.bpf_jit_enable",
    "net.core.bpf_jit_harden",
    "net.core.bpf_jit_kallsyms",
    "kernel.kptr_restrict",
    "kernel.perf_event_paranoid",
)

SMALL_FILE_BYTES = 1 << 20
"""The bound for small files: procfs sysctl handlers allocate what a read asks for, so
asking for the general bound (tens of MiB) fails with ENOMEM."""
CONFIG_GZ_BYTES = 1 << 20
"""/proc/config.gz: 23 kB on 6.18 here, ~70 kB for distribution kernels."""
CONFIG_TEXT_BYTES = 8 << 20
"""The kernel config as text (inflated, or /boot/config-*): ~100-300 kB."""
FUNCTION_LIST_BYTES = 32 << 20
"""available_filter_functions: ~50k lines of ~30 bytes."""

ROOT_FIX = "run bpf-mcp as root"
POLICY_FIX = (
    "bpf-mcp already runs as root, so a security policy (a sandbox, an LSM or lockdown)"
    " denies this read; nothing bpf-mcp can change"
)
CONFIG_FIX = (
    "boot a kernel built with CONFIG_IKCONFIG_PROC=y (for /proc/config.gz), or install the"
    " kernel's config as /boot/config-<release> (distribution kernels ship it)"
)
SECURITYFS_FIX = "mount securityfs as root: mount -t securityfs securityfs /sys/kernel/security"
DEBUGFS_FIX = "mount debugfs as root: mount -t debugfs nodev /sys/kernel/debug"
TRACEFS_FIX = "mount tracefs as root: mount -t tracefs nodev /sys/kernel/tracing"
PROC_FIX = "mount procfs (mount -t proc proc /proc); in a container, bind-mount the host's /proc"
SYSFS_FIX = "mount sysfs (mount -t sysfs sysfs /sys); in a container, bind-mount the host's /sys"


def _denied_fix() -> str:
    return POLICY_FIX if os.geteuid() == 0 else ROOT_FIX


def _why(exc: OSError) -> str:
    code = exc.errno or 0
    name = errno.errorcode.get(code, str(code))
    return f"{exc.strerror or os.strerror(code)} ({name})"


class _Files:
    """Reads files for one load, recording the fate of each as a FileFact."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.facts: list[FileFact] = []

    def read(
        self,
        role: str,
        path: Path,
        *,
        fix_missing: str,
        missing: str = "",
        unmounted: bool = False,
        limit: int = SMALL_FILE_BYTES,
        root: Path | None = None,
    ) -> bytes | None:
        """The content of `path` (at most `limit` bytes), or None with the reason recorded.

        `path` resolves inside `root`, the sysroot unless given. `missing` explains a file
        that does not exist; `unmounted` says that is because its file system is not
        mounted.
        """
        try:
            data = read_bytes(path, limit, root=self.config.sysroot if root is None else root)
        except OSError as exc:
            self.failed(
                role, path, exc, fix_missing=fix_missing, missing=missing, unmounted=unmounted
            )
            return None
        self.facts.append(FileFact(role, str(path), "ok"))
        return data

    def failed(
        self,
        role: str,
        path: Path,
        exc: OSError,
        *,
        fix_missing: str,
        missing: str = "",
        unmounted: bool = False,
    ) -> None:
        if exc.errno == errno.ENOENT:
            self.facts.append(
                FileFact(
                    role,
                    str(path),
                    "not-mounted" if unmounted else "missing",
                    missing or "the file does not exist",
                    fix_missing,
                )
            )
        elif exc.errno in (errno.EACCES, errno.EPERM):
            self.facts.append(
                FileFact(
                    role, str(path), "permission", f"reading it fails: {_why(exc)}", _denied_fix()
                )
            )
        elif isinstance(exc, OutsideSysroot | UnsuitableFile):
            fix = OUTSIDE_FIX if isinstance(exc, OutsideSysroot) else IO_FIX
            self.facts.append(FileFact(role, str(path), "error", str(exc.strerror), fix))
        else:
            self.facts.append(FileFact(role, str(path), "error", f"reading it fails: {_why(exc)}"))

    def text(
        self,
        role: str,
        relative: str,
        *,
        fix_missing: str,
        missing: str = "",
        unmounted: bool = False,
        shape: Callable[[str], bool] | None = None,
    ) -> str | None:
        """The text of the file at `relative`, stripped, or None with the reason recorded.

        With `shape`, text the predicate refuses is recorded as an error and not returned:
        its content is never shown (it is not the kernel's file).
        """
        path = self.config.path(relative)
        data = self.read(role, path, fix_missing=fix_missing, missing=missing, unmounted=unmounted)
        if data is None:
            return None
        text = data.decode("utf-8", "replace").strip()
        if shape is not None and not shape(text):
            self.facts[-1] = FileFact(
                role,
                str(path),
                "error",
                "its content does not have the shape the kernel writes there (not shown)",
                IO_FIX,
            )
            return None
        return text

    def note(self, fact: FileFact) -> None:
        self.facts.append(fact)


def collect(config: Config, self_status: Path = SELF_STATUS) -> SystemFacts:
    """Read every file the system facts rest on (blocking). Never raises for a file."""
    files = _Files(config)
    mounts_text = files.text("mounts", MOUNTS, fix_missing=PROC_FIX)
    mounts = parse_mounts(mounts_text) if mounts_text is not None else None
    release = files.text("release", OSRELEASE, fix_missing=PROC_FIX, shape=is_release)
    version = files.text("version", VERSION, fix_missing=PROC_FIX, shape=is_version)
    config_flags, config_path = _config(files, release)
    sysctls: dict[str, str | None] = {}
    for name in SYSCTLS:
        value = files.text(
            f"sysctl {name}",
            "proc/sys/" + name.replace(".", "/"),
            fix_missing="",
            missing="the kernel has no such setting (built without the feature it controls)",
            shape=is_numbers,
        )
        sysctls[name] = value
    securityfs_missing = _unmounted(config, mounts, SECURITYFS, "securityfs")
    lockdown_text = files.text(
        "lockdown",
        LOCKDOWN,
        fix_missing=SECURITYFS_FIX if securityfs_missing else "",
        missing=securityfs_missing or "no lockdown file: the kernel has no lockdown LSM",
        unmounted=bool(securityfs_missing),
        shape=is_lockdown,
    )
    lockdown, modes = parse_lockdown(lockdown_text) if lockdown_text is not None else (None, ())
    lsm_text = files.text(
        "lsm",
        LSM,
        fix_missing=SECURITYFS_FIX if securityfs_missing else "",
        missing=securityfs_missing or "no lsm file in securityfs",
        unmounted=bool(securityfs_missing),
        shape=is_lsm_list,
    )
    tracefs, filter_functions, ftrace_records, kprobe_events = _tracefs(files, config, config_flags)
    pmus = _event_sources(files, config)
    blacklist = _kprobe_blacklist(files, config, mounts)
    btf_bytes = _btf_size(files, config)
    cap_effective = _capabilities(files, self_status)
    return SystemFacts(
        sysroot=str(config.sysroot),
        files=tuple(files.facts),
        release=release or None,
        version=version,
        config=config_flags,
        config_path=config_path,
        sysctls=sysctls,
        lockdown=lockdown,
        lockdown_modes=modes,
        lsms=parse_lsm_list(lsm_text) if lsm_text is not None else None,
        pmus=pmus,
        tracefs=tracefs,
        kprobe_events=kprobe_events,
        filter_functions=filter_functions,
        ftrace_records=ftrace_records,
        kprobe_blacklist=blacklist,
        btf_bytes=btf_bytes,
        mounts=mounts,
        cap_effective=cap_effective,
        machine=_machine(config),
    )


def _config(files: _Files, release: str | None) -> tuple[dict[str, str] | None, str | None]:
    """The kernel config from /proc/config.gz, else /boot/config-<release>."""
    config = files.config
    path = config.path(CONFIG_GZ)
    data = files.read("config", path, fix_missing=CONFIG_FIX, limit=CONFIG_GZ_BYTES)
    if data is not None:
        try:
            text = gunzip(data, CONFIG_TEXT_BYTES).decode("utf-8", "replace")
        except InflateError as exc:
            files.facts[-1] = FileFact("config", str(path), "error", str(exc), CONFIG_FIX)
        else:
            return parse_config(text), str(path)
    if release:
        boot = config.path(f"boot/config-{release}")
        plain = files.read(
            "config (fallback)", boot, fix_missing=CONFIG_FIX, limit=CONFIG_TEXT_BYTES
        )
        if plain is not None:
            return parse_config(plain.decode("utf-8", "replace")), str(boot)
    return None, None


def _unmounted(
    config: Config, mounts: tuple[Mount, ...] | None, relative: str, fs_type: str
) -> str:
    """Why `relative` holds nothing ("" when the file system seems mounted there)."""
    target = "/" + relative
    if mounts is not None and any(m.fs_type == fs_type and m.mount_point == target for m in mounts):
        return ""
    try:
        if listdir_beneath(config.sysroot, config.path(relative)):
            return ""
    except OSError:
        pass
    return f"{fs_type} is not mounted at {target}"


def _tracefs(
    files: _Files, config: Config, flags: dict[str, str] | None
) -> tuple[str | None, frozenset[str] | None, int | None, bool | None]:
    """The readable tracefs mount, its function list, ftrace record count and whether it
    offers kprobe_events."""
    root = None
    denied: OSError | None = None
    for relative in TRACEFS_MOUNTS:
        candidate = config.path(relative)
        try:
            stat_beneath(config.sysroot, candidate / "available_events")
        except FileNotFoundError:
            continue
        except OSError as exc:
            denied = denied or exc
            continue
        root = candidate
        break
    if root is None:
        primary = config.path(TRACEFS_MOUNTS[0])
        for role, name in (
            ("ftrace functions", "available_filter_functions"),
            ("ftrace records", "dyn_ftrace_total_info"),
            ("kprobe_events", "kprobe_events"),
        ):
            if denied is not None:
                files.failed(role, primary / name, denied, fix_missing=TRACEFS_FIX)
            else:
                files.note(
                    FileFact(
                        role,
                        str(primary / name),
                        "not-mounted",
                        "tracefs is not mounted",
                        TRACEFS_FIX,
                    )
                )
        return None, None, None, None
    functions = files.read(
        "ftrace functions",
        root / "available_filter_functions",
        fix_missing="",
        missing=_no_function_list(flags),
        limit=FUNCTION_LIST_BYTES,
    )
    records = files.read("ftrace records", root / "dyn_ftrace_total_info", fix_missing="")
    try:
        stat_beneath(config.sysroot, root / "kprobe_events")
    except FileNotFoundError:
        files.note(
            FileFact(
                "kprobe_events",
                str(root / "kprobe_events"),
                "missing",
                "tracefs has no kprobe_events: the kernel has no kprobe events",
            )
        )
        kprobe_events: bool | None = False
    except OSError as exc:
        files.failed("kprobe_events", root / "kprobe_events", exc, fix_missing="")
        kprobe_events = None
    else:
        files.note(FileFact("kprobe_events", str(root / "kprobe_events"), "ok"))
        kprobe_events = True
    return (
        str(root),
        parse_function_list(functions.decode("utf-8", "replace"))
        if functions is not None
        else None,
        parse_first_number(records.decode("utf-8", "replace")) if records is not None else None,
        kprobe_events,
    )


def _no_function_list(flags: dict[str, str] | None) -> str:
    """Why tracefs may lack available_filter_functions, as far as the config tells."""
    dynamic = flags.get("CONFIG_DYNAMIC_FTRACE", "n") if flags is not None else None
    if dynamic == "n":
        return "the file does not exist: the kernel has no dynamic ftrace (CONFIG_DYNAMIC_FTRACE)"
    if dynamic is not None:
        return (
            f"the file does not exist although the kernel has dynamic ftrace"
            f" (CONFIG_DYNAMIC_FTRACE={dynamic}): this tracefs is incomplete (a partial copy?)"
        )
    return "the file does not exist (a kernel without dynamic ftrace has none)"


def _event_sources(files: _Files, config: Config) -> tuple[str, ...] | None:
    path = config.path(EVENT_SOURCES)
    try:
        names = tuple(sorted(listdir_beneath(config.sysroot, path)))
    except OSError as exc:
        files.failed("perf event sources", path, exc, fix_missing=SYSFS_FIX)
        return None
    files.note(FileFact("perf event sources", str(path), "ok"))
    return names


def _kprobe_blacklist(
    files: _Files, config: Config, mounts: tuple[Mount, ...] | None
) -> frozenset[str] | None:
    debugfs_missing = _unmounted(config, mounts, DEBUGFS, "debugfs")
    text = files.text(
        "kprobe blacklist",
        KPROBE_BLACKLIST,
        fix_missing=DEBUGFS_FIX if debugfs_missing else "",
        missing=debugfs_missing or "debugfs has no kprobes directory: the kernel has no kprobes",
        unmounted=bool(debugfs_missing),
    )
    return parse_kprobe_blacklist(text) if text is not None else None


def _btf_size(files: _Files, config: Config) -> int | None:
    path = config.path(BTF_VMLINUX)
    try:
        size = stat_beneath(config.sysroot, path).st_size
    except OSError as exc:
        files.failed(
            "btf",
            path,
            exc,
            fix_missing="use a kernel built with CONFIG_DEBUG_INFO_BTF=y",
        )
        return None
    files.note(FileFact("btf", str(path), "ok"))
    return size


def _capabilities(files: _Files, self_status: Path) -> int | None:
    data = files.read("capabilities", self_status, fix_missing=PROC_FIX, root=WHOLE_SYSTEM)
    if data is None:
        return None
    mask = parse_cap_effective(data.decode("utf-8", "replace"))
    if mask is None:
        files.facts[-1] = FileFact(
            "capabilities", str(self_status), "error", "it has no CapEff line", ""
        )
    return mask


def _machine(config: Config) -> str | None:
    """The machine of the running kernel, known only when the sysroot is this machine."""
    if config.sysroot != Path("/"):
        return None
    return os.uname().machine


def _signature(config: Config, self_status: Path) -> str:
    """A digest of the small files whose change means the facts changed."""
    digest = hashlib.blake2b()
    for relative in (
        OSRELEASE,
        BOOT_ID_PATH,
        MODULES_PATH,
        MOUNTS,
        LOCKDOWN,
        LSM,
        *("proc/sys/" + name.replace(".", "/") for name in SYSCTLS),
    ):
        digest.update(_peek(config.sysroot, config.path(relative)))
    for relative in (CONFIG_GZ, BTF_VMLINUX, EVENT_SOURCES):
        try:
            st = stat_beneath(config.sysroot, config.path(relative))
            digest.update(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}".encode())
        except OSError as exc:
            digest.update(f"!{exc.errno}".encode())
    for relative in TRACEFS_MOUNTS:
        path = config.path(relative) / "dyn_ftrace_total_info"
        digest.update(_peek(config.sysroot, path))
    status = _peek(WHOLE_SYSTEM, self_status)
    digest.update(b"".join(line for line in status.splitlines() if line.startswith(b"CapEff")))
    return digest.hexdigest()


def _peek(root: Path, path: Path) -> bytes:
    try:
        return read_bytes(path, SMALL_FILE_BYTES, root=root)
    except OSError as exc:
        return f"!{exc.errno}".encode()


class SystemReader:
    """Reads the system facts; re-reads when any of the small files changes."""

    source = Source.SYSTEM

    def __init__(self, self_status: Path = SELF_STATUS) -> None:
        self.self_status = self_status

    async def signature(self, config: Config) -> str:
        return await in_thread(_signature, config, self.self_status)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        facts = await in_thread(collect, config, self.self_status)
        await emit(facts)
        unreadable = sum(1 for fact in facts.files if not fact.readable)
        return Loaded(
            str(config.sysroot),
            f"{len(facts.files)} files consulted, {unreadable} unreadable (see get_kernel_info)",
        )
