"""Approval in the window: the inline card, Enter / Esc, always (persisted,
revocable in Settings → Tools), and a run cancelled while a card waits."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt as QtNS
from PySide6.QtCore import QUrl

from desktop_agent import tool
from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.app.settings import ToolSettings
from desktop_agent.gui.window import MainWindow
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from tests.gui.conftest import Gui

Qt: Any = QtNS
notes: list[str] = []


@tool("Save a note", side_effects=True)
def save_note(text: str, folder: str = "inbox") -> str:
    notes.append(text)
    return f"saved in {folder}"


def call(text: str, call_id: str) -> Turn:
    return Turn(
        tool_calls=[ScriptedToolCall("save_note", {"text": text, "folder": "work"}, id=call_id)]
    )


@pytest.fixture(autouse=True)
def no_notes() -> None:
    notes.clear()


def open_window(gui: Gui, turns: list[Turn | str], **kwargs: Any) -> MainWindow:
    model = ScriptedModel(turns)  # (one script, also if Settings rebuilds the client)
    window = MainWindow(
        ConnectionConfig(kind="openai", model="m"),
        tools=[save_note],
        frame_ms=16,
        model_factory=lambda _c: model,
        **kwargs,
    )
    window.show()
    gui.run(window.start())
    return window


def wait_card(gui: Gui, window: MainWindow) -> None:
    gui.until(lambda: bool(window.transcript.pending_approvals()), "the approval card")


def key(gui: Gui, widget: Any, which: Any) -> None:
    async def act() -> None:
        widget.setFocus()
        gui.qtbot.keyClick(widget, which)

    gui.run(act())


def test_enter_allows_once_after_showing_the_tool_and_its_arguments(gui: Gui) -> None:
    window = open_window(gui, [call("buy milk", "c1"), "Saved it."])
    try:
        gui.call(window.send, "Remember to buy milk")
        wait_card(gui, window)
        text = window.transcript.toPlainText()
        assert "⚠ Allow save_note to run?" in text
        assert '"text": "buy milk"' in text and '"folder": "work"' in text  # full arguments
        assert "Allow once" in text and "Always allow save_note" in text and "Deny" in text
        assert window.status.status == "awaiting_approval"
        assert window.status.state_label.text() == "Waiting for approval…"
        assert window.status.spinner.running
        assert notes == []
        said = window.transcript.announcements  # (assertive: the run waits on the user)
        assert ("save_note waits for your approval: Enter allows once, Esc denies", True) in said
        key(gui, window.composer, Qt.Key_Return)
        gui.until(lambda: not window.busy, "the run to finish")
        assert ("Answer complete", False) in window.transcript.announcements
        assert notes == ["buy milk"]
        text = window.transcript.toPlainText()
        assert "✓ Allowed once" in text and "Saved it." in text
        assert window.status.status == "done"
    finally:
        gui.run(window.shutdown())


def test_esc_denies_and_the_model_is_told(gui: Gui) -> None:
    model_turns: list[Turn | str] = [call("x", "c1"), "OK, I won't."]
    window = open_window(gui, model_turns)
    try:
        gui.call(window.send, "save x")
        wait_card(gui, window)
        key(gui, window.composer, Qt.Key_Escape)
        gui.until(lambda: not window.busy, "the run to finish")
        assert notes == []
        text = window.transcript.toPlainText()
        assert "✗ Denied" in text and "OK, I won't." in text
        assert "the user denied this tool call" in text  # the tool entry says why
        history = window.orchestrator.messages(window.tenant_id)  # type: ignore[union-attr]
        [result] = [m for m in history if m["role"] == "tool"]
        assert result["content"] == "Error: the user denied this tool call"
    finally:
        gui.run(window.shutdown())


def test_always_is_remembered_and_revocable(gui: Gui) -> None:
    saved: list[ToolSettings] = []
    turns: list[Turn | str] = [call("a", "c1"), "1", call("b", "c2"), "2", call("c", "c3"), "3"]
    window = open_window(gui, turns, on_tool_settings_saved=saved.append)
    try:
        gui.call(window.send, "a")
        wait_card(gui, window)
        [call_id] = window.transcript.pending_approvals()
        gui.call(
            window.transcript.anchorClicked.emit,
            QUrl(window.transcript.app_link("approve", call_id, "always")),
        )
        gui.until(lambda: not window.busy, "the first run")
        assert saved[-1].always_allowed == frozenset({"save_note"})  # persisted
        gui.call(window.send, "b")
        gui.until(lambda: not window.busy, "the second run, without asking")
        assert notes == ["a", "b"]
        assert window.transcript.toPlainText().count("⚠ Allow") == 1

        dialog = gui.call(window.open_settings)  # Settings → Tools lists it; Revoke
        page = dialog.tools_page  # type: ignore[attr-defined]
        assert [page.always.item(i).text() for i in range(page.always.count())] == ["save_note"]
        page.always.setCurrentRow(0)
        page.revoke_selected()
        gui.call(dialog.save)  # type: ignore[attr-defined]
        assert saved[-1].always_allowed == frozenset()
        gui.call(window.send, "c")
        wait_card(gui, window)  # asks again
        gui.call(window.approvals.answer, None, "allow")
        gui.until(lambda: not window.busy, "the third run")
        assert notes == ["a", "b", "c"]
    finally:
        gui.run(window.shutdown())


def test_stop_while_a_card_waits_cancels_and_the_conversation_goes_on(gui: Gui) -> None:
    window = open_window(gui, [call("x", "c1"), "Next answer."])
    try:
        gui.call(window.send, "save x")
        wait_card(gui, window)

        async def click_stop() -> None:
            gui.qtbot.mouseClick(window.send_button, Qt.LeftButton)

        gui.run(click_stop())
        gui.until(lambda: not window.busy, "the run to stop")
        assert window.status.status == "cancelled"
        assert "Cancelled while waiting for approval" in window.transcript.toPlainText()
        assert window.transcript.pending_approvals() == []
        assert notes == []
        gui.call(window.send, "go on")
        gui.until(lambda: not window.busy, "the next run")
        assert "Next answer." in window.transcript.toPlainText()
    finally:
        gui.run(window.shutdown())
