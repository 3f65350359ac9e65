"""The window with its history: sidebar, switching mid-stream, long conversations,
versions, Ctrl+K, delete/undo, export, providers per conversation, keys."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt as QtNS

from desktop_agent.app.credentials import Credentials
from desktop_agent.app.providers import ConnectionConfig, Providers
from desktop_agent.gui.conversation import PAGE_SIZE
from desktop_agent.gui.window import MainWindow
from desktop_agent.storage import Store
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from desktop_agent.tools.basic import calculator
from tests.gui.conftest import Gui
from tests.support.scripted_server import Reply, ScriptedServer

Qt: Any = QtNS


class Models:
    """model_factory: a ScriptedModel per provider id, scripted by the test."""

    def __init__(self, gate: Gate | None = None, **turns: list[Turn | str]) -> None:
        self.turns = turns
        self.gate = gate
        self.made: dict[str, ScriptedModel] = {}

    def __call__(self, config: ConnectionConfig) -> ScriptedModel:
        turns = self.turns.get(config.id, [])
        model = (
            GatedModel(turns, model=config.model, gate=self.gate)
            if self.gate is not None
            else ScriptedModel(turns, model=config.model)
        )
        self.made[config.id] = model
        return model


class Gate:
    """Holds a model's answer after `after` chunks until the test opens it."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.opened = asyncio.Event()


class GatedModel(ScriptedModel):
    def __init__(self, turns: list[Turn | str], *, model: str, gate: Gate) -> None:
        super().__init__(turns, model=model)
        self.gate = gate

    async def stream_completion(self, messages, tools=None, *, timeouts=None):  # type: ignore[no-untyped-def]
        sent = 0
        async for chunk in super().stream_completion(messages, tools, timeouts=timeouts):
            if sent == self.gate.after:
                await self.gate.opened.wait()
            sent += 1
            yield chunk


@pytest.fixture
def history_db(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


def open_window(gui: Gui, db: Path, models: Models, **kwargs: Any) -> MainWindow:
    config = kwargs.pop("config", ConnectionConfig(kind="openai", model="main-model"))
    tools = kwargs.pop("tools", [calculator])
    window = MainWindow(
        config,
        tools=tools,
        frame_ms=16,
        model_factory=models,
        history=lambda: Store(db),
        **kwargs,
    )
    window.show()
    gui.run(window.start())
    return window


@pytest.fixture
def close_later(gui: Gui) -> Iterator[list[MainWindow]]:
    windows: list[MainWindow] = []
    yield windows
    for w in windows:
        if not w.closed.is_set():
            gui.run(w.shutdown())


def send(gui: Gui, window: MainWindow, text: str) -> None:
    gui.call(window.send, text)


def wait_idle(gui: Gui, window: MainWindow) -> None:
    gui.until(lambda: not window.busy, "the run to finish")


def test_conversations_are_recorded_and_listed(
    gui: Gui, history_db: Path, close_later: list[MainWindow]
) -> None:
    models = Models(
        default=[
            Turn(tool_calls=[ScriptedToolCall("calculator", {"expression": "6*7"})]),
            "It is 42.",
        ]
    )
    window = open_window(gui, history_db, models)
    close_later.append(window)
    send(gui, window, "What is 6 × 7?")
    wait_idle(gui, window)
    rows = window.sidebar.model.rows
    assert [r.title for r in rows] == ["What is 6 × 7?"]
    assert window.title_label.text() == "What is 6 × 7?"
    store = window.store
    assert store is not None
    assert [m.role for m in store.path(rows[0].id)] == ["user", "assistant", "tool", "assistant"]
    gui.run(window.shutdown())

    # A new session shows it in the sidebar and rebuilds it from the store.
    again = open_window(gui, history_db, Models())
    close_later.append(again)
    assert [r.title for r in again.sidebar.model.rows] == ["What is 6 × 7?"]
    gui.call(again.open_conversation, rows[0].id)
    text = again.transcript.toPlainText()
    assert "What is 6 × 7?" in text and "It is 42." in text and "calculator" in text


def test_switching_conversations_mid_stream_neither_stops_nor_loses_it(
    gui: Gui, history_db: Path, close_later: list[MainWindow]
) -> None:
    story = "".join(f"part {i}, " for i in range(300))
    gate = Gate(after=60)  # the story stops after "part 30," until the test says
    models = Models(gate, default=[Turn(text=story, chunk_size=6), "Short answer."])
    window = open_window(gui, history_db, models)
    close_later.append(window)
    send(gui, window, "Tell a long story")
    first = window.tenant_id
    gui.until(lambda: "part 20," in window.transcript.toPlainText(), "the story to start")
    gui.call(window.new_conversation)
    assert window.tenant_id != first and not window.busy
    assert window.sidebar.model.rows[0].live  # the story streams on, marked ●
    send(gui, window, "Something else")
    wait_idle(gui, window)
    assert "Short answer." in window.transcript.toPlainText()
    second = window.tenant_id

    gui.call(window.open_conversation, first)  # back while it still streams
    assert window.busy, "the story should still be streaming"
    shown = window.transcript.toPlainText()
    assert "part 20," in shown
    gate.opened.set()
    gui.until(lambda: not window.busy, "the story to finish")
    assert story.strip() in " ".join(window.transcript.toPlainText().split())
    store = window.store
    assert store is not None
    assert store.path(first)[-1].content == story  # recorded whole
    assert store.path(second)[-1].content == "Short answer."
    assert not any(r.live for r in window.sidebar.model.rows)


def fill(store: Store, count: int) -> str:
    conv = store.create_conversation(title="A very long conversation")
    for i in range(count):
        store.add_message(conv, "user" if i % 2 == 0 else "assistant", f"message number {i}")
    return conv


def test_a_long_conversation_opens_at_its_end_and_loads_older_pages_on_scroll(
    gui: Gui, history_db: Path, close_later: list[MainWindow]
) -> None:
    store = Store(history_db)
    conv = fill(store, 600)
    store.close()
    window = open_window(gui, history_db, Models())
    close_later.append(window)
    gui.call(window.open_conversation, conv)
    view = window.views.current
    entries = window.transcript.entries
    assert len(entries) >= PAGE_SIZE
    assert entries[-1].source == "message number 599"
    assert len(entries) < 600
    loaded = len(entries)
    bar = window.transcript.verticalScrollBar()

    async def scroll_to_top() -> None:
        bar.setValue(0)

    gui.run(scroll_to_top())
    gui.until(lambda: len(window.transcript.entries) > loaded, "an older page")
    sources = [e.source for e in window.transcript.entries]
    numbers = [int(s.rsplit(" ", 1)[1]) for s in sources]
    assert numbers == sorted(numbers) and numbers[-1] == 599  # in order, none twice
    assert numbers == list(range(numbers[0], 600))
    gui.until(lambda: bar.value() > 0, "the view to stay where the reader was")
    while view.has_more:
        gui.call(view.load_older)
    numbers = [int(e.source.rsplit(" ", 1)[1]) for e in window.transcript.entries]
    assert numbers == list(range(600))
    text = window.transcript.toPlainText()
    assert text.index("message number 0\n") < text.index("message number 599")


def test_regenerate_and_edit_make_versions(
    gui: Gui, history_db: Path, close_later: list[MainWindow]
) -> None:
    models = Models(default=["First answer.", "Second answer.", "Answer to the edit."])
    window = open_window(gui, history_db, models)
    close_later.append(window)
    send(gui, window, "Hi")
    wait_idle(gui, window)
    gui.call(window.runs.regenerate)
    wait_idle(gui, window)
    answer = window.transcript.last("assistant")
    assert answer is not None and answer.source == "Second answer."
    assert answer.versions == (2, 2)
    assert "◀" in window.transcript.toPlainText() and "2/2" in window.transcript.toPlainText()

    gui.call(window.runs.switch_version, answer.key, -1)  # ◀
    assert "First answer." in window.transcript.toPlainText()
    assert "Second answer." not in window.transcript.toPlainText()
    older = window.transcript.last("assistant")
    assert older is not None and older.versions == (1, 2)

    question = window.transcript.last("user")
    assert question is not None
    gui.call(window.runs.edit_message, question.key)
    assert window.composer.toPlainText() == "Hi"
    gui.call(window.send, "Hello")
    wait_idle(gui, window)
    user = window.transcript.last("user")
    assert user is not None and user.source == "Hello" and user.versions == (2, 2)
    assert window.transcript.toPlainText().count("Hello") == 1
    store = window.store
    assert store is not None
    assert [m.content for m in store.path(window.tenant_id)] == ["Hello", "Answer to the edit."]
    assert len(store.messages(window.tenant_id)) == 5  # nothing lost
    gui.call(window.runs.switch_version, user.key, -1)  # back to "Hi", with its latest answer
    assert [m.content for m in store.path(window.tenant_id)] == ["Hi", "Second answer."]
    assert "Second answer." in window.transcript.toPlainText()
    # The model is sent the version on screen.
    history = list(window.orchestrator.messages(window.tenant_id))  # type: ignore[union-attr]
    assert [m["content"] for m in history if m["role"] != "system"] == ["Hi", "Second answer."]


def test_an_interrupted_answer_is_shown_as_such(
    gui: Gui, history_db: Path, close_later: list[MainWindow]
) -> None:
    store = Store(history_db)
    conv = store.create_conversation()
    store.add_message(conv, "user", "Tell me everything")
    store.add_message(conv, "assistant", "Once upon a", status="interrupted")
    store.close()
    window = open_window(gui, history_db, Models())
    close_later.append(window)
    gui.call(window.open_conversation, conv)
    text = window.transcript.toPlainText()
    assert "Once upon a" in text
    assert "interrupted: the app closed while this answer was being written" in text


def test_delete_undo_rename_and_quick_switcher(
    gui: Gui, history_db: Path, close_later: list[MainWindow]
) -> None:
    store = Store(history_db)
    for title, said in [("Kyoto trip", "Fushimi Inari at dawn"), ("Taxes", "Form 1040")]:
        conv = store.create_conversation()
        store.add_message(conv, "user", title)
        store.add_message(conv, "assistant", said)
    store.close()
    window = open_window(gui, history_db, Models())
    close_later.append(window)
    rows = window.sidebar.model.rows
    assert [r.title for r in rows] == ["Taxes", "Kyoto trip"]
    taxes = rows[0].id

    gui.call(window.open_conversation, taxes)
    gui.call(window.conversations.delete, taxes)
    assert [r.title for r in window.sidebar.model.rows] == ["Kyoto trip"]
    assert window.tenant_id != taxes  # moved to a new conversation
    window.actions_by_name["undo_delete"].trigger()
    gui.until(lambda: window.tenant_id == taxes, "the deleted conversation back")
    assert {r.title for r in window.sidebar.model.rows} == {"Taxes", "Kyoto trip"}

    model = window.sidebar.model
    index = model.index(model.row_of(taxes))
    assert model.setData(index, "Tax return 2026", Qt.ItemDataRole.EditRole)
    assert window.store is not None
    assert window.store.conversation(taxes).title == "Tax return 2026"  # type: ignore[union-attr]
    assert window.title_label.text() == "Tax return 2026"

    switcher = gui.call(window.conversations.open_switcher)
    assert switcher is not None
    switcher.query.setText("fushimi")  # type: ignore[attr-defined]
    assert switcher.results.count() == 1  # type: ignore[attr-defined]
    assert "Fushimi" in switcher.results.item(0).text()  # type: ignore[attr-defined]

    async def enter() -> None:
        gui.qtbot.keyClick(switcher.query, Qt.Key_Return)  # type: ignore[attr-defined]

    gui.run(enter())
    assert window.transcript.toPlainText().count("Fushimi Inari at dawn") == 1
    assert window.title_label.text() == "Kyoto trip"


def test_export_from_the_window(
    gui: Gui, history_db: Path, tmp_path: Path, close_later: list[MainWindow]
) -> None:
    window = open_window(gui, history_db, Models(default=["**Bold** answer."]))
    close_later.append(window)
    send(gui, window, "Export me")
    wait_idle(gui, window)
    md = tmp_path / "out.md"
    js = tmp_path / "out.json"
    gui.call(window.conversations.write_export, window.tenant_id, "md", str(md))
    gui.call(window.conversations.write_export, window.tenant_id, "json", str(js))
    assert md.read_text().startswith("# Export me\n")
    assert "**Bold** answer." in md.read_text()
    data = json.loads(js.read_text())
    assert [m["content"] for m in data["messages"]] == ["Export me", "**Bold** answer."]


def test_providers_are_chosen_per_conversation(
    gui: Gui, history_db: Path, close_later: list[MainWindow]
) -> None:
    main = ConnectionConfig(kind="openai", id="main", name="Main", model="main-model")
    other = ConnectionConfig(kind="openai", id="other", name="Other", model="other-model")
    models = Models(main=["From main."], other=["From other."])
    window = open_window(
        gui, history_db, models, config=main, providers=Providers([main, other], "main")
    )
    close_later.append(window)
    assert window.provider_box.isVisibleTo(window) and window.provider_box.count() == 2
    gui.call(window.provider_box.choose, "other")
    send(gui, window, "Who answers?")
    wait_idle(gui, window)
    assert "From other." in window.transcript.toPlainText()
    assert "other-model" in window.transcript.toPlainText()  # (the model, once per turn)
    first = window.tenant_id
    gui.call(window.new_conversation)
    assert window.provider_box.currentData() == "main"
    send(gui, window, "And here?")
    wait_idle(gui, window)
    assert "From main." in window.transcript.toPlainText()
    assert window.store is not None
    assert window.store.conversation(first).provider_id == "other"  # type: ignore[union-attr]
    gui.call(window.open_conversation, first)
    assert window.provider_box.currentData() == "other"


def test_a_provider_chosen_before_the_session_starts_is_kept(
    gui: Gui, history_db: Path, close_later: list[MainWindow]
) -> None:
    """The box works from the first paint: a choice made before `start()` reaches
    the session."""
    main = ConnectionConfig(kind="openai", id="main", name="Main", model="main-model")
    other = ConnectionConfig(kind="openai", id="other", name="Other", model="other-model")
    window = MainWindow(
        main,
        model_factory=Models(other=["From other."]),
        providers=Providers([main, other], "main"),
        history=lambda: Store(history_db),
    )
    close_later.append(window)
    window.show()
    window.provider_box.choose("other")
    assert window.windowTitle().startswith("desktop-agent — other-model")
    gui.run(window.start())
    send(gui, window, "Who answers?")
    wait_idle(gui, window)
    assert "From other." in window.transcript.toPlainText()
    assert window.provider_box.currentData() == "other"


def test_api_keys_stay_out_of_every_file_but_the_private_one(
    gui: Gui, tmp_path: Path, http_server: ScriptedServer, close_later: list[MainWindow]
) -> None:
    home = Path(os.environ["DESKTOP_AGENT_HOME"])
    key = "sk-very-secret-key-0123456789"
    keys = Credentials(home)
    assert not keys.secure_store  # no keyring in tests: the 0600 file
    config = ConnectionConfig(kind="openai", base_url=http_server.base_url, model="m")
    window = MainWindow(config, history=lambda: Store(home / "history.db"), credentials=keys)
    window.show()
    gui.run(window.start())
    close_later.append(window)
    dialog = gui.call(window.open_settings)
    assert "No system keyring is available" in dialog.key_note.text()  # type: ignore[attr-defined]
    dialog.api_key.setText(key)  # type: ignore[attr-defined]
    gui.call(dialog.save)  # type: ignore[attr-defined]
    http_server.add(Reply(text="Hello with a key."))
    send(gui, window, "hi")
    wait_idle(gui, window)
    headers = {k.lower(): v for k, v in http_server.requests[-1].headers.items()}
    assert headers["authorization"] == f"Bearer {key}"
    gui.call(window.conversations.write_export, window.tenant_id, "json", str(home / "export.json"))
    gui.call(window.conversations.write_export, window.tenant_id, "md", str(home / "export.md"))
    gui.run(window.shutdown())

    private = home / "credentials.json"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    holders = [p for p in home.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
    assert holders == [private]
    assert (home / "history.db").exists() and (home / "export.json").exists()


def test_settings_add_test_and_save_providers(
    gui: Gui, history_db: Path, http_server: ScriptedServer, close_later: list[MainWindow]
) -> None:
    from desktop_agent.gui.settings_dialog import SettingsDialog

    home = Path(os.environ["DESKTOP_AGENT_HOME"])
    keys = Credentials(home)
    saved: list[Providers] = []
    window = open_window(
        gui, history_db, Models(), credentials=keys, on_settings_saved=saved.append
    )
    close_later.append(window)
    dialog = gui.call(window.open_settings)
    assert isinstance(dialog, SettingsDialog)
    assert dialog.list.count() == 1
    added = dialog.add_provider("llama.cpp server")
    assert dialog.list.count() == 2 and dialog.list.currentRow() == 1
    assert dialog.base_url.text() == "http://127.0.0.1:8080/v1"
    dialog.name.setText("My server")
    dialog.base_url.setText(http_server.base_url)
    dialog.api_key.setText("sk-for-my-server")
    dialog.model.setCurrentText("scripted-small")
    gui.call(dialog.test_connection)
    gui.until(lambda: dialog.result_label.text().startswith(("✓", "✗")), "the test result")
    assert dialog.result_label.text().startswith("✓ Connected to 127.0.0.1"), (
        dialog.result_label.text()
    )
    assert dialog.model.count() >= 1
    dialog.list.setCurrentRow(0)  # the edits of the new one are kept when switching
    dialog.list.setCurrentRow(1)
    assert dialog.name.text() == "My server"
    gui.call(dialog.save)
    [providers] = saved
    assert [p.name for p in providers.items][1] == "My server"
    assert keys.get(added.id) == "sk-for-my-server"
    assert window.provider_box.count() == 2 and window.provider_box.isVisibleTo(window)
    assert "My server" in [window.provider_box.itemText(i) for i in range(2)]


def test_test_connection_says_what_went_wrong(gui: Gui) -> None:
    from desktop_agent.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(ConnectionConfig(kind="openai", base_url="http://127.0.0.1:9/v1"))
    gui.qtbot.addWidget(dialog)
    gui.call(dialog.test_connection)
    gui.until(lambda: dialog.result_label.text().startswith(("✓", "✗")), "the test result")
    text = dialog.result_label.text()
    assert text.startswith("✗ Could not connect") and "type the model name" in text
    assert dialog.model.isEditable()  # manual entry stays possible


def test_an_approval_waiting_in_the_background_is_signalled(
    gui: Gui, history_db: Path, close_later: list[MainWindow]
) -> None:
    from desktop_agent import tool

    @tool("Post a message", side_effects=True)
    def post(text: str) -> str:
        return "posted"

    turns: list[Turn | str] = [
        Turn(
            text="Thinking… " * 30,
            chunk_size=5,
            delay=0.01,
            tool_calls=[ScriptedToolCall("post", {"text": "hi"}, id="c1")],
        ),
        "Posted.",
    ]
    window = open_window(gui, history_db, Models(default=turns), tools=[post])
    close_later.append(window)
    send(gui, window, "post hi")
    first = window.tenant_id
    gui.call(window.new_conversation)  # leave before the request comes
    gui.until(lambda: window.sidebar.model.rows[0].waiting, "⚠ on the conversation")
    assert window.sidebar.model.data(
        window.sidebar.model.index(0), Qt.ItemDataRole.DisplayRole
    ).startswith("⚠ ")
    assert "waits for your approval" in window.status.currentMessage()
    gui.call(window.open_conversation, first)
    assert len(window.transcript.pending_approvals()) == 1  # the card is there, live
    gui.call(window.approvals.answer, None, "allow")
    assert not window.sidebar.model.rows[0].waiting
    gui.until(lambda: not window.busy, "the run")
    assert "Posted." in window.transcript.toPlainText()


def test_the_users_message_is_shown_from_the_event_stream(
    gui: Gui, history_db: Path, close_later: list[MainWindow]
) -> None:
    """A run started elsewhere (not by the composer) shows its user message in the
    transcript and lists the conversation, as the run publishes it."""
    window = open_window(gui, history_db, Models(default=["Seen."]))
    close_later.append(window)
    orchestrator = window.orchestrator
    assert orchestrator is not None
    handle = gui.call(lambda: orchestrator.submit("Asked elsewhere", tenant_id=window.tenant_id))
    gui.until(lambda: "Asked elsewhere" in window.transcript.toPlainText(), "the user's message")
    gui.until(lambda: window.transcript.last_answer() == "Seen.", "the answer")
    gui.run(handle.wait())
    [entry] = [e for e in window.transcript.entries if e.kind == "user"]
    assert entry.key == f"{handle.run_id}:user"  # the id it is stored under
    assert window.store is not None
    assert window.store.message(entry.key) is not None
    assert [r.title for r in window.sidebar.model.rows] == ["Asked elsewhere"]
