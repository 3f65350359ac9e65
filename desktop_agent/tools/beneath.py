"""Open paths beneath a folder without letting the kernel follow a symlink.

A path is walked one component at a time from the folder's own descriptor: each
folder on the way is opened with `O_NOFOLLOW | O_DIRECTORY` relative to the one
before it (openat), so a folder swapped for a symlink between two steps makes the
open fail instead of leading elsewhere. A symlink met on the way is read
(readlinkat) and its target walked the same way, lexically: a link may lead
anywhere inside the folder, and never out of it (`..` past the top, or an absolute
target outside it, is refused). Files are opened with `O_NOFOLLOW | O_NONBLOCK`
and checked on the opened descriptor (`fstat`): only regular files are read, so a
FIFO or a device never blocks a tool. Writes go to a new temporary file in the
folder's descriptor and replace the target with `os.replace` between descriptors.

Needs `dir_fd` support (Linux, macOS, the BSDs); `Beneath` refuses to start
without it. A folder *moved* out of the workspace while a descriptor to it is
held is the one case this cannot see.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["Beneath", "Located", "WorkspaceError"]

#: Symlinks followed in one path at most (Linux's own limit is 40).
MAX_LINKS = 40
#: Times a component that changed under the walk is looked at again.
MAX_RETRIES = 8

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class WorkspaceError(ValueError):
    """A path outside the workspace, or a request past a limit (the message says which)."""


def supported() -> bool:
    return os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


@dataclass
class Located:
    """Where a path leads: the open folder holding its last component, that
    component's name (None when the path is the top folder itself), and the path
    relative to the top with links replaced by their targets."""

    folder_fd: int
    name: str | None
    parts: tuple[str, ...]

    @property
    def relative(self) -> str:
        return "/".join(self.parts) or "."


class Beneath:
    """Paths inside `root` (an absolute, resolved folder), opened safely."""

    def __init__(self, root: Path) -> None:
        if not supported():
            raise WorkspaceError("the workspace tools need a system with openat (Linux, macOS)")
        self.root = root

    def open_root(self) -> int:
        return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    @contextlib.contextmanager
    def locate(
        self, path: str, *, follow_last: bool = True, create_folders: bool = False
    ) -> Iterator[Located]:
        """Walk `path` (relative to the top) and yield where it leads; the
        descriptors are closed afterwards. The last component need not exist;
        with `create_folders`, missing folders on the way are made."""
        fds = [self.open_root()]
        try:
            yield self._walk(path, fds, follow_last=follow_last, create_folders=create_folders)
        finally:
            for fd in reversed(fds):
                os.close(fd)

    def _walk(
        self, path: str, fds: list[int], *, follow_last: bool, create_folders: bool
    ) -> Located:
        stack: list[str] = []
        todo = list(reversed(_components(path)))
        links = retries = 0
        while todo:
            name = todo.pop()
            if name == "..":
                if not stack:
                    raise WorkspaceError(f"{path!r} is outside the workspace")
                stack.pop()
                os.close(fds.pop())
                continue
            last = not todo
            try:
                info = os.stat(name, dir_fd=fds[-1], follow_symlinks=False)
            except FileNotFoundError:
                if last:
                    return Located(fds[-1], name, (*stack, name))
                if not create_folders:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, dir_fd=fds[-1])
                todo.append(name)
                continue
            if stat.S_ISLNK(info.st_mode) and (follow_last or not last):
                links += 1
                if links > MAX_LINKS:
                    raise WorkspaceError(f"{path!r}: too many symbolic links")
                target = os.readlink(name, dir_fd=fds[-1])
                if target.startswith("/"):
                    try:
                        inside = PurePosixPath(os.path.normpath(target)).relative_to(self.root)
                    except ValueError:
                        raise WorkspaceError(f"{path!r} is outside the workspace") from None
                    while stack:
                        stack.pop()
                        os.close(fds.pop())
                    target = inside.as_posix()
                todo.extend(reversed(_components(target)))
                continue
            if last:
                return Located(fds[-1], name, (*stack, name))
            if not stat.S_ISDIR(info.st_mode):
                raise WorkspaceError(f"{path!r}: {'/'.join((*stack, name))} is not a folder")
            try:
                fd = os.open(name, _DIR_FLAGS, dir_fd=fds[-1])
            except OSError as exc:
                # ELOOP / ENOTDIR: it became a symlink (or a file) since the stat: look again.
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and retries < MAX_RETRIES:
                    retries += 1
                    todo.append(name)
                    continue
                raise
            fds.append(fd)
            stack.append(name)
        return Located(fds[-1], None, tuple(stack))

    # -- files ---------------------------------------------------------------

    def open_regular(self, folder_fd: int, name: str, shown: str) -> tuple[int, os.stat_result]:
        """Open the regular file `name` in `folder_fd` for reading; anything else
        (a folder, a FIFO, a device, a symlink swapped in) is refused."""
        info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        _check_regular(info, shown)  # before opening: a device is never even opened
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=folder_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise WorkspaceError(f"{shown!r} changed while being opened") from None
            raise
        try:
            info = os.fstat(fd)
            _check_regular(info, shown)
        except BaseException:
            os.close(fd)
            raise
        return fd, info

    def open_folder(self, located: Located, shown: str) -> int:
        """A new descriptor of the folder `located` leads to."""
        if located.name is None:
            return os.dup(located.folder_fd)
        try:
            return os.open(located.name, _DIR_FLAGS, dir_fd=located.folder_fd)
        except NotADirectoryError:
            raise WorkspaceError(f"{shown!r} is not a folder") from None
        except FileNotFoundError:
            raise WorkspaceError(f"{shown!r} does not exist") from None

    def replace(self, located: Located, data: bytes, shown: str) -> bool:
        """Write `data` to a temporary file beside the target and move it over the
        target; True if a file was replaced."""
        if located.name is None:
            raise WorkspaceError(f"{shown!r} is a folder")
        folder, name = located.folder_fd, located.name
        try:
            old = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            old = None
        if old is not None and stat.S_ISDIR(old.st_mode):
            raise WorkspaceError(f"{shown!r} is a folder")
        if old is not None and not stat.S_ISREG(old.st_mode):
            raise WorkspaceError(f"{shown!r} is not a regular file: not replaced")
        temp = f".{secrets.token_hex(8)}.desktop-agent.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(temp, flags, 0o666, dir_fd=folder)
        try:
            try:
                if old is not None:
                    os.fchmod(fd, stat.S_IMODE(old.st_mode))
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=folder)
            raise
        return old is not None

    # -- walking a tree ------------------------------------------------------

    def regular_files(
        self, folder_fd: int, prefix: str, skip: frozenset[str], depth: int = 0
    ) -> Iterator[tuple[int, str, str]]:
        """(folder descriptor, name, relative path) of the files under `folder_fd`,
        sorted, folders after files, symlinks not followed; an entry that cannot be
        read is left out."""
        try:
            with os.scandir(folder_fd) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            return
        folders = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in skip:
                        folders.append(entry.name)
                elif entry.is_file(follow_symlinks=False):
                    yield folder_fd, entry.name, prefix + entry.name
            except OSError:
                continue
        if depth >= 64:
            return
        for name in folders:
            try:
                fd = os.open(name, _DIR_FLAGS, dir_fd=folder_fd)
            except OSError:
                continue
            try:
                yield from self.regular_files(fd, f"{prefix}{name}/", skip, depth + 1)
            finally:
                os.close(fd)


def _check_regular(info: os.stat_result, shown: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise WorkspaceError(f"{shown!r} is not a file")
    if not stat.S_ISREG(info.st_mode):
        raise WorkspaceError(
            f"{shown!r} is not a regular file (a pipe, socket or device): not read"
        )


def read_at_most(fd: int, limit: int) -> bytes:
    """Up to `limit` bytes from `fd`'s current position."""
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
