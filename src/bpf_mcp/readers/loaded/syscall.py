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

from ...loaded import abi
from ...loaded.model import Kind

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


_GET_ID = abi.ATTR_GET_ID.struct
_OBJ_GET = abi.ATTR_OBJ_GET.struct
_INFO = abi.ATTR_INFO.struct
_NEXT_ID_AT = abi.ATTR_GET_ID.offset("next_id")
_INFO_LEN_AT = abi.ATTR_INFO.offset("info_len")
_U32 = struct.Struct("=I")
_U64 = struct.Struct("=Q")
_FDINFO_BYTES = 4096  # far more than any BPF descriptor's fdinfo


class LibcBpf:
    """BpfCalls through libc's syscall(2) on this machine (`machine` names another
    architecture, for tests).

    Raises OSError(ENOSYS) from every call on an architecture whose bpf() number is not
    known (see abi.SYSCALL_NUMBERS), as a kernel without bpf() would. Holds no buffers
    between calls, so one instance may serve several threads.
    """

    def __init__(self, machine: str | None = None, proc_self: str = "/proc/self") -> None:
        self.machine = machine if machine is not None else platform.machine()
        self.number = abi.syscall_number(self.machine)
        self._fdinfo_dir = f"{proc_self}/fdinfo/"
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.syscall
        fn.restype = ctypes.c_long
        fn.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
        self._syscall = fn

    def _call(self, cmd: int, attr: ctypes.Array[ctypes.c_char]) -> int:
        if self.number is None:
            raise OSError(errno.ENOSYS, f"no known bpf() syscall number on {self.machine}")
        ret = int(self._syscall(self.number, cmd, attr, len(attr)))
        if ret < 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
        return ret

    def next_id(self, kind: Kind, start: int) -> int | None:
        attr = ctypes.create_string_buffer(_GET_ID.pack(start, 0, 0), abi.ATTR_GET_ID.size)
        try:
            self._call(abi.GET_NEXT_ID[kind], attr)
        except FileNotFoundError:
            return None
        next_id: int = _U32.unpack_from(attr, _NEXT_ID_AT)[0]
        return next_id

    def fd_by_id(self, kind: Kind, ident: int) -> int:
        attr = ctypes.create_string_buffer(_GET_ID.pack(ident, 0, 0), abi.ATTR_GET_ID.size)
        return self._call(abi.GET_FD_BY_ID[kind], attr)

    def obj_get(self, path: str, flags: int) -> int:
        name = ctypes.create_string_buffer(os.fsencode(path))
        attr = ctypes.create_string_buffer(
            _OBJ_GET.pack(ctypes.addressof(name), 0, flags), abi.ATTR_OBJ_GET.size
        )
        return self._call(abi.OBJ_GET, attr)

    def info(
        self, fd: int, request: bytes, buffers: Mapping[int, int]
    ) -> tuple[bytes, dict[int, bytes]]:
        info = ctypes.create_string_buffer(request, len(request))
        owned = {offset: ctypes.create_string_buffer(size) for offset, size in buffers.items()}
        for offset, buf in owned.items():
            _U64.pack_into(info, offset, ctypes.addressof(buf))
        attr = ctypes.create_string_buffer(
            _INFO.pack(fd, len(request), ctypes.addressof(info)), abi.ATTR_INFO.size
        )
        self._call(abi.OBJ_GET_INFO_BY_FD, attr)
        info_len = _U32.unpack_from(attr, _INFO_LEN_AT)[0]
        return info.raw[:info_len], {offset: buf.raw for offset, buf in owned.items()}

    def fdinfo(self, fd: int) -> str:
        handle = os.open(self._fdinfo_dir + str(fd), os.O_RDONLY | os.O_CLOEXEC)
        try:
            return os.read(handle, _FDINFO_BYTES).decode("utf-8", errors="replace")
        finally:
            os.close(handle)

    def close(self, fd: int) -> None:
        os.close(fd)
