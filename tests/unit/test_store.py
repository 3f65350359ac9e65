"""The SQLite store: round trip, versions, paging, search, migration, export/import."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from desktop_agent.storage import Store, StoreError
from desktop_agent.storage.export import ConversationFormatError, from_json, to_json, to_markdown
from desktop_agent.storage.schema import SCHEMA_VERSION

FIXTURE = Path(__file__).resolve().parents[1] / "support" / "history-v1.sql"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "history.db")
    yield s  # type: ignore[misc]
    s.close()


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    store = Store(path)
    conv = store.create_conversation(model="gpt-4o-mini", system_prompt="Be brief.")
    store.add_message(conv, "user", "What is 6 × 7?")
    calls = [{"id": "call_1", "name": "calculator", "arguments": '{"expression": "6*7"}'}]
    store.add_message(
        conv, "assistant", "", message_id="msg_1", reasoning="Use the tool.", tool_calls=calls
    )
    store.add_message(conv, "tool", "42", tool_call_id="call_1", tool_name="calculator")
    store.add_message(conv, "assistant", "It is **42**.", message_id="msg_2")
    store.update_message("msg_2", prompt_tokens=12, completion_tokens=5)
    store.close()

    again = Store(path)
    [meta] = again.conversations()
    assert meta.title == "What is 6 × 7?"  # from the first message
    assert (meta.model, meta.system_prompt) == ("gpt-4o-mini", "Be brief.")
    path_ = again.path(conv)
    assert [m.role for m in path_] == ["user", "assistant", "tool", "assistant"]
    assert path_[1].tool_calls == calls and path_[1].reasoning == "Use the tool."
    assert (path_[3].prompt_tokens, path_[3].completion_tokens) == (12, 5)
    assert again.model_messages(conv) == [
        {"role": "user", "content": "What is 6 × 7?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'},
                }
            ],
            "reasoning": "Use the tool.",
        },
        {"role": "tool", "content": "42", "tool_call_id": "call_1"},
        {"role": "assistant", "content": "It is **42**."},
    ]
    assert again.version == SCHEMA_VERSION
    assert again._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()


def test_edits_and_regenerations_are_versions(store: Store) -> None:
    conv = store.create_conversation()
    first = store.add_message(conv, "user", "Hi")
    answer_1 = store.add_message(conv, "assistant", "Hello!")
    # Regenerate: a second answer to the same message.
    store.set_leaf(conv, first)
    answer_2 = store.add_message(conv, "assistant", "Hey there!")
    shown = store.path(conv)
    assert [m.content for m in shown] == ["Hi", "Hey there!"]
    assert store.versions(shown) == {answer_2: (2, 2)}
    # Edit the first message: a root-level sibling with its own answers.
    store.set_leaf(conv, None)
    edited = store.add_message(conv, "user", "Hello")
    store.add_message(conv, "assistant", "Hi! How can I help?")
    assert [m.content for m in store.path(conv)] == ["Hello", "Hi! How can I help?"]
    assert store.versions(store.path(conv))[edited] == (2, 2)
    # ◀ on the edited message: back to the first version and its latest answer.
    assert store.switch_version(edited, -1) == first
    assert [m.content for m in store.path(conv)] == ["Hi", "Hey there!"]
    assert store.switch_version(answer_2, -1) == answer_1
    assert [m.content for m in store.path(conv)] == ["Hi", "Hello!"]
    assert store.switch_version(answer_1, -1) is None  # nothing before the first
    assert len(store.messages(conv)) == 5  # nothing was overwritten


def test_pages_walk_up_from_the_latest(store: Store) -> None:
    conv = store.create_conversation()
    for i in range(120):
        store.add_message(conv, "user" if i % 2 == 0 else "assistant", f"message {i}")
    latest, more = store.page(conv, limit=50)
    assert [m.content for m in latest] == [f"message {i}" for i in range(70, 120)]
    assert more
    older, more = store.page(conv, before=latest[0].id, limit=50)
    assert [m.content for m in older] == [f"message {i}" for i in range(20, 70)]
    assert more
    oldest, more = store.page(conv, before=older[0].id, limit=50)
    assert [m.content for m in oldest] == [f"message {i}" for i in range(20)]
    assert not more


def test_search_finds_titles_and_message_text(store: Store) -> None:
    trip = store.create_conversation()
    store.add_message(trip, "user", "Plan a trip to Kyoto")
    store.add_message(trip, "assistant", "Visit the Fushimi Inari shrine early.")
    code = store.create_conversation()
    store.add_message(code, "user", "Explain Python generators")
    store.add_message(code, "assistant", "A generator yields values lazily; see itertools.")
    gone = store.create_conversation()
    store.add_message(gone, "user", "Kyoto again, deleted")
    store.delete(gone)

    assert [h.conversation_id for h in store.search("kyoto")] == [trip]  # title
    [hit] = store.search("fushimi shr")  # words of a message, as prefixes
    assert hit.conversation_id == trip and "[Fushimi]" in hit.snippet
    assert [h.conversation_id for h in store.search("itertool")] == [code]
    assert store.search("nothing-like-this") == []
    assert store.search('"quoted" AND (') == []  # user text is never FTS syntax
    store.rename(code, "Generators, explained")
    assert [h.conversation_id for h in store.search("explained")] == [code]
    store.restore(gone)
    assert {h.conversation_id for h in store.search("kyoto")} == {trip, gone}


def test_delete_is_undoable_until_purged(store: Store) -> None:
    conv = store.create_conversation(title="Keep me?")
    store.add_message(conv, "user", "x")
    store.delete(conv)
    assert store.conversations() == []
    store.restore(conv)
    assert [c.id for c in store.conversations()] == [conv]
    store.delete(conv)
    assert store.purge_deleted() == 1
    assert store.conversation(conv, include_deleted=True) is None
    assert store._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


def test_migration_from_version_1_keeps_everything_and_backs_up(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    old = sqlite3.connect(path)
    old.executescript(FIXTURE.read_text())
    before = list(old.iterdump())
    old.close()

    store = Store(path)
    assert store.version == SCHEMA_VERSION
    backup = sqlite3.connect(tmp_path / "history.db.v1.bak")
    assert list(backup.iterdump()) == before  # the version-1 data, as it was
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 1
    backup.close()
    titles = [c.title for c in store.conversations()]
    assert titles == ["SQLite window functions", "Trip to Kyoto"]
    trip = [m.content for m in store.path("c-trip")]
    assert trip == [
        "Plan three days in Kyoto in autumn.",
        "Day 1: Fushimi Inari at dawn, then Gion.",
        "Where to see the maple leaves?",
        "Tofuku-ji and Eikando: go early, it gets crowded.",
    ]
    assert [m.role for m in store.path("c-sql")] == ["user", "assistant"]
    assert [h.conversation_id for h in store.search("maple")] == ["c-trip"]  # indexed
    store.add_message("c-sql", "user", "And LEAD()?")  # and it goes on from there
    assert store.path("c-sql")[-1].content == "And LEAD()?"
    store.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StoreError, match="newer desktop-agent"):
        Store(path)


def test_a_damaged_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot be opened"):
        Store(path)


def test_export_and_import_round_trip(store: Store) -> None:
    conv = store.create_conversation(model="m", system_prompt="Be brief.")
    first = store.add_message(conv, "user", "Hi")
    store.add_message(conv, "assistant", "Hello!")
    store.set_leaf(conv, first)
    calls = [{"id": "c1", "name": "calculator", "arguments": "{}"}]
    store.add_message(conv, "assistant", "", tool_calls=calls, reasoning="hmm")
    store.add_message(conv, "tool", "```x```", tool_call_id="c1", tool_name="calculator")
    store.add_message(conv, "assistant", "Done.", status="cancelled")

    data = json.loads(json.dumps(to_json(store, conv)))
    copy = from_json(store, data)
    assert copy != conv
    strip = ("id", "parent_id", "conversation_id", "created_at")

    def shape(conversation_id: str) -> list[tuple[object, ...]]:
        return [
            tuple(v for k, v in vars_(m).items() if k not in strip)
            for m in store.messages(conversation_id)
        ]

    assert shape(copy) == shape(conv)  # every version, every field
    assert [m.content for m in store.path(copy)] == [m.content for m in store.path(conv)]
    markdown = to_markdown(store, conv)
    assert markdown.startswith("# Hi\n")
    assert "## Assistant" in markdown and "*(cancelled)*" in markdown
    assert "````\n```x```\n````" in markdown  # a fence longer than the content's
    assert "Hello!" not in markdown  # only the shown version


def vars_(message: object) -> dict[str, object]:
    return {name: getattr(message, name) for name in message.__slots__}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"format": "other"}, "not a desktop-agent conversation"),
        ({"format": "desktop-agent.conversation", "version": 9}, "unsupported"),
        (
            {"format": "desktop-agent.conversation", "version": 1, "conversation": {}},
            "no messages",
        ),
        (
            {
                "format": "desktop-agent.conversation",
                "version": 1,
                "conversation": {},
                "messages": [{"id": "a", "role": "robot"}],
            },
            "no valid role",
        ),
    ],
)
def test_import_refuses_what_it_cannot_read(store: Store, data: object, error: str) -> None:
    with pytest.raises(ConversationFormatError, match=error):
        from_json(store, data)
    assert store.conversations() == []  # nothing half-imported


def test_a_conversation_with_many_matches_does_not_hide_the_others(store: Store) -> None:
    others = []
    for i in range(3):
        conv = store.create_conversation(title=f"Router {i}", created_at=1_000 + i)
        store.add_message(conv, "user", f"restart the router {i}", created_at=1_000 + i)
        others.append(conv)
    busy = store.create_conversation(title="Busy")
    with store.batch():
        for i in range(300):
            store.add_message(busy, "user", f"restart attempt {i}")
    hits = store.search("restart", limit=10)
    assert [h.conversation_id for h in hits] == [busy, *reversed(others)]
    assert hits[0].snippet == "[restart] attempt 299"  # its latest matching message


def test_import_is_all_or_nothing(store: Store) -> None:
    data = {
        "format": "desktop-agent.conversation",
        "version": 1,
        "conversation": {"title": "half"},
        "messages": [{"id": "a", "role": "user", "content": "ok"}, {"id": "b", "role": "?"}],
    }
    with pytest.raises(ConversationFormatError):
        from_json(store, data)
    assert store._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    assert store._db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 0
