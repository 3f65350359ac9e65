"""Per-message actions through the real window and the real app layer: Delete from
here (keys, menu, toolbar; Ctrl+Z undoes; refused while answering) and Regenerate on
any answer (a new version under the same parent). A real SQLite store, a scripted
model, the real transcript's keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtCore import Qt as QtNS

from desktop_agent.gui.window import MainWindow
from tests.gui.conftest import Gui
from tests.gui.test_history_window import Gate, Models, open_window, send, wait_idle
from tests.gui.test_transcript_look import hover

Qt: Any = QtNS


@pytest.fixture
def windows(gui: Gui) -> Iterator[list[MainWindow]]:
    made: list[MainWindow] = []
    yield made
    for w in made:
        if not w.closed.is_set():
            gui.run(w.shutdown())


def keys(gui: Gui, window: MainWindow, *presses: tuple[Any, Any]) -> None:
    """Key presses on the transcript with the loop running (a slot may start a run)."""

    async def press() -> None:
        for key, mods in presses:
            gui.qtbot.keyClick(window.transcript, key, mods)

    gui.run(press())


ALT_UP = (Qt.Key_Up, Qt.AltModifier)
NONE = Qt.NoModifier


def chat(gui: Gui, window: MainWindow, *questions: str) -> None:
    for question in questions:
        send(gui, window, question)
        wait_idle(gui, window)


def shown(window: MainWindow) -> list[str]:
    return [e.source for e in window.transcript.entries if e.kind in ("user", "assistant")]


def stored(window: MainWindow) -> list[str]:
    assert window.store is not None
    return [m.content for m in window.store.path(window.tenant_id)]


def test_delete_from_here_by_key_and_menu_then_ctrl_z_undoes(
    gui: Gui, tmp_path: Path, windows: list[MainWindow]
) -> None:
    window = open_window(gui, tmp_path / "h.db", Models(default=["Answer one.", "Answer two."]))
    windows.append(window)
    chat(gui, window, "One", "Two")
    assert shown(window) == ["One", "Answer one.", "Two", "Answer two."]
    window.transcript.setFocus()
    keys(gui, window, ALT_UP, ALT_UP)  # the last answer, then "Two"
    two = window.transcript.focused
    assert two is not None and two.source == "Two"
    menu = window.transcript.message_menu(two, QPoint(0, 0))
    assert "Delete from here" in [a.text() for a in menu.actions()]
    menu.deleteLater()

    keys(gui, window, (Qt.Key_Delete, NONE))
    assert shown(window) == ["One", "Answer one."]
    assert stored(window) == ["One", "Answer one."]
    assert "Deleted 2 messages" in window.status.currentMessage()
    assert "Ctrl+Z" in window.status.currentMessage()
    history = window.orchestrator.messages(window.tenant_id)  # type: ignore[union-attr]
    assert [m["content"] for m in history if m["role"] != "system"] == ["One", "Answer one."]

    window.actions_by_name["undo_delete"].trigger()  # Ctrl+Z
    assert shown(window) == ["One", "Answer one.", "Two", "Answer two."]
    assert stored(window) == ["One", "Answer one.", "Two", "Answer two."]
    assert window.status.currentMessage() == "Messages restored"


def test_delete_an_answer_from_the_hover_toolbar_keeps_its_other_versions(
    gui: Gui, tmp_path: Path, windows: list[MainWindow]
) -> None:
    models = Models(default=["First.", "Second.", "Third."])
    window = open_window(gui, tmp_path / "h.db", models)
    windows.append(window)
    chat(gui, window, "Hi")
    gui.call(window.runs.regenerate)  # a second version of the answer
    wait_idle(gui, window)
    t = window.transcript
    answer = t.last("assistant")
    assert answer is not None and answer.source == "Second." and answer.versions == (2, 2)
    rect = t._decor.rect(answer, t.theme)
    hover(t, QPoint(int(rect.center().x()), int(rect.center().y()) - t.verticalScrollBar().value()))
    gui.qtbot.waitUntil(lambda: t.action_bar.isVisible() and t.action_bar.key == answer.key)
    button = next(b for b in t.action_bar.buttons if b.accessibleName() == "Delete from here")
    gui.qtbot.mouseClick(button, Qt.LeftButton)
    assert shown(window) == ["Hi"] and stored(window) == ["Hi"]
    assert window.store is not None
    kept = [m.content for m in window.store.messages(window.tenant_id)]
    assert kept == ["Hi", "First."]  # the other version stays
    # The next answer is a new version beside it.
    gui.call(window.runs.regenerate)
    wait_idle(gui, window)
    last = t.last("assistant")
    assert last is not None and last.source == "Third." and last.versions == (2, 2)


def test_delete_is_refused_while_the_conversation_answers(
    gui: Gui, tmp_path: Path, windows: list[MainWindow]
) -> None:
    gate = Gate(after=2)
    models = Models(gate, default=["Answer one.", "A long second answer."])
    window = open_window(gui, tmp_path / "h.db", models)
    windows.append(window)
    gate.opened.set()
    chat(gui, window, "One")
    gate.opened.clear()
    gate.after = 3  # (counted over the whole model: holds the second answer)
    send(gui, window, "Two")
    gui.until(lambda: window.busy and t_has(window, "A long"), "the answer to stream")
    first = window.transcript.entries[0]
    gui.call(window.runs.delete_from, first.key)
    assert "answering" in window.status.currentMessage()
    gate.opened.set()
    wait_idle(gui, window)
    assert stored(window) == ["One", "Answer one.", "Two", "A long second answer."]


def t_has(window: MainWindow, text: str) -> bool:
    return text in window.transcript.toPlainText()


def test_regenerate_an_earlier_answer_from_the_keyboard(
    gui: Gui, tmp_path: Path, windows: list[MainWindow]
) -> None:
    models = Models(default=["Answer one.", "Answer two.", "Answer one, again."])
    window = open_window(gui, tmp_path / "h.db", models)
    windows.append(window)
    chat(gui, window, "One", "Two")
    window.transcript.setFocus()
    keys(gui, window, ALT_UP, ALT_UP, ALT_UP)  # Answer two, Two, Answer one
    focused = window.transcript.focused
    assert focused is not None and focused.source == "Answer one."
    names = [a.name for a in window.transcript.message_actions(focused)]
    assert "Regenerate answer" in names
    keys(gui, window, (Qt.Key_R, NONE))
    wait_idle(gui, window)
    assert shown(window) == ["One", "Answer one, again."]
    assert stored(window) == ["One", "Answer one, again."]
    assert window.store is not None
    path = window.store.path(window.tenant_id)
    old = window.store.message(focused.key)
    assert old is not None and path[1].parent_id == old.parent_id == path[0].id
    again = window.transcript.last("assistant")
    assert again is not None and again.versions == (2, 2)
    gui.call(window.runs.switch_version, again.key, -1)  # the old answer and what followed
    assert shown(window) == ["One", "Answer one.", "Two", "Answer two."]


def test_a_code_blocks_copy_says_copied_for_a_while(
    gui: Gui, tmp_path: Path, windows: list[MainWindow]
) -> None:
    from desktop_agent.gui.transcript.copy_feedback import COPIED_MS

    code_answer = "Here:\n\n```python\nprint('hi')\n```\n\nDone."
    window = open_window(gui, tmp_path / "h.db", Models(default=[code_answer, "Later."]))
    windows.append(window)
    chat(gui, window, "Code please", "And then?")
    t = window.transcript
    later = t.last("assistant")
    assert later is not None and t.shown_text(later) == "Later."
    t.setFocus()
    # The keyboard reaches the Copy link (Tab through the links), Enter uses it.
    for _ in range(20):
        keys(gui, window, (Qt.Key_Tab, NONE))
        if t.textCursor().selectedText() == "Copy":
            break
    assert t.textCursor().selectedText() == "Copy"
    keys(gui, window, (Qt.Key_Return, NONE))
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == "print('hi')\n"
    text = t.toPlainText()
    assert "python · Copied" in " ".join(text.split()) and "· Copy\n" not in text
    assert window.status.currentMessage() == "Code copied"
    assert t.copy_feedback.timer.isActive() and t.copy_feedback.timer.interval() == COPIED_MS
    assert ("Copied", False) in t.announcements
    assert t.shown_text(later) == "Later."  # the entries after it moved along
    t.copy_feedback.timer.timeout.emit()  # (two seconds later)
    text = " ".join(t.toPlainText().split())
    assert "python · Copy Done." in text or "python · Copy print" in text
    assert "Copied" not in text
    assert t.shown_text(later) == "Later."
    link = t.document().find("Copy", 0)
    assert link.charFormat().isAnchor()  # still the link


def test_tab_from_a_chosen_message_walks_its_toolbar_and_leaves_it(
    gui: Gui, tmp_path: Path, windows: list[MainWindow]
) -> None:
    from PySide6.QtWidgets import QApplication

    models = Models(default=["Answer one.", "Answer two.", "Answer two, again."])
    window = open_window(gui, tmp_path / "h.db", models)
    windows.append(window)
    chat(gui, window, "One", "Two")
    t = window.transcript
    t.setFocus()

    def focus_name() -> str:
        widget = QApplication.focusWidget()
        return widget.accessibleName() if widget is not None else ""

    keys(gui, window, ALT_UP)  # the last answer
    keys(gui, window, (Qt.Key_Tab, NONE))
    bar = t.action_bar
    assert [b.accessibleName() for b in bar.buttons] == [
        "Copy message",
        "Regenerate answer",
        "Delete from here",
    ]
    assert all(b.toolTip() and b.accessibleDescription() for b in bar.buttons)
    assert focus_name() == "Copy message" and bar.buttons[0].hasFocus()

    def press(key: Any, mods: Any = NONE) -> None:
        async def go() -> None:
            widget = QApplication.focusWidget()
            assert widget is not None
            gui.qtbot.keyClick(widget, key, mods)

        gui.run(go())

    press(Qt.Key_Tab)
    assert focus_name() == "Regenerate answer"
    press(Qt.Key_Tab)
    assert focus_name() == "Delete from here"
    press(Qt.Key_Backtab, Qt.ShiftModifier)
    assert focus_name() == "Regenerate answer"
    press(Qt.Key_Escape)  # back to the message
    assert t.hasFocus() and t.focused is not None and t.focused.source == "Answer two."
    keys(gui, window, (Qt.Key_Tab, NONE))
    assert focus_name() == "Copy message"
    press(Qt.Key_Tab)
    press(Qt.Key_Tab)
    press(Qt.Key_Tab)  # past the last button: out of the toolbar, no trap
    assert not any(b.hasFocus() for b in bar.buttons)
    press(Qt.Key_Tab)
    assert not any(b.hasFocus() for b in bar.buttons)
    # Enter on a button uses it: Regenerate from the toolbar, by keys only.
    t.setFocus()
    keys(gui, window, (Qt.Key_Escape, NONE))  # (Esc: no message chosen; not Stop)
    assert t.focused is None
    keys(gui, window, ALT_UP, (Qt.Key_Tab, NONE))
    press(Qt.Key_Tab)
    assert focus_name() == "Regenerate answer"
    press(Qt.Key_Return)
    wait_idle(gui, window)
    assert shown(window) == ["One", "Answer one.", "Two", "Answer two, again."]
    assert stored(window)[-1] == "Answer two, again."


def test_no_empty_line_above_a_second_answer_after_tool_calls(
    gui: Gui, tmp_path: Path, windows: list[MainWindow]
) -> None:
    from desktop_agent.testing import ScriptedToolCall, Turn

    models = Models(
        default=[
            Turn(
                text="Let me work it out.",
                tool_calls=[ScriptedToolCall("calculator", {"expression": "6*7"})],
            ),
            "It is 42.",
        ]
    )
    window = open_window(gui, tmp_path / "h.db", models)
    windows.append(window)
    chat(gui, window, "What is 6 × 7?")
    t = window.transcript
    answers = [e for e in t.entries if e.kind == "assistant"]
    assert [a.source for a in answers] == ["Let me work it out.", "It is 42."]
    second = answers[1]
    assert not second.turn_head
    layout = t.document().documentLayout()
    document = t.document()
    header = document.findBlock(second.pos)
    body = document.findBlock(second.pos + second.header_len)
    assert body.text() == "It is 42." and header.text() == ""
    from desktop_agent.gui.transcript.entries import INNER_GAP

    line = t.fontMetrics().lineSpacing()

    def gap() -> float:
        header = document.findBlock(second.pos)
        body = document.findBlock(second.pos + second.header_len)
        above = layout.blockBoundingRect(header.previous()).bottom()
        return layout.blockBoundingRect(body).top() - above

    assert gap() < INNER_GAP + line / 2  # the in-turn margin, not an empty line more
    # A toolbar button that changes what the message offers: the bar follows.
    tool = next(e for e in t.entries if e.kind == "tool")
    rect = t._decor.rect(tool, t.theme)
    hover(t, QPoint(int(rect.center().x()), int(rect.center().y()) - t.verticalScrollBar().value()))
    gui.qtbot.waitUntil(lambda: t.action_bar.isVisible() and t.action_bar.key == tool.key)
    show = next(b for b in t.action_bar.buttons if b.accessibleName() == "Show details")
    gui.qtbot.mouseClick(show, Qt.LeftButton)
    assert tool.expanded and "Hide details" in [b.accessibleName() for b in t.action_bar.buttons]
    t.rerender_all()  # (a palette change re-renders every entry): still so
    assert gap() < INNER_GAP + line / 2
