"""A fake kernel behind the BpfCalls interface: objects held as info bytes, with faults
chosen per call (errno by operation, kind and id)."""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping

import attrs

from bpf_mcp.loaded import Kind, abi


@attrs.define
class FakeObject:
    """One object: the info struct the kernel would fill, the buffers it would fill by
    pointer field offset, and its fdinfo text."""

    info: bytes
    buffers: dict[int, bytes] = attrs.Factory(dict)
    fdinfo: str = ""


def oserror(code: int) -> OSError:
    return OSError(code, os.strerror(code))


@attrs.define
class FakeKernel:
    """BpfCalls over `objects`; `faults` maps (operation, kind, id) to an errno, where
    operation is "next_id", "fd_by_id" or "info" and kind/id may be None for any; a key
    in `spare` lets that many of its calls succeed before the fault. `pin_faults` maps a
    pinned path to the errno opening it raises."""

    objects: dict[Kind, dict[int, FakeObject]] = attrs.Factory(dict)
    pins: dict[str, tuple[Kind, int]] = attrs.Factory(dict)
    faults: dict[tuple[str, Kind | None, int | None], int] = attrs.Factory(dict)
    spare: dict[tuple[str, Kind | None, int | None], int] = attrs.Factory(dict)
    pin_faults: dict[str, int] = attrs.Factory(dict)
    open_fds: dict[int, tuple[Kind, int]] = attrs.Factory(dict)
    calls: list[str] = attrs.Factory(list)
    _next_fd: int = 1000

    def _fault(self, op: str, kind: Kind | None, ident: int | None) -> None:
        for key in ((op, kind, ident), (op, kind, None), (op, None, None)):
            if key in self.faults:
                if self.spare.get(key, 0) > 0:
                    self.spare[key] -= 1
                    return
                raise oserror(self.faults[key])

    def _open(self, kind: Kind, ident: int) -> int:
        fd = self._next_fd
        self._next_fd += 1
        self.open_fds[fd] = (kind, ident)
        return fd

    def next_id(self, kind: Kind, start: int) -> int | None:
        self.calls.append(f"next_id {kind} {start}")
        self._fault("next_id", kind, start)
        later = [i for i in self.objects.get(kind, {}) if i > start]
        return min(later) if later else None

    def fd_by_id(self, kind: Kind, ident: int) -> int:
        self.calls.append(f"fd_by_id {kind} {ident}")
        self._fault("fd_by_id", kind, ident)
        if ident not in self.objects.get(kind, {}):
            raise oserror(errno.ENOENT)
        return self._open(kind, ident)

    def obj_get(self, path: str, flags: int) -> int:
        self.calls.append(f"obj_get {path} {flags}")
        if path in self.pin_faults:
            raise oserror(self.pin_faults[path])
        if path not in self.pins:
            raise oserror(errno.ENOENT)
        kind, ident = self.pins[path]
        if kind is Kind.LINKS and flags & abi.BPF_F_RDONLY:
            raise oserror(errno.EINVAL)
        return self._open(kind, ident)

    def info(
        self, fd: int, request: bytes, buffers: Mapping[int, int]
    ) -> tuple[bytes, dict[int, bytes]]:
        kind, ident = self.open_fds[fd]
        self.calls.append(f"info {kind} {ident}")
        self._fault("info", kind, ident)
        obj = self.objects[kind][ident]
        filled = {
            at: obj.buffers.get(at, b"")[:size].ljust(size, b"\0") for at, size in buffers.items()
        }
        return obj.info[: len(request)], filled

    def fdinfo(self, fd: int) -> str:
        kind, ident = self.open_fds[fd]
        return self.objects[kind][ident].fdinfo

    def close(self, fd: int) -> None:
        del self.open_fds[fd]
