"""The conversation operations every surface calls (app/conversations.py): a real
SQLite store and recorder, a scripted model, no Qt."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.app.session import Session
from desktop_agent.storage import Store
from desktop_agent.testing import ScriptedModel


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    model = ScriptedModel(["first answer", "second answer", "third answer"], loop=True)
    session = Session(ConnectionConfig(kind="openai"), store=Store(tmp_path / "history.db"))
    await session.start(model=model)
    yield session
    await session.aclose()


def texts(session: Session, conversation_id: str) -> list[tuple[str, str]]:
    assert session.store is not None
    return [(m.role, m.content) for m in session.store.path(conversation_id)]


def said(session: Session, conversation_id: str) -> list[str]:
    """What the orchestrator will send for the conversation (no system prompt)."""
    messages = session.orchestrator.messages(conversation_id)
    return [str(m["content"]) for m in messages if m["role"] != "system"]


async def test_send_records_the_conversation(session: Session) -> None:
    handle = session.conversations.send("c-1", "hello")
    events = [e async for e in handle.events()]
    assert events[-1].type.value == "done"  # type: ignore[union-attr]
    assert texts(session, "c-1") == [("user", "hello"), ("assistant", "first answer")]


async def test_edit_makes_a_new_version_and_switching_goes_back(session: Session) -> None:
    await session.conversations.send("c-1", "hello").wait()
    assert session.store is not None
    first_user = session.store.path("c-1")[0].id
    await session.conversations.edit("c-1", first_user, "hello again").wait()
    assert texts(session, "c-1") == [("user", "hello again"), ("assistant", "second answer")]
    assert said(session, "c-1") == [
        "hello again",
        "second answer",
    ]
    edited = session.store.path("c-1")[0].id
    assert session.conversations.switch_version("c-1", edited, -1)
    assert texts(session, "c-1") == [("user", "hello"), ("assistant", "first answer")]
    assert said(session, "c-1") == [
        "hello",
        "first answer",
    ]


async def test_regenerate_answers_the_last_message_again(session: Session) -> None:
    await session.conversations.send("c-1", "hello").wait()
    assert session.store is not None
    user = session.store.path("c-1")[0].id
    handle = session.conversations.regenerate("c-1", user)
    assert handle is not None
    await handle.wait()
    assert texts(session, "c-1") == [("user", "hello"), ("assistant", "second answer")]
    answer = session.store.path("c-1")[1].id
    assert session.conversations.switch_version("c-1", answer, -1)
    assert texts(session, "c-1")[1] == ("assistant", "first answer")


async def test_rename_delete_undo_and_export(session: Session) -> None:
    await session.conversations.send("c-1", "hello").wait()
    assert session.store is not None
    session.conversations.rename("c-1", "Greetings")
    assert session.store.conversation("c-1").title == "Greetings"  # type: ignore[union-attr]
    assert session.conversations.delete("c-1")
    assert session.store.conversation("c-1") is None
    assert session.conversations.undo_delete() == "c-1"
    assert session.conversations.undo_delete() is None
    markdown = session.conversations.export("c-1", "md")
    assert "Greetings" in markdown and "first answer" in markdown
    data = session.conversations.export("c-1", "json")
    assert "Greetings" in json.dumps(json.loads(data))
    with pytest.raises(LookupError):
        session.conversations.export("c-unknown")


async def test_a_conversation_continues_from_the_history(tmp_path: Path) -> None:
    """A new session (a restarted `serve`) that is sent a known conversation id
    continues it: the model sees the stored messages."""
    store_file = tmp_path / "history.db"
    first = Session(ConnectionConfig(kind="openai"), store=Store(store_file))
    await first.start(model=ScriptedModel(["one"]))
    await first.conversations.send("kept", "remember 7").wait()
    await first.aclose()
    model = ScriptedModel(["two"])
    second = Session(ConnectionConfig(kind="openai"), store=Store(store_file))
    await second.start(model=model)
    await second.conversations.send("kept", "what number?").wait()
    await second.aclose()
    assert [m["content"] for m in model.requests[0]][1:] == ["remember 7", "one", "what number?"]


async def test_without_a_store_nothing_is_kept(tmp_path: Path) -> None:
    session = Session(ConnectionConfig(kind="openai"))
    await session.start(model=ScriptedModel(["hi"]))
    await session.conversations.send("c-1", "hello").wait()
    assert not session.conversations.delete("c-1")
    with pytest.raises(LookupError):
        session.conversations.export("c-1")
    await session.aclose()
