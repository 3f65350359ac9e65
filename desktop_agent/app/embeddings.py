"""Embeddings for a project's passages, where the provider offers `/v1/embeddings`,
and hybrid ranking: BM25 and vector similarity fused by reciprocal rank.

Vectors are stored normalised (float32) per passage with the embedding model's name;
a search uses them only when the project has vectors of the session's embedding
model and the query could be embedded (else BM25 alone: offline, no model needed).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from ..storage import Store
from ..storage.projects import PassageHit, ProjectStore

__all__ = ["Embedder", "embed_project", "fuse", "pack", "vector_search"]

#: Passages per `/v1/embeddings` request.
BATCH = 64
#: Candidates each ranking gives the fusion.
CANDIDATES = 30
#: Reciprocal rank fusion's constant (Cormack et al. 2009).
RRF_K = 60


class Embedder(Protocol):
    async def embed(self, texts: Sequence[str], model: str) -> list[list[float]]: ...


def pack(vector: Sequence[float]) -> bytes:
    """A vector as stored: unit length, float32."""
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return array("f", (x / norm for x in vector)).tobytes()


def _unpack(blob: bytes) -> array[float]:
    values = array("f")
    values.frombytes(blob)
    return values


async def embed_project(
    db: Path,
    project_id: str,
    embedder: Embedder,
    model: str,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Embed the project's passages that have no vector of `model` yet; how many were
    embedded. Raises the embedder's error (no such endpoint or model)."""
    store = Store(db, session=False)
    try:
        rows = store._db.execute(
            "SELECT p.n, p.text FROM passages p JOIN knowledge_files f ON f.id = p.file_id "
            "WHERE f.project_id = ? AND NOT EXISTS (SELECT 1 FROM passage_vectors v "
            "WHERE v.n = p.n AND v.model = ?) ORDER BY p.n",
            (project_id, model),
        ).fetchall()
        done = 0
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            vectors = await embedder.embed([r[1] for r in chunk], model)
            if len(vectors) != len(chunk):
                raise ValueError("the embeddings endpoint answered for fewer passages")
            with store.batch() as db_:
                db_.executemany(
                    "INSERT OR REPLACE INTO passage_vectors (n, model, vector) VALUES (?, ?, ?)",
                    [(r[0], model, pack(v)) for r, v in zip(chunk, vectors, strict=True)],
                )
            done += len(chunk)
            if progress is not None:
                progress(done, len(rows))
        return done
    finally:
        store.close()


def has_vectors(projects: ProjectStore, project_id: str, model: str) -> bool:
    row = projects._db.execute(
        "SELECT 1 FROM passage_vectors v JOIN passages p ON p.n = v.n "
        "JOIN knowledge_files f ON f.id = p.file_id WHERE f.project_id = ? AND v.model = ? "
        "LIMIT 1",
        (project_id, model),
    ).fetchone()
    return row is not None


def vector_search(
    projects: ProjectStore,
    project_id: str,
    model: str,
    query: Sequence[float],
    *,
    limit: int = CANDIDATES,
) -> list[int]:
    """The passages (numbers) nearest to `query` by cosine, best first."""
    q = _unpack(pack(query))
    rows = projects._db.execute(
        "SELECT v.n, v.vector FROM passage_vectors v JOIN passages p ON p.n = v.n "
        "JOIN knowledge_files f ON f.id = p.file_id WHERE f.project_id = ? AND v.model = ?",
        (project_id, model),
    ).fetchall()
    rows = [(int(n), blob) for n, blob in rows if len(blob) == 4 * len(q)]
    try:
        import numpy as np  # optional: ~100x faster on large projects
    except ImportError:
        scored = sorted(
            ((sum(a * b for a, b in zip(q, _unpack(blob), strict=True)), n) for n, blob in rows),
            reverse=True,
        )
        return [n for _score, n in scored[:limit]]
    if not rows:
        return []
    matrix = np.frombuffer(b"".join(blob for _n, blob in rows), dtype=np.float32)
    scores = matrix.reshape(len(rows), len(q)) @ np.asarray(q, dtype=np.float32)
    best = np.argsort(-scores)[:limit]
    return [rows[int(i)][0] for i in best]


def hits_by_number(projects: ProjectStore, numbers: Sequence[int]) -> dict[int, PassageHit]:
    if not numbers:
        return {}
    marks = ",".join("?" * len(numbers))
    rows = projects._db.execute(
        "SELECT p.n, f.id AS file_id, f.path, p.text, p.line_start, p.line_end, p.page, "
        f"p.heading FROM passages p JOIN knowledge_files f ON f.id = p.file_id "
        f"WHERE p.n IN ({marks})",
        list(numbers),
    ).fetchall()
    return {
        int(r["n"]): PassageHit(
            r["file_id"],
            r["path"],
            r["text"],
            r["line_start"],
            r["line_end"],
            r["page"],
            r["heading"],
            0.0,
            int(r["n"]),
        )
        for r in rows
    }


def fuse(rankings: Sequence[Sequence[Any]], *, limit: int) -> list[Any]:
    """Reciprocal rank fusion: items ranked well in any ranking first."""
    scores: dict[Any, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (RRF_K + rank + 1)
    return sorted(scores, key=lambda item: -scores[item])[:limit]
