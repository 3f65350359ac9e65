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


async def test_regenerate_any_answer_makes_a_version_under_the_same_parent(
    session: Session,
) -> None:
    await session.conversations.send("c-1", "one").wait()
    await session.conversations.send("c-1", "two").wait()
    store = session.store
    assert store is not None
    first_answer = store.path("c-1")[1]
    assert first_answer.content == "first answer"
    handle = session.conversations.regenerate_answer("c-1", first_answer.id)
    assert handle is not None
    await handle.wait()
    path = store.path("c-1")
    assert texts(session, "c-1") == [("user", "one"), ("assistant", "third answer")]
    assert path[1].parent_id == first_answer.parent_id and path[1].id != first_answer.id
    assert store.versions(path)[path[1].id] == (2, 2)
    assert said(session, "c-1") == ["one", "third answer"]
    # The earlier answer and what followed it are still a version away.
    assert session.conversations.switch_version("c-1", path[1].id, -1)
    assert [c for _r, c in texts(session, "c-1")] == ["one", "first answer", "two", "second answer"]
    # Only stored answers of this conversation.
    user = store.path("c-1")[0].id
    assert session.conversations.regenerate_answer("c-1", user) is None
    assert session.conversations.regenerate_answer("c-2", first_answer.id) is None


async def test_delete_from_cuts_softly_keeps_other_versions_and_undoes(
    session: Session,
) -> None:
    conv = session.conversations
    await conv.send("c-1", "one").wait()
    await conv.send("c-1", "two").wait()
    store = session.store
    assert store is not None
    one, first, two, second = store.path("c-1")
    await conv.regenerate_answer("c-1", second.id).wait()  # type: ignore[union-attr]
    third = store.path("c-1")[3]
    assert conv.delete_from("c-1", two.id) == 3  # "two", both its answers
    assert texts(session, "c-1") == [("user", "one"), ("assistant", "first answer")]
    assert said(session, "c-1") == ["one", "first answer"]
    assert store.conversation("c-1") is not None and store.conversation("c-1").leaf_id == first.id  # type: ignore[union-attr]
    assert [m.id for m in store.messages("c-1")] == [one.id, first.id]
    assert [c.id for c in store.conversations()] == ["c-1"]  # the holder is not listed
    assert store.search("two") == []  # nor found
    # Undo: everything back, the path as it was.
    assert conv.next_undo() == "messages"
    assert conv.undo() == ("messages", "c-1")
    assert [m.id for m in store.path("c-1")] == [one.id, first.id, two.id, third.id]
    assert store.versions(store.path("c-1"))[third.id] == (2, 2)
    assert said(session, "c-1")[-1] == "third answer"
    assert conv.undo() is None

    # Deleting an answer: its other version (a sibling) stays, the path ends at the
    # user message; a new answer then is a third version.
    assert conv.delete_from("c-1", third.id) == 1
    assert [m.id for m in store.path("c-1")] == [one.id, first.id, two.id]
    assert {m.id for m in store.messages("c-1")} >= {second.id}
    handle = conv.regenerate("c-1", two.id)
    assert handle is not None
    await handle.wait()
    new = store.path("c-1")[-1]
    assert store.versions([new])[new.id] == (2, 2)  # second answer + the new one


async def test_delete_from_is_refused_while_answering_and_purged_at_the_next_start(
    session: Session,
) -> None:
    from desktop_agent.app.conversations import ConversationBusyError

    conv = session.conversations
    await conv.send("c-1", "one").wait()
    store = session.store
    assert store is not None
    user = store.path("c-1")[0].id
    handle = conv.send("c-1", "two")
    with pytest.raises(ConversationBusyError, match="answering"):
        conv.delete_from("c-1", user)
    await handle.wait()
    assert len(store.path("c-1")) == 4  # nothing was cut
    assert conv.delete_from("c-1", "no-such-id") == 0
    assert conv.delete_from("c-1", user) == 4
    assert store.path("c-1") == []
    # Conversation deletes and message deletes undo newest first.
    conv.delete("c-1")
    assert conv.next_undo() == "conversation"
    assert conv.undo() == ("conversation", "c-1")
    assert conv.next_undo() == "messages"
    store.purge_deleted()  # (what the next start does): the cut messages are gone
    assert store.messages("c-1") == []
    assert conv.undo() is None
    assert store.path("c-1") == []
