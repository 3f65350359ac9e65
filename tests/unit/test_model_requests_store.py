"""Schema 5 (context): the model_requests table, migrated onto a version-2 database with
data, and written by the recorder from the engine's events."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from desktop_agent import Agent
from desktop_agent.engine.compaction import ContextKeeper
from desktop_agent.engine.context import ContextPolicy
from desktop_agent.engine.dispatcher import EventDispatcher
from desktop_agent.storage import Store
from desktop_agent.storage.model_requests import (
    context_settings,
    requests_of,
    set_context_settings,
    totals,
)
from desktop_agent.storage.recorder import Recorder
from desktop_agent.storage.schema import _V2_SEARCH, _V2_TABLES, SCHEMA_VERSION
from desktop_agent.testing import ScriptedModel, Turn


def test_migration_from_version_2_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    old = sqlite3.connect(path)
    old.executescript(_V2_TABLES + _V2_SEARCH)
    old.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at, leaf_id) "
        "VALUES ('c1', 'Kept', 1, 1, 'm2')"
    )
    old.execute(
        "INSERT INTO messages (id, conversation_id, parent_id, role, content, "
        "prompt_tokens, completion_tokens, created_at, updated_at) VALUES "
        "('m1', 'c1', NULL, 'user', 'hello there', NULL, NULL, 1, 1), "
        "('m2', 'c1', 'm1', 'assistant', 'hi', 12, 3, 2, 2)"
    )
    old.execute("PRAGMA user_version = 2")
    old.commit()
    old.close()

    store = Store(path)
    assert store.version == SCHEMA_VERSION == 5
    assert (tmp_path / "history.db.v2.bak").exists()
    assert [(m.role, m.content) for m in store.path("c1")] == [
        ("user", "hello there"),
        ("assistant", "hi"),
    ]
    assert store.path("c1")[1].prompt_tokens == 12
    assert [h.conversation_id for h in store.search("hello")] == ["c1"]
    assert requests_of(store, "c1") == [] and totals(store, "c1").requests == 0
    assert context_settings(store, "c1") is None  # the new column, empty
    set_context_settings(store, "c1", {"reserve": 300, "strategy": "off"})
    assert context_settings(store, "c1") == {"reserve": 300, "strategy": "off"}
    store.close()


def test_recorder_stores_what_was_sent_and_used(tmp_path: Path) -> None:
    async def main() -> None:
        store = Store(tmp_path / "history.db")
        dispatcher = EventDispatcher()
        recorder = Recorder(store, dispatcher)
        recorder.start()
        turns = [Turn(text=f"answer {i} " + "z" * 300) for i in range(12)]
        model = ScriptedModel(turns)
        keeper = ContextKeeper(ContextPolicy(window=700, reserve=100, strategy="drop_oldest"))
        agent = Agent("sys", model=model, dispatcher=dispatcher, context=keeper)
        state = None
        for i in range(12):
            state = await agent.handle_message(f"question {i} " + "q" * 300, state, tenant_id="c1")
        recorder.stop()
        rows = requests_of(store, "c1")
        assert len(rows) == 12
        assert all(r.context_window == 700 and r.tokens is not None for r in rows)
        assert all(r.tokens <= 600 for r in rows)
        assert rows[0].dropped == 0 and rows[-1].dropped > 0  # the marker's count, stored
        assert all(r.answer_id for r in rows)
        assert all(r.estimated and r.completion_tokens for r in rows)  # counted: no usage
        sums = totals(store, "c1")
        assert sums.requests == 12 and sums.estimated
        assert sums.completion_tokens == sum(r.completion_tokens or 0 for r in rows)
        assert sums.cost is None
        # the history keeps everything
        assert len(store.path("c1")) == 24
        store.close()

    asyncio.run(main())
