"""Reading the start of a GGUF file: the magic, the version, and a few metadata keys
(the architecture and its trained context length), with hard bounds on what a
hostile file can make us read."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["GGUFError", "GGUFInfo", "read_gguf"]

MAGIC = b"GGUF"
#: versions llama.cpp reads (1 is long obsolete but still has the magic)
VERSIONS = (2, 3)
MAX_KEYS = 4096  # a real file has dozens
MAX_STRING = 1 << 20
#: the metadata we look for comes before the tokenizer's big arrays; stop reading here
MAX_SCAN = 64 << 20

# GGUF value types -> struct format (fixed-size ones)
_FIXED = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


class GGUFError(ValueError):
    """Not a GGUF file, or one we cannot read."""


class _Reader:
    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.read_bytes = 0

    def take(self, n: int) -> bytes:
        self.read_bytes += n
        if self.read_bytes > MAX_SCAN:
            raise GGUFError("metadata too large")
        data = self.handle.read(n)
        if len(data) != n:
            raise GGUFError("the file ends inside its header")
        return data

    def unpack(self, fmt: str) -> Any:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        length = self.unpack("Q")
        if length > MAX_STRING:
            raise GGUFError("a metadata string is implausibly long")
        return self.take(length).decode("utf-8", errors="replace")

    def value(self, kind: int, depth: int = 0) -> Any:
        if kind in _FIXED:
            return self.unpack(_FIXED[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY and depth == 0:
            item_kind, count = self.unpack("I"), self.unpack("Q")
            if item_kind in _FIXED:  # skipped, not parsed
                size = struct.calcsize(_FIXED[item_kind]) * count
                self.take_skip(size)
                return None
            for _ in range(count):
                self.value(item_kind, depth + 1)
            return None
        raise GGUFError(f"unknown metadata type {kind}")

    def take_skip(self, n: int) -> None:
        self.read_bytes += n
        if self.read_bytes > MAX_SCAN:
            raise GGUFError("metadata too large")
        self.handle.seek(n, 1)


class GGUFInfo:
    def __init__(self, version: int, metadata: dict[str, Any]) -> None:
        self.version = version
        self.metadata = metadata

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def context_length(self) -> int | None:
        value = self.metadata.get(f"{self.architecture}.context_length")
        return int(value) if isinstance(value, int) and value > 0 else None

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", ""))


def check_magic(path: Path) -> int:
    """The GGUF version of `path`; `GGUFError` unless it starts with a GGUF header."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise GGUFError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(head) < 8 or head[:4] != MAGIC:
        raise GGUFError(f"{path.name} is not a GGUF model file")
    version = int(struct.unpack("<I", head[4:])[0])
    if version not in VERSIONS:
        raise GGUFError(f"{path.name} is GGUF version {version}; llama.cpp reads 2 and 3")
    return version


def read_gguf(path: Path, wanted: tuple[str, ...] = ()) -> GGUFInfo:
    """The header of `path` and its metadata up to the keys we need (`general.*` and
    `*.context_length`, plus `wanted`)."""
    version = check_magic(path)
    metadata: dict[str, Any] = {}
    with path.open("rb") as handle:
        handle.seek(8)
        reader = _Reader(handle)
        try:
            reader.unpack("Q")  # tensor count
            keys = reader.unpack("Q")
            if keys > MAX_KEYS:
                raise GGUFError(f"{path.name} claims {keys} metadata keys")
            for _ in range(keys):
                key = reader.string()
                value = reader.value(reader.unpack("I"))
                if value is not None and (
                    key.startswith("general.") or key.endswith(".context_length") or key in wanted
                ):
                    metadata[key] = value
                arch = metadata.get("general.architecture")
                if arch and f"{arch}.context_length" in metadata and not wanted:
                    break
        except (GGUFError, struct.error) as exc:
            if not metadata:
                raise GGUFError(f"{path.name}: unreadable GGUF metadata ({exc})") from None
    return GGUFInfo(version, metadata)
