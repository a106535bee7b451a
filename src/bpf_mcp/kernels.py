"""Kernels served besides the local one: what each registered path is, and how it becomes
a sysroot the readers can read.

A sysroot directory is read in place. A bare BTF file (raw `.BTF`, or an ELF vmlinux with
a `.BTF` section) becomes a small sysroot holding only `sys/kernel/btf/vmlinux`; the
sources it cannot have are recorded as absent, with a sentence saying why, so a question
that needs them answers that at once instead of looking for files that were never there.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from .btf import BtfError
from .btf.elf import btf_section, is_elf
from .config import LOCAL_KERNEL, Config, KernelKind, KernelSpec
from .errors import SourceFailure
from .queries import KERNEL_NAME_RULE, is_kernel_name
from .readers.base import Reader
from .readers.btf import BtfReader
from .readers.kallsyms import KallsymsReader
from .readers.reference import ReferenceReader
from .readers.system import SystemReader
from .readers.tracefs import TracefsReader
from .snapshot import open_snapshot, read_manifest
from .sources import BTF_VMLINUX, Source
from .system.shapes import is_release

BTF_MAGICS = (b"\x9f\xeb", b"\xeb\x9f")
MAX_BTF_FILE = 512 * 1024 * 1024
"""Largest bare BTF or vmlinux file registered (a vmlinux with debug info is ~300 MB)."""


class KernelOptionError(ValueError):
    """A `--kernel NAME=PATH` that cannot be served; the message says why."""


def detect_kind(path: Path) -> KernelKind:
    """What `path` is: a sysroot directory, a snapshot archive, or a bare BTF file.

    Reads at most a few bytes. Raises KernelOptionError for a path that does not exist or
    is none of these.
    """
    if path.is_dir():
        return "sysroot"
    if not path.is_file():
        raise KernelOptionError(f"{path} does not exist (or is not a file or directory)")
    with path.open("rb") as file:
        head = file.read(6)
    if head[:2] in BTF_MAGICS or is_elf(head):
        return "btf"
    if head[:2] == b"\x1f\x8b" or head[:6] == b"\xfd7zXZ\x00":
        return "snapshot"
    raise KernelOptionError(
        f"{path} is neither a directory, a BTF file, an ELF vmlinux nor a bpf-mcp snapshot"
    )


def parse_kernel_option(text: str, taken: Mapping[str, KernelSpec] = {}) -> KernelSpec:
    """The kernel registered by `NAME=PATH`. Raises KernelOptionError naming what is wrong:
    no '=', a bad or duplicate name (or 'local'), a path that is not servable."""
    name, sep, raw = text.partition("=")
    if not sep or not raw:
        raise KernelOptionError(f"expected NAME=PATH, got {text[:80]!r}")
    if not is_kernel_name(name):
        raise KernelOptionError(f"kernel name {name[:80]!r} must be {KERNEL_NAME_RULE}")
    if name == LOCAL_KERNEL:
        raise KernelOptionError(f"'{LOCAL_KERNEL}' is the running kernel's name; pick another")
    if name in taken:
        raise KernelOptionError(f"two kernels are named {name!r}")
    path = Path(raw).expanduser().resolve()
    return KernelSpec(name, path, detect_kind(path))


def sources_of(
    name: str, kind: KernelKind, missing: Mapping[Source, str] | None = None
) -> tuple[list[Reader], dict[Source, SourceFailure]]:
    """The readers kernel `name` of `kind` has, and a failure for each source it cannot
    have (`missing`: the sources a snapshot lacks, with the capture's reason)."""

    def _absent(source: Source, why: str, fix: str) -> SourceFailure:
        return SourceFailure(source.value, f"kernel {name!r}", "missing", why, fix)

    only_local = _absent(
        Source.LOADED,
        "loaded BPF objects are read from the running kernel only",
        "ask the 'local' kernel",
    )
    if kind == "btf":
        why = "this kernel was registered from a bare BTF file, which holds only types"
        fix = "register a snapshot of it (bpf-mcp snapshot) or a sysroot instead"
        absent = {s: _absent(s, why, fix) for s in (Source.TRACEFS, Source.KALLSYMS, Source.SYSTEM)}
        return [BtfReader(), ReferenceReader()], {**absent, Source.LOADED: only_local}
    readers: list[Reader] = [
        TracefsReader(),
        KallsymsReader(),
        BtfReader(),
        ReferenceReader(),
        SystemReader(),
    ]
    absent = {Source.LOADED: only_local}
    fix = "capture the snapshot again where that file is readable (as root)"
    for source, why in (missing or {}).items():
        absent[source] = _absent(source, f"the snapshot holds no {source.value} data: {why}", fix)
    readers = [r for r in readers if r.source not in absent]
    return readers, absent


def facts_of(
    config: Config, spec: KernelSpec | None
) -> tuple[str | None, str | None, dict[Source, str]]:
    """What a kernel states without being loaded: its release, its architecture, and the
    sources a snapshot of it lacks (with why). Reads at most a small file or a snapshot's
    first member; raises SnapshotError for a snapshot that cannot be read."""
    if spec is not None and spec.kind == "snapshot":
        manifest = read_manifest(spec.path)
        return manifest.release or None, manifest.arch, manifest.missing_sources()
    local = spec is None and config.sysroot == Path("/")
    return release_of(config, spec), machine() if local else None, {}


def materialize(spec: KernelSpec, scratch: Path) -> Path:
    """The sysroot to read `spec` from, made under the empty directory `scratch` when the
    kernel is not a directory already. Blocking; raises KernelOptionError for a file that
    cannot be served (not BTF, no .BTF section, too large)."""
    if spec.kind == "sysroot":
        return spec.path
    if spec.kind == "snapshot":
        open_snapshot(spec.path, scratch, expect_arch=machine())
        return scratch
    size = spec.path.stat().st_size
    if size > MAX_BTF_FILE:
        raise KernelOptionError(f"{spec.path} is {size} bytes, more than a BTF file can be")
    data = spec.path.read_bytes()
    if is_elf(data):
        try:
            data = btf_section(data)
        except BtfError as exc:
            raise KernelOptionError(f"{spec.path}: {exc}") from None
    if data[:2] not in BTF_MAGICS:
        raise KernelOptionError(f"{spec.path} is not BTF")
    target = scratch / BTF_VMLINUX
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return scratch


def release_of(config: Config, spec: KernelSpec | None) -> str | None:
    """The kernel release a registered kernel states without being loaded, or None."""
    root = config.sysroot if spec is None else spec.path if spec.kind == "sysroot" else None
    if root is None:
        return None
    path = root / "proc/sys/kernel/osrelease"
    # Only a file inside the sysroot (a link out of it is not followed), and shown only
    # with the shape of a release: text of any other shape is not the kernel's.
    real = os.path.realpath(path)
    if root != Path("/") and not real.startswith(os.path.realpath(root).rstrip("/") + "/"):
        return None
    try:
        if not stat.S_ISREG(os.stat(real).st_mode):
            return None  # a FIFO or device would hang or never end
        with open(real, "rb") as file:
            text = file.read(256).decode("ascii", "replace").strip()
    except OSError:
        return None
    return text if is_release(text) else None


def machine() -> str:
    return os.uname().machine
