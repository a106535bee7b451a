"""Which BPF object files a tool call may name by path, and reading one.

Over stdio the caller is the local user who started the server, so any file the server
can read is allowed. Over HTTP a caller may be anyone who reaches the port, so only
files below the directories named by --object-dir are read, after symlinks are resolved
(a link that leads out of them is refused). The file is read in a worker thread, bounded
to the size check_bpf_object accepts, and handed on as data_base64.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import attrs
import trio

from ..errors import InvalidArgument
from ..queries import MAX_OBJECT_BYTES, CheckBpfObject

__all__ = ["NO_OBJECTS", "ObjectAccess", "read_object_path"]


@attrs.frozen
class ObjectAccess:
    """Where object files may be read: anywhere (stdio), or only below `dirs` (HTTP)."""

    anywhere: bool = False
    dirs: tuple[Path, ...] = ()

    def allowed(self, given: str) -> Path:
        """The resolved path of `given` when it may be read; InvalidArgument otherwise."""
        path = Path(given)
        if not self.anywhere:
            if not self.dirs:
                raise InvalidArgument(
                    "this server reads no object files by path over HTTP (start it with "
                    "--object-dir DIR to allow a directory); pass data_base64 instead"
                )
            if not path.is_absolute():
                path = self.dirs[0] / path
        real = Path(os.path.realpath(path))
        if self.anywhere:
            return real
        for directory in self.dirs:
            if real.is_relative_to(os.path.realpath(directory)):
                return real
        shown = ", ".join(str(d) for d in self.dirs)
        raise InvalidArgument(
            f"{given!r} is outside the directories this server reads objects from over "
            f"HTTP ({shown}), once symlinks are resolved; copy the object there or pass "
            "data_base64"
        )


NO_OBJECTS = ObjectAccess()
"""No file may be named: what a caller gets unless its transport says otherwise."""


def _read(path: Path, given: str) -> bytes:
    """The bytes of regular file `path` (at most MAX_OBJECT_BYTES)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InvalidArgument(f"there is no file {given!r} on the server's machine") from None
    except PermissionError:
        raise InvalidArgument(f"the server may not read {given!r} (permission denied)") from None
    except OSError as err:
        raise InvalidArgument(f"{given!r} cannot be opened: {err.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidArgument(f"{given!r} is not a regular file")
        if info.st_size > MAX_OBJECT_BYTES:
            raise InvalidArgument(
                f"{given!r} is {info.st_size:,} bytes; at most {MAX_OBJECT_BYTES:,} are accepted"
            )
        chunks = []
        left = MAX_OBJECT_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > MAX_OBJECT_BYTES:
        raise InvalidArgument(f"{given!r} grew past {MAX_OBJECT_BYTES:,} bytes while read")
    return data


async def read_object_path(query: CheckBpfObject, access: ObjectAccess) -> CheckBpfObject:
    """`query` with the file its `path` names read into `data_base64` (the path stays as
    the object's name). InvalidArgument when both are given, or the path may not or
    cannot be read. The read runs in a worker thread; cancelling abandons it."""
    if query.path is None:
        return query
    if query.data_base64 is not None:
        raise InvalidArgument("give data_base64 or path, not both")
    given = query.path
    data = await trio.to_thread.run_sync(lambda: _read(access.allowed(given), given))
    return attrs.evolve(query, data_base64=base64.b64encode(data).decode("ascii"))
