"""The records of projects and their knowledge, and the question -> FTS5 query rule."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["KnowledgeFile", "Passage", "PassageHit", "Project", "knowledge_query"]


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str
    instructions: str = ""
    provider_id: str | None = None
    model: str | None = None
    #: The built-in tools its conversations have (None: the session's own).
    tools: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class KnowledgeFile:
    id: int
    source_id: int
    path: str
    mtime: float
    size: int
    sha256: str | None
    #: "indexed" or "skipped" (then `reason` says why).
    status: str
    reason: str | None
    passages: int


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of a file to index: its text and where it is (lines, or a PDF page)."""

    text: str
    line_start: int | None = None
    line_end: int | None = None
    page: int | None = None
    heading: str = ""


@dataclass(frozen=True, slots=True)
class PassageHit:
    """A passage found by a search, with its file and place."""

    file_id: int
    path: str
    text: str
    line_start: int | None
    line_end: int | None
    page: int | None
    heading: str
    score: float
    #: The passage's number in the index.
    n: int = 0

    @property
    def location(self) -> str:
        """Where it is, for people: "page 3", "lines 10-24"."""
        if self.page is not None:
            return f"page {self.page}"
        if self.line_start is not None:
            if self.line_end is not None and self.line_end != self.line_start:
                return f"lines {self.line_start}-{self.line_end}"
            return f"line {self.line_start}"
        return ""

    @property
    def anchor(self) -> str:
        """The place as a URL fragment: "page=3" or "L10-L24"."""
        if self.page is not None:
            return f"page={self.page}"
        if self.line_start is not None:
            return f"L{self.line_start}-L{self.line_end or self.line_start}"
        return ""


_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "you",
        "your",
    }
)


def knowledge_query(text: str, *, max_terms: int = 32) -> str:
    """A question → an FTS5 query: any of its words (BM25 ranks passages holding more
    of the rarer ones first); "" when nothing is left to look for."""
    words: list[str] = []
    for word in re.findall(r"\w+", text.lower()):
        if len(word) < 2 or word in _STOPWORDS or word in words:
            continue
        words.append(word)
        if len(words) >= max_terms:
            break
    return " OR ".join(f'"{w}"' for w in words)
