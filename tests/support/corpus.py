"""A generated knowledge corpus: files of filler prose, each holding facts only it
states, with labelled questions (question -> the file that answers it)."""

from __future__ import annotations

import random
from pathlib import Path

_FILLER = [
    "system",
    "report",
    "meeting",
    "value",
    "process",
    "result",
    "method",
    "data",
    "team",
    "review",
    "plan",
    "change",
    "budget",
    "project",
    "summary",
    "order",
    "field",
    "model",
    "office",
    "market",
    "policy",
    "customer",
    "service",
    "quality",
    "network",
    "record",
    "account",
    "schedule",
    "update",
    "version",
    "library",
    "section",
    "detail",
    "research",
    "design",
    "program",
    "support",
    "release",
    "country",
    "history",
    "future",
    "region",
    "analysis",
]
_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "ze",
    "pa",
    "qu",
    "de",
    "fi",
    "go",
    "hu",
    "ja",
]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(4))


def _paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_FILLER) for _ in range(words)).capitalize() + "."


def write_corpus(
    folder: Path, files: int, *, seed: int = 7, paragraphs: int = 6, words: int = 80
) -> dict[str, Path]:
    """Write `files` Markdown files under `folder` (in subfolders of 100); returns
    question -> the file whose passage answers it (one question per file)."""
    rng = random.Random(seed)
    questions: dict[str, Path] = {}
    used: set[str] = set()
    for n in range(files):
        sub = folder / f"part{n // 100:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"note{n:05d}.md"
        name = _word(rng)
        while name in used:
            name = _word(rng)
        used.add(name)
        code = rng.randint(1000, 9999)
        fact = (
            f"The warehouse {name} keeps its spare keys in locker {code}, "
            f"next to the {rng.choice(_FILLER)} desk."
        )
        body = [f"# Notes {n}"]
        where = rng.randrange(paragraphs)
        for i in range(paragraphs):
            body.append(_paragraph(rng, words))
            if i == where:
                body.append(fact)
        path.write_text("\n\n".join(body) + "\n", encoding="utf-8")
        questions[f"Where does warehouse {name} keep its spare keys?"] = path
    return questions
