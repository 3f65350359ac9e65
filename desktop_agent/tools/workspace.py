"""Files in a workspace folder the user chose: list, read, search, write.

Every path the model gives is relative to the workspace and opened one component
at a time from the workspace's own descriptor, never letting the kernel follow a
symlink (see `beneath`): `..` past the top, an absolute path, a symlink pointing
out — refused, also when a folder is swapped for a symlink while a tool runs.
Symlinks that stay inside are followed (read lexically, checked step by step).
Only regular files are read (a FIFO or a device is refused, never opened for a
read that could block). Reads and searches have size limits, binary files are
described, not dumped, and a listing or search skips an entry it cannot read
instead of failing.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from pathlib import Path

from ..engine import Tool, tool
from ..engine.text import scrub
from .beneath import Beneath, Located, WorkspaceError, read_at_most

__all__ = ["Workspace", "WorkspaceError", "workspace_tools"]

MAX_READ_BYTES = 256 * 1024
MAX_LIST_ENTRIES = 500
MAX_SEARCH_MATCHES = 200
MAX_SEARCH_FILE_BYTES = 2 * 1024 * 1024
MAX_WRITE_BYTES = 1024 * 1024
_SKIP_DIRS = frozenset(
    {".git", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".ruff_cache"}
)


def _is_binary(head: bytes) -> bool:
    return b"\0" in head


def _relative_path(path: str) -> str:
    """`path` as given, refused if absolute."""
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise WorkspaceError(f"{path!r} is an absolute path: give a path inside the workspace")
    return path


class Workspace:
    """A folder the tools may touch, and nothing outside it."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise WorkspaceError(f"the workspace folder {self.root} does not exist")
        self._beneath = Beneath(self.root)

    def list(self, path: str = ".") -> str:
        shown = _relative_path(path)
        with self._beneath.locate(shown) as located:
            fd = self._beneath.open_folder(located, shown)
            prefix = "/".join(located.parts)
        try:  # (entries of a scandir by descriptor stat through that descriptor)
            with os.scandir(fd) as listing:
                rows = sorted(
                    self._describe(entry, f"{prefix}/{entry.name}" if prefix else entry.name)
                    for entry in listing
                )
        finally:
            os.close(fd)
        lines = [line for _, _, line in rows[:MAX_LIST_ENTRIES]]
        if len(rows) > MAX_LIST_ENTRIES:
            lines.append(f"… and {len(rows) - MAX_LIST_ENTRIES:,} more")
        return "\n".join(lines) if lines else "(empty folder)"

    def _describe(self, entry: os.DirEntry[str], inside: str) -> tuple[bool, str, str]:
        """(not a folder, sort name, line) for one entry of a listing (an undecodable
        byte of the name shown as U+FFFD)."""
        name = scrub(entry.name)
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                with self._beneath.locate(inside) as located:
                    if located.name is None:
                        info = os.fstat(located.folder_fd)
                    else:
                        info = os.stat(
                            located.name, dir_fd=located.folder_fd, follow_symlinks=False
                        )
        except WorkspaceError:
            return True, name.lower(), f"{name} -> (outside the workspace)"
        except OSError as exc:
            if entry.is_symlink():
                return True, name.lower(), f"{name} -> (broken link)"
            return True, name.lower(), f"{name}  (unreadable: {exc.strerror})"
        if stat.S_ISDIR(info.st_mode):
            return False, name.lower(), f"{name}/"
        if stat.S_ISREG(info.st_mode):
            return True, name.lower(), f"{name}  ({info.st_size:,} bytes)"
        return True, name.lower(), f"{name}  (not a regular file)"

    def read(self, path: str, offset: int = 0) -> str:
        shown = _relative_path(path)
        with self._beneath.locate(shown) as located:
            fd, info = self._open_file(located, shown)
        try:
            head = os.read(fd, 8192)
            if _is_binary(head):
                return f"{located.relative} is a binary file ({info.st_size:,} bytes); not shown"
            os.lseek(fd, max(0, offset), os.SEEK_SET)
            data = read_at_most(fd, MAX_READ_BYTES)
        finally:
            os.close(fd)
        size = info.st_size
        text = data.decode("utf-8", errors="replace")
        end = max(0, offset) + len(data)
        if end < size:
            text += (
                f"\n\n[… truncated: showed bytes {max(0, offset):,}-{end:,} of {size:,}; "
                f"read on with offset={end}]"
            )
        return text

    def _open_file(self, located: Located, shown: str) -> tuple[int, os.stat_result]:
        if located.name is None:
            raise WorkspaceError(f"{shown!r} is not a file")
        try:
            return self._beneath.open_regular(located.folder_fd, located.name, shown)
        except FileNotFoundError:
            raise WorkspaceError(f"{shown!r} does not exist") from None

    def search(self, query: str, glob: str = "*") -> str:
        if not query:
            raise WorkspaceError("the search text is empty")
        needle = query.lower()
        matches: list[str] = []
        root_fd = self._beneath.open_root()
        try:
            for folder_fd, name, relative in self._beneath.regular_files(root_fd, "", _SKIP_DIRS):
                if not fnmatch.fnmatch(name, glob):
                    continue
                data = self._read_for_search(folder_fd, name, relative)
                if data is None:
                    continue
                for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
                    if needle in line.lower():
                        found = f"{relative}:{number}: {line.strip()[:200]}"
                        matches.append(scrub(found))
                        if len(matches) >= MAX_SEARCH_MATCHES:
                            matches.append(f"[… stopped at {MAX_SEARCH_MATCHES} matches]")
                            return "\n".join(matches)
        finally:
            os.close(root_fd)
        return "\n".join(matches) if matches else f"no line contains {query!r}"

    def _read_for_search(self, folder_fd: int, name: str, relative: str) -> bytes | None:
        """The file's bytes, or None for one too big, binary, gone or unreadable."""
        try:
            fd, info = self._beneath.open_regular(folder_fd, name, relative)
        except (WorkspaceError, OSError):
            return None
        try:
            if info.st_size > MAX_SEARCH_FILE_BYTES:
                return None
            data = read_at_most(fd, MAX_SEARCH_FILE_BYTES)
        except OSError:
            return None
        finally:
            os.close(fd)
        return None if _is_binary(data[:8192]) else data

    def write(self, path: str, content: str) -> str:
        data = content.encode("utf-8")
        if len(data) > MAX_WRITE_BYTES:
            raise WorkspaceError(
                f"refusing to write {len(data):,} bytes (limit {MAX_WRITE_BYTES:,})"
            )
        shown = _relative_path(path)
        with self._beneath.locate(shown, create_folders=True) as located:
            replaced = self._beneath.replace(located, data, shown)
        verb = "replaced" if replaced else "created"
        return f"{verb} {located.relative} ({len(data):,} bytes)"


def workspace_tools(root: Path | str) -> list[Tool]:
    """list_files, read_file, search_files and write_file (side effect) on `root`."""
    space = Workspace(root)

    @tool("List a folder of the workspace")
    def list_files(path: str = ".") -> str:
        """
        Args:
            path: a folder relative to the workspace ("." for its top).
        """
        return space.list(path)

    @tool("Read a text file of the workspace")
    def read_file(path: str, offset: int = 0) -> str:
        """
        Args:
            path: the file, relative to the workspace.
            offset: where to start reading, in bytes (to continue a long file).
        """
        return space.read(path, offset)

    @tool("Search the workspace's text files for lines containing some text")
    def search_files(query: str, glob: str = "*") -> str:
        """
        Args:
            query: the text to find (case-insensitive).
            glob: only files whose name matches, such as "*.py".
        """
        return space.search(query, glob)

    @tool("Create or replace a file in the workspace", side_effects=True)
    def write_file(path: str, content: str) -> str:
        """
        Args:
            path: the file, relative to the workspace.
            content: the whole new content of the file.
        """
        return space.write(path, content)

    return [list_files, read_file, search_files, write_file]
