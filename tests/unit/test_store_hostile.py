"""The store against hostile or damaged input: an imported file whose messages form
a cycle, and a database where one was written behind the store's back. Nothing
may hang or grow without bound (each test has a hard timeout: a hang is a
failure, not a stuck run)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from desktop_agent.storage import Store
from desktop_agent.storage.export import ConversationFormatError, from_json

# "thread": SQLite loops in C, where a signal-based timeout would never fire.
pytestmark = pytest.mark.timeout(10, method="thread")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "history.db")
    yield s  # type: ignore[misc]
    s.close()


def exported(messages: list[dict[str, Any]], leaf: str | None = None) -> dict[str, Any]:
    return {
        "format": "desktop-agent.conversation",
        "version": 1,
        "conversation": {"title": "hostile", "leaf_id": leaf},
        "messages": messages,
    }


def msg(id_: Any, parent: Any, role: str = "user") -> dict[str, Any]:
    return {"id": id_, "parent_id": parent, "role": role, "content": f"message {id_}"}


def nothing_written(store: Store) -> bool:
    db = store._db
    counts = [
        db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("messages", "conversations")
    ]
    return counts == [0, 0]


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([msg("a", "b"), msg("b", "a", "assistant")], "cycle"),
        ([msg("r", None), msg("a", "c"), msg("b", "a"), msg("c", "b")], "cycle"),
        ([msg("a", "a")], "its own parent"),
        ([msg("a", None), msg("b", "nowhere")], "unknown message"),
        ([msg("a", None), msg("a", "a", "assistant")], "twice"),
        ([msg(None, None)], "no id"),
        ([msg(["a"], None)], "no id"),
    ],
    ids=[
        "two-cycle",
        "three-cycle-under-a-root",
        "self-parent",
        "dangling",
        "duplicate",
        "none",
        "list",
    ],
)
def test_import_refuses_a_broken_tree_and_writes_nothing(
    store: Store, messages: list[dict[str, Any]], error: str
) -> None:
    with pytest.raises(ConversationFormatError, match=error):
        from_json(store, exported(messages, leaf=messages[-1]["id"] if messages else None))
    assert nothing_written(store)


def damaged(store: Store, length: int = 3) -> tuple[str, list[str]]:
    """A conversation root → … → leaf, then (as another program could) the root's
    parent set to the leaf behind the store's back: a cycle of `length`."""
    conv = store.create_conversation()
    ids = [
        store.add_message(conv, "user" if i % 2 == 0 else "assistant", f"m{i}")
        for i in range(length)
    ]
    with sqlite3.connect(store.file) as other:
        other.execute("UPDATE messages SET parent_id = ? WHERE id = ?", (ids[-1], ids[0]))
    return conv, ids


def test_a_cycle_in_the_database_gives_a_bounded_path(store: Store) -> None:
    conv, ids = damaged(store)
    path = store.path(conv)
    assert [m.id for m in path] == ids  # each message once, the walk cut at the repeat
    assert [m["content"] for m in store.model_messages(conv)] == ["m0", "m1", "m2"]
    page, more = store.page(conv, limit=50)
    assert [m.id for m in page] == ids and not more


def test_paging_a_long_cycle_stays_bounded(store: Store) -> None:
    conv, ids = damaged(store, length=30)
    page, more = store.page(conv, limit=10)
    assert [m.id for m in page] == ids[-10:] and more
    assert len(store.path(conv)) == 30


def test_switch_version_into_a_cycle_ends(store: Store) -> None:
    conv = store.create_conversation()
    first = store.add_message(conv, "user", "v1")
    answer = store.add_message(conv, "assistant", "a1")
    store.set_leaf(conv, None)
    store.add_message(conv, "user", "v2")
    # Behind the store's back: v1's answer becomes v1's parent (v1 → a1 → v1 → …).
    with sqlite3.connect(store.file) as other:
        other.execute("UPDATE messages SET parent_id = ? WHERE id = ?", (answer, first))
    # Walking down from v1 (its latest answer, and that one's...) goes round the loop.
    assert store.switch_version(first, 0) == first
    leaf = store.conversation(conv).leaf_id  # type: ignore[union-attr]
    assert leaf in (first, answer)
    assert len(store.path(conv)) <= 2
