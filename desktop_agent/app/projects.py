"""Projects for every surface: conversations grouped with their own instructions,
default provider and a searchable knowledge base.

`Projects` (on a session's store) creates, lists, changes and removes projects,
moves conversations in and out, indexes files and folders (`index`, `rescan`: on
the caller's thread — the window runs them on a worker) and searches. For a
conversation in a project, `ConversationActions.prepare` asks it for the system
prompt (the session's, then the project's instructions) and the `search_knowledge`
tool; for a model that cannot call tools, `context_for` gives the passages that
best match the user's message, added to that request's system prompt.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..engine import Tool, tool
from ..storage import Store
from ..storage.projects import KnowledgeFile, PassageHit, Project, ProjectStore
from .knowledge import IndexReport, Progress, index_paths, rescan

if TYPE_CHECKING:
    from .embeddings import Embedder
    from .providers import ConnectionConfig

__all__ = ["SEARCH_TOOL", "Projects", "citation", "format_hits", "is_remote"]

#: The tool's name, as the model sees it.
SEARCH_TOOL = "search_knowledge"
#: Passages a search returns (the tool and the no-tools fallback).
TOP_K = 5
#: Characters of one passage given to the model at most.
PASSAGE_CHARS = 1500


def citation(hit: PassageHit) -> str:
    """The source of a passage as a link target: `knowledge:FILE_ID/NAME#PLACE`
    (the window opens it at that place)."""
    name = quote(Path(hit.path).name)
    anchor = f"#{hit.anchor}" if hit.anchor else ""
    return f"knowledge:{hit.file_id}/{name}{anchor}"


def format_hits(hits: Sequence[PassageHit], query: str) -> str:
    """Passages as the model reads them: numbered, each with its file, place and
    citation link."""
    if not hits:
        return f"No passage in the project's files matches {query!r}."
    lines = [
        f"Passages from the project's files for {query!r}, best first. Cite a passage "
        "you use as a Markdown link: [file, place](citation).",
    ]
    for number, hit in enumerate(hits, 1):
        place = f", {hit.location}" if hit.location else ""
        text = hit.text if len(hit.text) <= PASSAGE_CHARS else hit.text[:PASSAGE_CHARS] + " …"
        lines.append(
            f"\n[{number}] file: {Path(hit.path).name}{place}\n"
            f"path: {hit.path}\ncitation: {citation(hit)}\n---\n{text}"
        )
    return "\n".join(lines)


def is_remote(config: ConnectionConfig | None) -> str | None:
    """The host passages are sent to when the provider is not on this computer
    (None: local, or the embedded model)."""
    if config is None or config.kind == "local":
        return None
    from urllib.parse import urlparse

    host = urlparse(config.base_url or "").hostname or ""
    if not host or host in ("localhost", "::1") or host.startswith("127."):
        return None
    return host


class Projects:
    """The projects of a session's history database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = ProjectStore(store)
        #: Where queries and passages are embedded (a model with `embed`, e.g. the
        #: session's `OpenAIClient`) and with which model; None: BM25 alone.
        self.embedder: Embedder | None = None
        self.embedding_model: str | None = None

    # -- projects -----------------------------------------------------------------

    def create(self, name: str, *, instructions: str = "") -> Project:
        return self.db.create(name, instructions=instructions)

    def all(self) -> list[Project]:
        return self.db.all()

    def get(self, project_id: str) -> Project | None:
        return self.db.get(project_id)

    def find(self, name: str) -> Project | None:
        return self.db.find(name)

    def named(self, name: str) -> Project:
        """The project named `name`; `LookupError` naming the known ones otherwise."""
        project = self.db.find(name)
        if project is None:
            known = ", ".join(p.name for p in self.db.all()) or "none yet"
            raise LookupError(f"No project named {name!r} (projects: {known}).")
        return project

    def update(self, project_id: str, **fields: Any) -> None:
        self.db.update(project_id, **fields)

    def remove(self, project_id: str, *, delete_conversations: bool = False) -> list[str]:
        return self.db.remove(project_id, delete_conversations=delete_conversations)

    def move(self, conversation_id: str, project_id: str | None) -> None:
        self.db.move(conversation_id, project_id)

    def project_of(self, conversation_id: str) -> Project | None:
        return self.db.project_of(conversation_id)

    def conversations(self, project_id: str) -> list[str]:
        return self.db.conversations(project_id)

    # -- knowledge ----------------------------------------------------------------

    def files(self, project_id: str, *, limit: int | None = None) -> list[KnowledgeFile]:
        """By path; with `limit`, the skipped ones first."""
        return self.db.files(project_id, limit=limit)

    def count_files(self, project_id: str) -> int:
        return self.db.count_files(project_id)

    def sources(self, project_id: str) -> list[str]:
        return [path for _, path in self.db.sources(project_id)]

    def remove_source(self, project_id: str, path: str) -> None:
        self.db.remove_source(project_id, path)

    def index(
        self,
        project_id: str,
        paths: Sequence[str | Path],
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        """Add files or folders and index them (blocking: run it on a worker thread
        in the window)."""
        return index_paths(self.store.file, project_id, paths, progress=progress, cancel=cancel)

    def rescan(
        self,
        project_id: str,
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        return rescan(self.store.file, project_id, progress=progress, cancel=cancel)

    def search(
        self,
        project_id: str,
        query: str,
        *,
        limit: int = TOP_K,
        query_vector: Sequence[float] | None = None,
    ) -> list[PassageHit]:
        """Best passages first, from a connection of its own (any thread): BM25, fused
        with vector similarity when `query_vector` is given and the project has vectors
        of `embedding_model`."""
        from .embeddings import CANDIDATES, fuse, has_vectors, hits_by_number, vector_search

        store = Store(self.store.file, session=False)
        try:
            db = ProjectStore(store)
            model = self.embedding_model
            if query_vector is None or model is None or not has_vectors(db, project_id, model):
                return db.search(project_id, query, limit=limit)
            bm25 = db.search(project_id, query, limit=CANDIDATES)
            near = vector_search(db, project_id, model, query_vector)
            order = fuse([[h.n for h in bm25], near], limit=limit)
            found = {h.n: h for h in bm25}
            found.update(hits_by_number(db, [n for n in order if n not in found]))
            return [found[n] for n in order if n in found]
        finally:
            store.close()

    async def asearch(self, project_id: str, query: str, *, limit: int = TOP_K) -> list[PassageHit]:
        """`search`, hybrid when the query can be embedded (else BM25 alone), off the
        loop."""
        import asyncio

        from ..engine.model import ModelError

        vector = None
        if self.embedder is not None and self.embedding_model:
            try:
                [vector] = await self.embedder.embed([query], self.embedding_model)
            except (ModelError, ValueError):
                vector = None  # the endpoint has no embeddings: BM25 answers
        return await asyncio.to_thread(
            self.search, project_id, query, limit=limit, query_vector=vector
        )

    async def embed(
        self, project_id: str, *, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Embed the passages that have no vector yet (with `embedder`); how many."""
        from .embeddings import embed_project

        if self.embedder is None or not self.embedding_model:
            raise LookupError("No embedding model is set (settings: knowledge.embedding_model).")
        return await embed_project(
            self.store.file, project_id, self.embedder, self.embedding_model, progress=progress
        )

    def resolve(self, link: str) -> tuple[Path, str] | None:
        """A citation link (`knowledge:FILE_ID/NAME#PLACE`) → the indexed file it
        names and the place ("L3-L9", "page=2", ""); None for anything else (a file
        not in any project's index, a malformed link)."""
        scheme, colon, rest = link.partition(":")
        if scheme != "knowledge" or not colon:
            return None
        target, _, anchor = rest.partition("#")
        file_id = target.split("/", 1)[0]
        if not file_id.isdigit():
            return None
        row = self.store._db.execute(
            "SELECT path FROM knowledge_files WHERE id = ? AND status = 'indexed'",
            (int(file_id),),
        ).fetchone()
        if row is None:
            return None
        if anchor and not re.fullmatch(r"L\d{1,9}-L\d{1,9}|page=\d{1,6}", anchor):
            anchor = ""
        return Path(row[0]), anchor

    # -- what a conversation in a project gets --------------------------------------

    def system_prompt(self, base: str | None, project: Project) -> str:
        """The session's system prompt, then the project's instructions."""
        parts = [p for p in (base or "", _instructions(project)) if p]
        return "\n\n".join(parts)

    def search_tool(self, project: Project) -> Tool:
        """`search_knowledge` over this project's files."""
        project_id, name = project.id, project.name

        @tool(
            f"Search the files of the project {name!r} (its knowledge base) and return "
            "the passages that best match, with their file, place and a citation link.",
            name=SEARCH_TOOL,
            timeout=30,
        )
        async def search_knowledge(query: str) -> str:
            """
            Args:
                query: what to look for: a question or the words the passage would hold.
            """
            return format_hits(await self.asearch(project_id, query), query)

        return search_knowledge

    def context_for(self, project: Project, message: str) -> str:
        """For a model that cannot call tools: the passages best matching `message`,
        as text for the system prompt ("" when none match)."""
        hits = self.search(project.id, message)
        if not hits:
            return ""
        return (
            "The user's project has files; these passages from them may help answer the "
            "next message.\n\n" + format_hits(hits, message)
        )


def _instructions(project: Project) -> str:
    text = project.instructions.strip()
    if not text:
        return ""
    return f"Instructions of the project {project.name!r}:\n{text}"
