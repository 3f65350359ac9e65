"""Splitting a document into passages to index: by headings and paragraphs, each
passage at most `max_chars` characters, with its place (line range, or PDF page)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..storage.projects import Passage

__all__ = ["MAX_CHARS", "split_pages", "split_text"]

#: Longest passage (characters); paragraphs are merged up to it, longer ones cut.
MAX_CHARS = 1200
#: Shorter paragraphs are merged with the next ones (same heading).
MIN_CHARS = 300

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*\S)\s*#*\s*$")


def _blocks(lines: list[str]) -> Iterator[tuple[int, int, str, bool]]:
    """(first line, last line, text, starts with a heading) of each paragraph
    (1-based line numbers); a heading line starts a new block."""
    start: int | None = None
    current: list[str] = []
    heading = False
    for number, line in enumerate(lines, 1):
        is_heading = bool(_HEADING.match(line))
        if not line.strip() or is_heading:
            if current and start is not None:
                yield start, number - 1, "\n".join(current), heading
                current, start = [], None
            if not is_heading:
                continue
        if start is None:
            start, heading = number, is_heading
        current.append(line)
    if current and start is not None:
        yield start, len(lines), "\n".join(current), heading


def _cut(first: int, text: str, max_chars: int) -> Iterator[tuple[int, int, str]]:
    """A block longer than `max_chars` cut at line ends (a very long line at
    `max_chars`)."""
    lines = text.split("\n")
    piece: list[str] = []
    piece_start = first
    size = 0
    for offset, line in enumerate(lines):
        number = first + offset
        while len(line) > max_chars:
            if piece:
                yield piece_start, number - 1 if number > piece_start else number, "\n".join(piece)
                piece, size = [], 0
            yield number, number, line[:max_chars]
            line = line[max_chars:]
            piece_start = number
        if piece and size + len(line) + 1 > max_chars:
            yield piece_start, number - 1, "\n".join(piece)
            piece, size = [], 0
        if not piece:
            piece_start = number
        piece.append(line)
        size += len(line) + 1
    if piece and "".join(piece).strip():
        yield piece_start, first + len(lines) - 1, "\n".join(piece)


def split_text(text: str, *, page: int | None = None, max_chars: int = MAX_CHARS) -> list[Passage]:
    """Passages of a text: paragraphs merged up to `max_chars` (never across a
    heading), each with its line range (or, for a PDF page, `page`)."""
    lines = text.splitlines()
    passages: list[Passage] = []
    heading = ""
    parts: list[str] = []
    start = end = 0

    def flush() -> None:
        nonlocal parts
        if parts:
            body = "\n\n".join(parts)
            if page is None:
                passages.append(Passage(body, start, end, None, heading))
            else:
                passages.append(Passage(body, None, None, page, heading))
        parts = []

    for first, last, block, is_heading in _blocks(lines):
        if is_heading:
            flush()
            match = _HEADING.match(block.split("\n", 1)[0])
            heading = match.group(1)[:200] if match else heading
        size = sum(len(p) + 2 for p in parts)
        if parts and (size + len(block) > max_chars or size >= MIN_CHARS):
            flush()
        if len(block) > max_chars:
            flush()
            for a, b, piece in _cut(first, block, max_chars):
                start, end, parts = a, b, [piece]
                flush()
            continue
        if not parts:
            start = first
        parts.append(block)
        end = last
    flush()
    return passages


def split_pages(pages: list[str], *, max_chars: int = MAX_CHARS) -> list[Passage]:
    """Passages of a PDF's pages (numbered from 1); a passage never spans pages."""
    out: list[Passage] = []
    for number, text in enumerate(pages, 1):
        out += split_text(text, page=number, max_chars=max_chars)
    return out
