"""Files in a workspace folder the user chose: list, read, search, write.

Every path the model gives is relative to the workspace and resolved (symlinks
included) before use; anything that ends up outside it — `..`, an absolute path,
a symlink pointing out — is refused. Reads and searches have size limits, and
binary files are described, not dumped.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from ..engine import Tool, tool

__all__ = ["Workspace", "WorkspaceError", "workspace_tools"]

MAX_READ_BYTES = 256 * 1024
MAX_LIST_ENTRIES = 500
MAX_SEARCH_MATCHES = 200
MAX_SEARCH_FILE_BYTES = 2 * 1024 * 1024
MAX_WRITE_BYTES = 1024 * 1024
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".ruff_cache"}


class WorkspaceError(ValueError):
    """A path outside the workspace, or a request past a limit (the message says which)."""


def _is_binary(head: bytes) -> bool:
    return b"\0" in head


class Workspace:
    """A folder the tools may touch, and nothing outside it."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise WorkspaceError(f"the workspace folder {self.root} does not exist")

    def resolve(self, path: str) -> Path:
        """The real path of `path` (relative to the workspace), refused if outside it."""
        if not path or path in (".", "./"):
            return self.root
        given = Path(path)
        if (
            given.is_absolute()
            or path.startswith(("/", "\\"))
            or (len(path) > 1 and path[1] == ":")
        ):
            raise WorkspaceError(f"{path!r} is an absolute path: give a path inside the workspace")
        real = (self.root / given).resolve()
        if real != self.root and not real.is_relative_to(self.root):
            raise WorkspaceError(f"{path!r} is outside the workspace")
        return real

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() or "."

    def list(self, path: str = ".") -> str:
        folder = self.resolve(path)
        if not folder.is_dir():
            raise WorkspaceError(f"{path!r} is not a folder")
        lines = []
        entries = sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name.lower()))
        for entry in entries[:MAX_LIST_ENTRIES]:
            try:
                real = entry.resolve()
                inside = real == self.root or real.is_relative_to(self.root)
            except OSError:
                inside = False
            if not inside:
                lines.append(f"{entry.name} -> (outside the workspace)")
            elif entry.is_dir():
                lines.append(f"{entry.name}/")
            else:
                lines.append(f"{entry.name}  ({entry.stat().st_size:,} bytes)")
        if len(entries) > MAX_LIST_ENTRIES:
            lines.append(f"… and {len(entries) - MAX_LIST_ENTRIES:,} more")
        return "\n".join(lines) if lines else "(empty folder)"

    def read(self, path: str, offset: int = 0) -> str:
        file = self.resolve(path)
        if not file.is_file():
            raise WorkspaceError(f"{path!r} is not a file")
        size = file.stat().st_size
        with file.open("rb") as handle:
            head = handle.read(8192)
            if _is_binary(head):
                return f"{self.relative(file)} is a binary file ({size:,} bytes); not shown"
            handle.seek(max(0, offset))
            data = handle.read(MAX_READ_BYTES)
        text = data.decode("utf-8", errors="replace")
        end = max(0, offset) + len(data)
        if end < size:
            text += (
                f"\n\n[… truncated: showed bytes {max(0, offset):,}-{end:,} of {size:,}; "
                f"read on with offset={end}]"
            )
        return text

    def search(self, query: str, glob: str = "*") -> str:
        if not query:
            raise WorkspaceError("the search text is empty")
        needle = query.lower()
        matches: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for name in sorted(filenames):
                if not fnmatch.fnmatch(name, glob):
                    continue
                file = Path(dirpath) / name
                if file.is_symlink() or file.stat().st_size > MAX_SEARCH_FILE_BYTES:
                    continue
                data = file.read_bytes()
                if _is_binary(data[:8192]):
                    continue
                for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
                    if needle in line.lower():
                        matches.append(f"{self.relative(file)}:{number}: {line.strip()[:200]}")
                        if len(matches) >= MAX_SEARCH_MATCHES:
                            matches.append(f"[… stopped at {MAX_SEARCH_MATCHES} matches]")
                            return "\n".join(matches)
        return "\n".join(matches) if matches else f"no line contains {query!r}"

    def write(self, path: str, content: str) -> str:
        data = content.encode("utf-8")
        if len(data) > MAX_WRITE_BYTES:
            raise WorkspaceError(
                f"refusing to write {len(data):,} bytes (limit {MAX_WRITE_BYTES:,})"
            )
        file = self.resolve(path)
        if file == self.root or file.is_dir():
            raise WorkspaceError(f"{path!r} is a folder")
        file.parent.mkdir(parents=True, exist_ok=True)
        existed = file.exists()
        file.write_bytes(data)
        return f"{'replaced' if existed else 'created'} {self.relative(file)} ({len(data):,} bytes)"


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
