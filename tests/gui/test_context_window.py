"""The context meter, the answer figures and "Compact now" in the window (offscreen,
against the scripted server enforcing a token limit over real HTTP)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt as QtNS
from PySide6.QtWidgets import QDialog, QPlainTextEdit

from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.engine.compaction import SUMMARY_PROMPT
from tests.gui.conftest import Gui
from tests.gui.test_window import make_window, type_and_send, wait_idle
from tests.support.scripted_server import Reply, ScriptedServer

Qt: Any = QtNS


def test_meter_figures_and_summary(
    gui: Gui, config: ConnectionConfig, http_server: ScriptedServer
) -> None:
    http_server.token_limit = 4200  # reported by /props: the window learns it there
    http_server.responder = lambda body: (
        Reply(text="They talked about long things.")
        if body["messages"][0]["content"] == SUMMARY_PROMPT
        else None
    )
    http_server.default = Reply(text="A long answer. " * 60)
    window = make_window(gui, replace(config, reserve=300, compaction="summarise"))
    meter = window.context_meter
    assert not meter.isVisible()  # nothing to show before the first request
    type_and_send(gui, window, "first question")
    wait_idle(gui, window)
    assert meter.isVisible()
    assert " / 4,200 tokens" in meter.text.text()
    figures = meter.answer_label.text()
    assert figures.startswith("3 in · ")  # the scripted server's usage
    assert "s to first token" in figures and "tokens/s" in figures
    assert meter.answer_label.accessibleDescription().startswith("Conversation: 1 request")
    assert not meter.left_out_button.isVisible()
    for i in range(10):  # (the server counts: 4 characters a token, ~490 a turn)
        type_and_send(gui, window, f"question {i} " + "tell me more " * 80)
        wait_idle(gui, window)
    assert all(tokens <= 4200 for tokens in http_server.request_tokens)
    assert meter.left_out_button.isVisible()
    assert meter.left_out_button.text() == "Earlier messages summarized"
    assert meter.bar.share > 0.3
    assert "Conversation: 11 requests" in meter.answer_label.accessibleDescription()
    # the summary is viewable, from the keyboard too
    meter.left_out_button.setFocus()
    gui.qtbot.keyClick(meter.left_out_button, Qt.Key_Space)
    gui.until(lambda: meter.dialog is not None and meter.dialog.isVisible(), "the summary")
    assert isinstance(meter.dialog, QDialog)
    shown = meter.dialog.findChild(QPlainTextEdit)
    assert shown is not None and shown.toPlainText() == "They talked about long things."
    meter.dialog.reject()
    gui.run(window.shutdown())


def test_compact_now_leaves_out_older_messages(
    gui: Gui, config: ConnectionConfig, http_server: ScriptedServer
) -> None:
    http_server.default = Reply(text="An answer. " * 20)
    window = make_window(gui, replace(config, context_window=100_000, compaction="drop_oldest"))
    for i in range(4):
        type_and_send(gui, window, f"question {i}")
        wait_idle(gui, window)
    before = len(http_server.requests[-1].body["messages"])
    window.actions_by_name["compact"].trigger()
    assert "Compacting" in window.status.currentMessage()
    type_and_send(gui, window, "after compacting")
    wait_idle(gui, window)
    sent = http_server.requests[-1].body["messages"]
    assert len(sent) < before + 2  # (without compacting: two more than before)
    assert "left out to fit" in sent[0]["content"]
    assert window.context_meter.left_out_button.text() == "Earlier messages left out"
    # only the next request: the one after sends everything again (it fits)
    type_and_send(gui, window, "and again")
    wait_idle(gui, window)
    assert (
        len(http_server.requests[-1].body["messages"]) == before + 4
    )  # everything: two more turns
    gui.run(window.shutdown())


def test_context_settings_per_provider(
    gui: Gui, config: ConnectionConfig, http_server: ScriptedServer
) -> None:
    saved: list[Any] = []
    window = make_window(gui, config, on_settings_saved=saved.append)
    dialog = gui.call(window.open_settings)
    fields = dialog.context_fields  # type: ignore[attr-defined]
    assert fields.window_size.value() == 0  # "ask the server"
    assert fields.strategy.currentData() == "summarise"
    fields.window_size.setValue(3000)
    fields.reserve.setValue(500)
    fields.strategy.setCurrentIndex(fields.strategy.findData("drop_oldest"))
    fields.price_in.setValue(2.0)
    fields.price_out.setValue(8.0)
    gui.call(dialog.save)  # type: ignore[attr-defined]
    [providers] = saved
    edited = providers.default
    assert (edited.context_window, edited.reserve, edited.compaction) == (3000, 500, "drop_oldest")
    assert (edited.price_in, edited.price_out) == (2.0, 8.0)
    # the next answer uses them: the window's figures show the cost and the 3,000 tokens
    http_server.add(Reply(text="priced answer"))
    type_and_send(gui, window, "hello")
    wait_idle(gui, window)
    meter = window.context_meter
    assert " / 3,000 tokens" in meter.text.text()
    assert "$0.0" in meter.answer_label.text()
    gui.run(window.shutdown())


def test_stored_figures_shown_for_a_conversation_from_the_history(gui: Gui, tmp_path: Any) -> None:
    from desktop_agent.gui.context_meter import ContextMeter, ConversationFigures
    from desktop_agent.storage import Store
    from desktop_agent.storage.model_requests import add_request

    store = Store(tmp_path / "history.db")
    store.ensure_conversation("c1")
    add_request(
        store,
        "c1",
        "run1",
        tokens=900,
        context_window=4096,
        prompt_tokens=880,
        completion_tokens=40,
        first_token_ms=120.0,
        tokens_per_second=30.0,
    )
    add_request(
        store,
        "c1",
        "run2",
        tokens=3000,
        context_window=4096,
        dropped=12,
        dropped_tokens=5000,
        summary="Earlier: they planned a trip.",
        prompt_tokens=2990,
        completion_tokens=60,
        estimated=1,
    )
    figures = ConversationFigures()
    figures.load_stored(store, "c1")
    meter = ContextMeter()
    meter.show_figures(figures)
    assert meter.text.text() == "3,000 / 4,096 tokens (73 %)"
    assert meter.left_out_button.text() == "Earlier messages summarized"
    assert "12 earlier messages" in meter.left_out_button.toolTip()
    assert meter.answer_label.text().startswith("~2,990 in · ~60 out")
    assert meter.answer_label.toolTip() == "Conversation: 2 requests · ~3,870 in · ~100 out"
    meter.show_summary()
    assert meter.dialog is not None
    shown = meter.dialog.findChild(QPlainTextEdit)
    assert shown is not None and shown.toPlainText() == "Earlier: they planned a trip."
    meter.dialog.reject()
    store.close()


def test_conversation_context_settings_are_kept_with_it(
    gui: Gui, config: ConnectionConfig, http_server: ScriptedServer, tmp_path: Any
) -> None:
    from desktop_agent.gui.context_settings import ConversationContextDialog
    from desktop_agent.storage import Store
    from desktop_agent.storage.model_requests import context_settings

    db = tmp_path / "history.db"
    window = make_window(gui, replace(config, context_window=100_000), history=lambda: Store(db))
    http_server.default = Reply(text="An answer. " * 10)
    type_and_send(gui, window, "hello")
    wait_idle(gui, window)
    conversation = window.tenant_id
    dialog = gui.call(window.conversation_context)
    assert isinstance(dialog, ConversationContextDialog)
    assert dialog.strategy.currentData() is None  # "as its provider is set"
    assert not dialog.reserve.isEnabled()
    dialog.strategy.setCurrentIndex(dialog.strategy.findData("drop_oldest"))
    dialog.reserve.setValue(700)
    gui.call(dialog.save)
    assert window.store is not None
    assert context_settings(window.store, conversation) == {
        "reserve": 700,
        "strategy": "drop_oldest",
    }
    reports: list[Any] = []
    assert window.bridge is not None
    window.bridge.context_reported.connect(reports.append)
    type_and_send(gui, window, "again")
    wait_idle(gui, window)
    assert (reports[-1].strategy, reports[-1].reserve) == ("drop_oldest", 700)
    gui.run(window.shutdown())
    # a new window (a new session) reads it back with the conversation
    again = make_window(gui, config, history=lambda: Store(db))
    assert again.session is not None
    again.session.conversations.prepare(conversation)
    policy = again.session.context_policy(conversation)
    assert (policy.reserve, policy.strategy) == (700, "drop_oldest")
    gui.run(again.shutdown())
