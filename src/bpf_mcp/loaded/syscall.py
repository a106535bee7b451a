"""The bpf() system call, read-only and typed: list ids, open by id or by pinned path, and
fill info structs. The only module here that calls into the kernel.

Nothing is loaded, attached, updated or pinned: the commands issued are GET_NEXT_ID,
GET_FD_BY_ID, OBJ_GET (open a pinned object, read-only where the kernel allows it) and
OBJ_GET_INFO_BY_FD. Every call raises OSError with the kernel's errno on failure.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
from collections.abc import Mapping
from typing import Protocol

from . import abi
from .model import Kind

__all__ = ["BpfCalls", "LibcBpf"]


class BpfCalls(Protocol):
    """The read-only bpf() commands a scan needs; tests substitute a fake kernel."""

    def next_id(self, kind: Kind, start: int) -> int | None:
        """The smallest id of `kind` above `start`; None when there is none (ENOENT)."""
        ...

    def fd_by_id(self, kind: Kind, ident: int) -> int:
        """A new descriptor of the object `ident` of `kind` (ENOENT once it is freed)."""
        ...

    def obj_get(self, path: str, flags: int) -> int:
        """A new descriptor of the object pinned at `path`."""
        ...

    def info(
        self, fd: int, request: bytes, buffers: Mapping[int, int]
    ) -> tuple[bytes, dict[int, bytes]]:
        """OBJ_GET_INFO_BY_FD with `request` as the info struct. For each (offset, size) in
        `buffers`, a zeroed buffer of `size` bytes is allocated and its address written
        into the u64 pointer field at `offset`. Returns the struct as the kernel left it
        (its first info_len bytes) and each buffer's content, by offset."""
        ...

    def fdinfo(self, fd: int) -> str:
        """The text of this process's /proc/self/fdinfo/`fd`."""
        ...

    def close(self, fd: int) -> None:
        """Close a descriptor this interface returned."""
        ...


def _address(buf: bytearray) -> int:
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf)) if buf else 0


class LibcBpf:
    """BpfCalls through libc's syscall(2) on this machine.

    Raises OSError(ENOSYS) from every call on an architecture whose bpf() number is not
    known (see abi.SYSCALL_NUMBERS), as a kernel without bpf() would.
    """

    def __init__(self, machine: str | None = None, proc_self: str = "/proc/self") -> None:
        self.machine = machine if machine is not None else platform.machine()
        self.number = abi.syscall_number(self.machine)
        self._proc_self = proc_self
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.syscall
        fn.restype = ctypes.c_long
        fn.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
        self._syscall = fn

    def _call(self, cmd: int, attr: bytearray) -> int:
        if self.number is None:
            raise OSError(errno.ENOSYS, f"no known bpf() syscall number on {self.machine}")
        ret = int(self._syscall(self.number, cmd, _address(attr), len(attr)))
        if ret < 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
        return ret

    def next_id(self, kind: Kind, start: int) -> int | None:
        attr = abi.ATTR_GET_ID.pack({"start_id": start})
        try:
            self._call(abi.GET_NEXT_ID[kind], attr)
        except FileNotFoundError:
            return None
        return abi.ATTR_GET_ID.unpack(bytes(attr))["next_id"]

    def fd_by_id(self, kind: Kind, ident: int) -> int:
        return self._call(abi.GET_FD_BY_ID[kind], abi.ATTR_GET_ID.pack({"start_id": ident}))

    def obj_get(self, path: str, flags: int) -> int:
        name = bytearray(os.fsencode(path) + b"\0")
        attr = abi.ATTR_OBJ_GET.pack({"pathname": _address(name), "file_flags": flags})
        return self._call(abi.OBJ_GET, attr)

    def info(
        self, fd: int, request: bytes, buffers: Mapping[int, int]
    ) -> tuple[bytes, dict[int, bytes]]:
        struct_buf = bytearray(request)
        owned = {offset: bytearray(size) for offset, size in buffers.items()}
        for offset, buf in owned.items():
            struct.pack_into("=Q", struct_buf, offset, _address(buf))
        attr = abi.ATTR_INFO.pack(
            {"bpf_fd": fd, "info_len": len(struct_buf), "info": _address(struct_buf)}
        )
        self._call(abi.OBJ_GET_INFO_BY_FD, attr)
        info_len = abi.ATTR_INFO.unpack(bytes(attr))["info_len"]
        return bytes(struct_buf[:info_len]), {offset: bytes(buf) for offset, buf in owned.items()}

    def fdinfo(self, fd: int) -> str:
        with open(f"{self._proc_self}/fdinfo/{fd}", encoding="utf-8", errors="replace") as f:
            return f.read()

    def close(self, fd: int) -> None:
        os.close(fd)
