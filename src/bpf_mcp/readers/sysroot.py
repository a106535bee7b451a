"""Opening files under a sysroot without ever leaving it.

A path under `--sysroot DIR` is walked one component at a time, each opened relative to
the directory descriptor of the one before with O_NOFOLLOW, so the kernel never follows a
symbolic link for us. A link met on the way is read and followed here: a relative target
continues from the link's directory, `..` steps back to the descriptor of the parent, and
an absolute target continues from the sysroot's own descriptor when it names a path
inside the sysroot. A link that leads out (an absolute target elsewhere, or `..` above the
sysroot) raises OutsideSysroot. Because every step goes through a descriptor already held,
swapping a directory for a link between the check and the open gains nothing.

A sysroot of `/` holds every path, so there the kernel's own resolution is used.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from pathlib import Path, PurePosixPath

WHOLE_SYSTEM = Path("/")
"""The sysroot that holds every path (the live system): nothing to confine."""

MAX_LINKS = 40
"""Links followed in one path before giving up with ELOOP, as the kernel does."""

_WALK = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_LINK_ERRORS = (errno.ELOOP, errno.ENOTDIR)  # what O_NOFOLLOW gives for a link


class OutsideSysroot(OSError):
    """A path under the sysroot resolves outside it through a symbolic link; `strerror`
    names the link (never its target, which may name anything on the machine)."""


def _refuse(root: Path, link: PurePosixPath, how: str) -> OutsideSysroot:
    return OutsideSysroot(
        errno.EXDEV,
        f"the symbolic link {link} leads outside the sysroot {root} ({how}), and bpf-mcp"
        " reads nothing outside the sysroot",
    )


class Directory:
    """A directory under a sysroot, held open with the descriptors of every directory from
    the sysroot down to it, so paths below it open in few steps and a `..` in a link can
    still climb back up to (never past) the sysroot. Close it, or use it with `with`.
    """

    def __init__(self, root: Path, path: Path) -> None:
        """Open `path` (written as `root` joined with a relative path) inside `root`;
        raises as open_beneath does."""
        self.root = root
        self.path = path
        self._fds: list[int] = [os.open(root, _WALK & ~os.O_NOFOLLOW)]
        self._parts: list[str] = []
        try:
            if root == WHOLE_SYSTEM:
                if path != root:
                    self._fds.append(os.open(path, _WALK & ~os.O_NOFOLLOW))
            else:
                parts = path.relative_to(root).parts
                walk = _walk(root, self._fds, [], parts)
                self._fds, self._parts = walk.stack, walk.walked
        except BaseException:
            self.close()
            raise

    def open(self, relative: str, flags: int) -> int:
        """A descriptor of `relative` below this directory opened with `flags`, every
        link on the way resolved inside the sysroot. Raises OutsideSysroot, or the
        kernel's OSError."""
        if self.root == WHOLE_SYSTEM:
            return os.open(relative, flags | os.O_CLOEXEC, dir_fd=self._fds[-1])
        walk = _walk(self.root, self._fds, self._parts, tuple(relative.split("/")), flags)
        opened = walk.stack.pop()
        walk.release()  # the directories on the way: only the file is the caller's
        return opened

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def __enter__(self) -> Directory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_beneath(root: Path | Directory, path: Path, flags: int) -> int:
    """A descriptor of `path` (written as `root` joined with a relative path) opened with
    `flags`, every component and every link on the way resolved inside the sysroot:
    `root` itself, or the sysroot of the open Directory `root`.

    Raises OutsideSysroot for a link leading out of the sysroot, ValueError when `path` is
    not written under `root`, and otherwise the OSError the kernel gives (ELOOP after
    MAX_LINKS links). Blocking: call it in a worker thread.
    """
    if isinstance(root, Directory):
        return root.open(str(path.relative_to(root.path)), flags)
    if root == WHOLE_SYSTEM:
        return os.open(path, flags | os.O_CLOEXEC)
    with Directory(root, root) as top:
        return top.open(str(path.relative_to(root)), flags)


def _walk(
    root: Path,
    base: list[int],
    base_parts: list[str],
    parts: tuple[str, ...],
    flags: int | None = None,
) -> _Walk:
    """Walk `parts` from the directory at the top of `base` (descriptors from the sysroot
    down, which stay the caller's: the walk never closes them).

    With `flags` the last component is opened with them; without, every component must be
    a directory. The walk's `stack` holds the descriptors from the sysroot to what was
    opened (some of `base`'s, then the walk's own, the last being the result), `walked`
    the names below the sysroot. On error, the descriptors it opened are closed.
    """
    walk = _Walk(root, base, base_parts)
    try:
        walk.run(deque(parts), flags)
    except BaseException:
        walk.release()
        raise
    return walk


class _Walk:
    """The state of one walk: the descriptors held, and which of them are the caller's."""

    def __init__(self, root: Path, base: list[int], base_parts: list[str]) -> None:
        self.root = root
        self.stack = list(base)
        self.walked = list(base_parts)  # the components behind `stack[1:]`, to name a link
        self.borrowed = len(base)  # stack[:borrowed] are the caller's

    def release(self) -> None:
        """Close the descriptors the walk opened and still holds."""
        while len(self.stack) > self.borrowed:
            os.close(self.stack.pop())

    def pop(self) -> None:
        fd = self.stack.pop()
        if len(self.stack) >= self.borrowed:
            os.close(fd)
        else:
            self.borrowed = len(self.stack)

    def run(self, todo: deque[str], flags: int | None) -> None:
        stack = self.stack
        link = PurePosixPath(*self.walked, *todo)  # the last link followed (at first: the path)
        links = 0
        while todo:
            name = todo.popleft()
            if name in ("", "."):
                continue
            if name == "..":
                if len(stack) == 1:
                    raise _refuse(self.root, link, "'..' climbs above it")
                self.pop()
                self.walked.pop()
                continue
            final = flags if flags is not None and not todo else None
            fd = _open_component(name, _WALK if final is None else final, stack[-1])
            if fd is not None:
                stack.append(fd)
                if final is not None:
                    return
                self.walked.append(name)
                continue
            links += 1
            if links > MAX_LINKS:
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
            link = PurePosixPath(*self.walked, name)
            target = os.readlink(name, dir_fd=stack[-1])
            if target.startswith("/"):
                inside = _inside(self.root, target)
                if inside is None:
                    raise _refuse(self.root, link, "its target is an absolute path outside it")
                while len(stack) > 1:
                    self.pop()
                self.walked.clear()
                todo.extendleft(reversed(inside))
            else:
                todo.extendleft(reversed(target.split("/")))
        if flags is not None:
            # The path ended in "." or "..": it is a directory the walk holds.
            stack.append(os.open(".", flags | os.O_CLOEXEC, dir_fd=stack[-1]))


def _open_component(name: str, flags: int, directory: int) -> int | None:
    """`name` in `directory` opened with `flags` without following a link, or None when
    it is a symbolic link (then the caller follows it)."""
    try:
        fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=directory)
    except OSError as exc:
        if exc.errno in _LINK_ERRORS and _is_link(name, directory):
            return None
        raise
    if flags & os.O_PATH and stat.S_ISLNK(os.fstat(fd).st_mode):
        os.close(fd)  # O_PATH | O_NOFOLLOW opens a link itself
        return None
    return fd


def _is_link(name: str, directory: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _inside(root: Path, target: str) -> list[str] | None:
    """The components of absolute `target` below `root`, or None when it names a path
    outside (compared with the sysroot as given and as the kernel resolves it)."""
    for base in dict.fromkeys((os.path.abspath(root), os.path.realpath(root))):
        if target == base or target.startswith(base.rstrip("/") + "/"):
            return target[len(base) :].split("/")
    return None


def stat_beneath(root: Path, path: Path) -> os.stat_result:
    """The status of `path` resolved inside `root` (links followed there); see
    open_beneath for what it raises."""
    if root == WHOLE_SYSTEM:
        return os.stat(path)
    fd = open_beneath(root, path, os.O_PATH)
    try:
        return os.fstat(fd)
    finally:
        os.close(fd)


def listdir_beneath(root: Path, path: Path) -> list[str]:
    """The names in directory `path` resolved inside `root`; see open_beneath."""
    if root == WHOLE_SYSTEM:
        return os.listdir(path)
    fd = open_beneath(root, path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


def exists_beneath(root: Path, path: Path) -> bool:
    """Whether `path` resolves, inside `root`, to something that exists."""
    try:
        stat_beneath(root, path)
    except OSError:
        return False
    return True
