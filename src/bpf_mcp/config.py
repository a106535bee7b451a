"""Configuration of an embedded bpf-mcp: plain frozen values, filled in by the caller."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import attrs


@attrs.frozen
class Backoff:
    """How the supervisor retries a failed reader.

    The n-th consecutive failure waits `min(cap, initial * factor**(n-1))` seconds, scaled by
    a random factor in `[1 - jitter, 1 + jitter]`. After `max_failures` failures within
    `window` seconds the supervisor stops retrying quickly and only re-checks the source
    every `recheck` seconds, so a source that appears later (tracefs mounted after start)
    is still picked up without restarting the server.
    """

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.2
    max_failures: int = 6
    window: float = 300.0
    recheck: float = 60.0

    def delay(self, failures: int, random_unit: float) -> float:
        """Seconds to wait after `failures` consecutive failures; `random_unit` is in [0, 1)."""
        base = min(self.cap, self.initial * self.factor ** max(0, failures - 1))
        return base * (1.0 - self.jitter + 2.0 * self.jitter * random_unit)


KernelKind = Literal["sysroot", "snapshot", "btf"]

LOCAL_KERNEL = "local"
"""The name of the running kernel (or of `Config.sysroot`), always registered."""


@attrs.frozen
class KernelSpec:
    """A kernel registered besides the local one: its name and where its data is.

    `kind` says what `path` is: a directory laid out like a root file system (`sysroot`),
    an archive written by `bpf-mcp snapshot` (`snapshot`), or a bare BTF file, raw `.BTF`
    or an ELF vmlinux with a `.BTF` section (`btf`).
    """

    name: str
    path: Path
    kind: KernelKind


MIN_ANSWER_BYTES = 16 * 1024
MAX_ANSWER_BYTES = 1024 * 1024


@attrs.frozen
class Config:
    """Everything an embedded server needs to know; the CLI builds one from its options.

    `sysroot` prefixes every kernel path, so a captured snapshot or a host filesystem
    mounted into a container can be served. `refresh_interval` bounds how old an answer
    can be: each reader re-checks its source's signature that often. `load_wait` is how long
    a query waits for a source that is still loading before it answers an error.
    `read_timeout` bounds one load attempt of one source. `answer_cache` is how many
    answers the router remembers for repeated questions (0 turns it off); it is emptied
    whenever any source's data or state changes, so it never serves stale data.
    `max_answer_bytes` bounds the JSON-RPC message of one tool answer, resource read or
    prompt over MCP (MIN_ANSWER_BYTES to MAX_ANSWER_BYTES; `handle.query` is not cut).
    `kernels` are captured kernels served besides the local one, by name; at most
    `max_loaded_kernels` of them are held in memory at once (least recently used first
    out), each loaded on first use. `refused_kernels` are (what was given, why it was
    refused) for registrations that could not be served: listed, never loaded.
    `object_dirs` are the directories below which HTTP tool calls may name BPF object
    files by path (check_bpf_object); over stdio any readable file may be named.
    """

    sysroot: Path = Path("/")
    refresh_interval: float = 5.0
    load_wait: float = 30.0
    read_timeout: float = 60.0
    backoff: Backoff = Backoff()
    max_in_flight: int = 64
    answer_cache: int = 256
    max_answer_bytes: int = attrs.field(default=64 * 1024)
    kernels: tuple[KernelSpec, ...] = ()
    max_loaded_kernels: int = 3
    refused_kernels: tuple[tuple[str, str], ...] = ()
    object_dirs: tuple[Path, ...] = ()

    @max_answer_bytes.validator
    def _check_max_answer_bytes(self, _attribute: object, value: int) -> None:
        if not MIN_ANSWER_BYTES <= value <= MAX_ANSWER_BYTES:
            raise ValueError(
                f"max_answer_bytes must be {MIN_ANSWER_BYTES}-{MAX_ANSWER_BYTES}, not {value}"
            )

    def path(self, relative: str) -> Path:
        """The absolute path of a kernel file given relative to the root (no leading '/')."""
        return self.sysroot / relative.lstrip("/")
