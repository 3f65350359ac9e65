"""Projects reach the model: the real openai client against the scripted server,
through a real Session with its SQLite history and a real index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop_agent.app.session import Session
from desktop_agent.providers.local import EmbeddedEngine, LocalModel
from tests.support.corpus import write_corpus
from tests.support.scripted_server import Reply, ScriptedServer


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return tmp_path


async def open_session(server: ScriptedServer, **kwargs: Any) -> Session:
    session = Session.open(
        base_url=server.base_url, model="scripted-large", use_mcp=False, **kwargs
    )
    await session.start(start_mcp=False)
    return session


def system_of(body: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")


async def test_the_tool_finds_the_passage_and_the_citation_opens_it(tmp_path: Path) -> None:
    questions = write_corpus(tmp_path / "corpus", 30)
    question, answer_file = next(iter(questions.items()))
    async with ScriptedServer() as server:
        session = await open_session(server)
        try:
            projects = session.projects
            assert projects is not None
            project = projects.create("Depot", instructions="Always answer in French.")
            projects.index(project.id, [tmp_path / "corpus"])
            session.start_in_project("c-1", project.id)
            call = json.dumps({"query": question})
            server.add(
                Reply(tool_calls=[["call_1", "search_knowledge", call]]),
                Reply("See the notes."),
            )
            handle = session.conversations.send("c-1", question)
            await handle.wait()
            first, second = server.requests
            assert "Always answer in French." in system_of(first.body)
            assert "search_knowledge" in [t["function"]["name"] for t in first.body["tools"]]
            [result] = [m for m in second.body["messages"] if m["role"] == "tool"]
            text = result["content"]
            lines = answer_file.read_text().splitlines()
            fact = next(line for line in lines if "spare keys" in line)
            assert fact in text.split("\n[2]")[0]  # the first passage holds the answer
            assert f"file: {answer_file.name}, line" in text
            link = next(w for w in text.split() if w.startswith("knowledge:"))
            resolved = projects.resolve(link)
            assert resolved is not None
            path, anchor = resolved
            assert path == answer_file
            start, end = (int(x) for x in anchor.removeprefix("L").split("-L"))
            assert fact in lines[start - 1 : end]  # the link opens the file at the passage
            assert session.store is not None
            assert session.store.conversation("c-1").project_id == project.id
        finally:
            await session.aclose()


async def test_instructions_follow_the_conversation_in_and_out(tmp_path: Path) -> None:
    async with ScriptedServer() as server:
        server.add(Reply("one"), Reply("two"), Reply("three"))
        session = await open_session(server)
        try:
            projects = session.projects
            assert projects is not None
            project = projects.create("Poems", instructions="Answer in rhyme.")
            await session.conversations.send("c-1", "first").wait()
            projects.move("c-1", project.id)
            await session.conversations.send("c-1", "second").wait()
            projects.move("c-1", None)
            await session.conversations.send("c-1", "third").wait()
        finally:
            await session.aclose()
    first, second, third = (r.body for r in server.requests)
    assert "rhyme" not in system_of(first)
    assert all(t["function"]["name"] != "search_knowledge" for t in first.get("tools", []))
    assert "Answer in rhyme." in system_of(second)
    assert "search_knowledge" in [t["function"]["name"] for t in second["tools"]]
    assert "rhyme" not in system_of(third)
    assert all(t["function"]["name"] != "search_knowledge" for t in third.get("tools", []))


class _ServerEngine(EmbeddedEngine):
    """The embedded engine's place taken by the scripted server (no llama.cpp here):
    `LocalModel` runs as it does for a model without a function-calling format."""

    def __init__(self, url: str, path: Path) -> None:
        path.write_bytes(b"GGUF")
        super().__init__(path)
        self.url = url

    async def ensure_running(self) -> str:
        return self.url


async def test_a_model_without_tools_gets_the_passages_in_the_request(tmp_path: Path) -> None:
    questions = write_corpus(tmp_path / "corpus", 20, seed=3)
    question, answer_file = list(questions.items())[5]
    fact = next(line for line in answer_file.read_text().splitlines() if "spare keys" in line)
    async with ScriptedServer() as server:
        server.add(Reply("Locker."))
        engine = _ServerEngine(server.base_url, tmp_path / "tiny.gguf")
        model = LocalModel(engine)
        assert model.supports_tools is False
        session = await open_session(server, model_factory=lambda config: model)
        try:
            projects = session.projects
            assert projects is not None
            project = projects.create("Depot", instructions="Be brief.")
            projects.index(project.id, [tmp_path / "corpus"])
            session.start_in_project("c-1", project.id)
            await session.conversations.send("c-1", question).wait()
        finally:
            await session.aclose()
    [request] = server.requests
    assert "tools" not in request.body
    system = system_of(request.body)
    assert "Be brief." in system and fact in system
    assert f"file: {answer_file.name}" in system
    # the passages are not kept in the history: the user's message is as typed
    assert request.body["messages"][-1] == {"role": "user", "content": question}


async def test_a_projects_tool_set_limits_its_conversations_only(tmp_path: Path) -> None:
    async with ScriptedServer() as server:
        server.add(Reply("in"), Reply("out"))
        session = await open_session(server)
        try:
            projects = session.projects
            assert projects is not None
            everything = {t.name for t in session.all_tools()}
            assert {"calculator", "current_time"} <= everything
            project = projects.create("Sums")
            projects.update(project.id, tools=["calculator"])
            session.start_in_project("c-1", project.id)
            await session.conversations.send("c-1", "1+1?").wait()
            await session.conversations.send("c-2", "elsewhere").wait()
        finally:
            await session.aclose()
    inside, outside = (r.body for r in server.requests)
    assert sorted(t["function"]["name"] for t in inside["tools"]) == [
        "calculator",
        "search_knowledge",
    ]
    assert {t["function"]["name"] for t in outside["tools"]} == everything


async def test_hybrid_ranking_finds_what_bm25_cannot(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / "home").mkdir(exist_ok=True)
    (home / "home" / "settings.json").write_text(
        json.dumps({"knowledge": {"embedding_model": "embed-small"}})
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "garage.md").write_text("The automobile is parked in bay seven.\n")
    for n in range(12):
        (docs / f"other{n}.md").write_text(f"Filler note {n} about parking meters and bays.\n")
    async with ScriptedServer() as server:
        server.synonyms = {"automobile": "car", "car": "car", "vehicle": "car"}
        session = await open_session(server)
        try:
            projects = session.projects
            assert projects is not None and projects.embedding_model == "embed-small"
            project = projects.create("Garage")
            projects.index(project.id, [docs])
            assert projects.search(project.id, "where is my car") == []  # no word matches
            assert await projects.embed(project.id) == 13
            assert await projects.embed(project.id) == 0  # only what has no vector yet
            [best, *_] = await projects.asearch(project.id, "where is my car")
            assert best.path == str(docs / "garage.md")
            # a file changed: its new passage gets a vector at the next embed, the old one
            # went with its passage
            (docs / "garage.md").write_text("The vehicle moved to bay nine.\n")
            projects.rescan(project.id)
            assert await projects.embed(project.id) == 1
            vectors = projects.store._db.execute("SELECT COUNT(*) FROM passage_vectors")
            assert vectors.fetchone()[0] == 13  # the changed file's old vector went
            [best, *_] = await projects.asearch(project.id, "where is my car")
            assert "bay nine" in best.text
            # through the engine: the tool's request carries the passage found by vectors
            session.start_in_project("c-1", project.id)
            call = json.dumps({"query": "where is my car"})
            server.add(Reply(tool_calls=[["c1", "search_knowledge", call]]), Reply("Bay nine."))
            await session.conversations.send("c-1", "Where is my car?").wait()
            [tool] = [m for m in server.requests[-1].body["messages"] if m["role"] == "tool"]
            assert "file: garage.md, line 1" in tool["content"].split("\n[2]")[0]
            # an endpoint without that model: BM25 answers alone, nothing breaks
            projects.embedding_model = "missing-model"
            assert await projects.asearch(project.id, "bay nine vehicle") != []
        finally:
            await session.aclose()
    assert [len(b["input"]) for b in server.embedding_requests[:2]] == [13, 1]
