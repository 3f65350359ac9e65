"""The transcript's look and keyboard: the column cap, per-message actions by mouse
and by keys, the palette reaching bubbles and cards, what assistive technology
gets, copy-all as Markdown, Jump to latest, and the approval card's buttons."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QAccessible,
    QColor,
    QFontInfo,
    QGuiApplication,
    QMouseEvent,
    QPalette,
)
from PySide6.QtWidgets import QApplication

from desktop_agent.gui.transcript import Transcript
from desktop_agent.gui.transcript.interaction import COLUMN_EM


def make(qtbot: Any, width: int = 1400, height: int = 500) -> Transcript:
    t = Transcript()
    qtbot.addWidget(t)
    t.resize(width, height)
    t.show()
    qtbot.waitExposed(t)
    return t


def hover(t: Transcript, at: QPoint) -> None:
    """The mouse moves over the viewport (sent to it: other test windows may be on top)."""
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(at),
        QPointF(t.viewport().mapToGlobal(at)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(t.viewport(), move)


def conversation(t: Transcript, turns: int = 1) -> None:
    for i in range(turns):
        t.add_user(f"Question {i}?", key=f"u{i}")
        t.begin_assistant(f"a{i}", "Assistant · test-model")
        answer = f"Answer **{i}**.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
        t.append_chunk(f"a{i}", answer)
        t.complete_assistant(f"a{i}", answer, "stop")


def test_the_column_is_capped_and_centred_on_a_wide_window(qtbot: Any) -> None:
    t = make(qtbot, width=2000)
    conversation(t)
    em = max(16, QFontInfo(t.font()).pixelSize())
    assert t.column_width() <= COLUMN_EM * em + 1
    frame = t.document().rootFrame().frameFormat()
    assert abs(frame.leftMargin() - frame.rightMargin()) < 1  # centred
    t.resize(500, 400)
    qtbot.waitUntil(lambda: t.document().rootFrame().frameFormat().leftMargin() == 16)
    assert t.column_width() < 500  # a narrow window: the column fills it


def test_the_model_is_named_once_per_turn_and_you_never(qtbot: Any) -> None:
    t = make(qtbot)
    t.add_user("Hi", key="u1")
    t.begin_assistant("a1", "Assistant · test-model")
    t.complete_assistant("a1", "Let me look.", "tool_calls")
    t.add_tool_call("c1", "lookup", {"q": "x"})
    t.finish_tool_call("c1", "lookup", "found", None, 12)
    t.begin_assistant("a2", "Assistant · test-model")
    t.complete_assistant("a2", "Found it.", "stop")
    text = t.toPlainText()
    assert text.count("test-model") == 1 and "Assistant" not in text and "You" not in text
    assert "✓ ⚙ lookup ▸" in text and "12 ms" in text


def test_hover_shows_the_messages_actions_and_they_work(qtbot: Any) -> None:
    t = make(qtbot)
    conversation(t)
    edits: list[str] = []
    retries: list[int] = []
    t.edit_requested.connect(edits.append)
    t.retry_requested.connect(lambda: retries.append(1))
    user = t.entry("u0")
    assert user is not None
    rect = t._decor.rect(user, t.theme)
    at = QPoint(int(rect.center().x()), int(rect.center().y() - t.verticalScrollBar().value()))
    hover(t, at)
    qtbot.waitUntil(lambda: t.action_bar.isVisible() and t.action_bar.key == "u0")
    names = [b.accessibleName() for b in t.action_bar.buttons]
    assert names == ["Copy message", "Edit message", "Delete from here"]
    qtbot.mouseClick(t.action_bar.buttons[1], Qt.MouseButton.LeftButton)
    assert edits == ["u0"]
    qtbot.mouseClick(t.action_bar.buttons[0], Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "Question 0?"
    answer = t.entry("a0")
    assert answer is not None
    assert [a.name for a in t.message_actions(answer)] == [
        "Copy message",
        "Regenerate answer",
        "Delete from here",
    ]


def test_keyboard_reaches_every_message_and_its_actions(qtbot: Any) -> None:
    t = make(qtbot)
    conversation(t, turns=2)
    t.set_versions("u1", (2, 2))
    edits: list[str] = []
    versions: list[tuple[str, int]] = []
    retries: list[str] = []
    t.edit_requested.connect(edits.append)
    t.version_requested.connect(lambda key, step: versions.append((key, step)))
    t.regenerate_requested.connect(retries.append)
    t.setFocus()
    qtbot.keyClick(t, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert t.focused is t.entry("a1")  # starts from the last message on screen
    assert t.action_bar.isVisible() and t.action_bar.key == "a1"
    qtbot.keyClick(t, Qt.Key.Key_R)
    assert retries == ["a1"]
    qtbot.keyClick(t, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert t.focused is t.entry("u1")
    qtbot.keyClick(t, Qt.Key.Key_E)
    qtbot.keyClick(t, Qt.Key.Key_Left)
    assert edits == ["u1"] and versions == [("u1", -1)]
    qtbot.keyClick(t, Qt.Key.Key_C)
    assert QGuiApplication.clipboard().text() == "Question 1?"
    menu = t.message_menu(t.focused, QPoint(0, 0))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert {"Copy message", "Edit message", "Previous version (1 of 2)"} <= set(texts)
    menu.deleteLater()
    qtbot.keyClick(t, Qt.Key.Key_Escape)
    assert t.focused is None and not t.action_bar.isVisible()


def test_a_palette_change_reaches_bubbles_cards_and_code(qtbot: Any) -> None:
    t = make(qtbot)
    conversation(t)
    t.add_tool_call("c1", "lookup", {"q": "x"})
    before = t.theme
    dark = QPalette(t.palette())
    for role, value in (
        (QPalette.ColorRole.Base, "#212121"),
        (QPalette.ColorRole.AlternateBase, "#2f2f2f"),
        (QPalette.ColorRole.Text, "#ececec"),
        (QPalette.ColorRole.Mid, "#424242"),
    ):
        dark.setColor(role, QColor(value))
    t.setPalette(dark)
    assert t.theme != before and t.theme.dark
    assert t.theme.bubble == "#2f2f2f" and t.theme.card_border == "#424242"
    html = t.document().toHtml()
    assert before.code_bg not in html  # the table's header and code: re-rendered
    # What is painted: the user's bubble in the new colour.
    image = t.viewport().grab().toImage()
    user = t.entry("u0")
    assert user is not None
    rect = t._decor.rect(user, t.theme)
    y = int(rect.bottom() - 4 - t.verticalScrollBar().value())
    pixel = image.pixelColor(int(rect.right() - 12), y)
    assert pixel.name() == "#2f2f2f"


def test_each_message_is_read_with_its_author_and_announcements_are_sent(qtbot: Any) -> None:
    t = make(qtbot)
    conversation(t)
    t.setFocus()
    qtbot.keyClick(t, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(t, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    face = QAccessible.queryAccessibleInterface(t)
    assert face is not None and face.text(QAccessible.Text.Name) == "Conversation transcript"
    assert face.text(QAccessible.Text.Description) == "You: Question 0?"
    # A list, one item per message, named by its author and its text.
    assert face.role() == QAccessible.Role.List and face.childCount() == 2
    first, second = face.child(0), face.child(1)
    assert first is not None and second is not None
    assert first.role() == QAccessible.Role.ListItem
    assert first.text(QAccessible.Text.Name) == "You: Question 0?"
    # (as shown: no Markdown marks read out)
    assert second.text(QAccessible.Text.Name).startswith("Assistant (test-model): Answer 0.")
    assert first.state().focused and not second.state().focused
    assert face.indexOfChild(second) == 1 and second.parent() is not None
    assert t.announcements[-1] == ("You: Question 0?", False)
    bar = QAccessible.queryAccessibleInterface(t.action_bar.buttons[0])
    assert bar is not None and bar.text(QAccessible.Text.Name) == "Copy message"
    assert bar.role() == QAccessible.Role.Button
    jump = QAccessible.queryAccessibleInterface(t.jump_button)
    assert jump is not None and jump.text(QAccessible.Text.Name) == "Jump to latest"


def test_select_all_copy_gives_the_conversation_as_markdown(qtbot: Any) -> None:
    t = make(qtbot)
    conversation(t)
    t.selectAll()
    t.copy()
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("**You:**\n\nQuestion 0?")
    assert "**Assistant (test-model):**\n\nAnswer **0**." in copied and "| a | b |" in copied
    cursor = t.textCursor()  # a selection inside a message copies just that text
    start = t.toPlainText().index("Question")
    cursor.setPosition(start)
    cursor.setPosition(start + len("Question"), cursor.MoveMode.KeepAnchor)
    t.setTextCursor(cursor)
    t.copy()
    assert QGuiApplication.clipboard().text() == "Question"


def test_jump_to_latest_shows_when_scrolled_up_and_goes_at_the_end(qtbot: Any) -> None:
    t = make(qtbot, height=300)
    conversation(t, turns=8)
    bar = t.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 200)
    bar.setValue(bar.maximum())
    assert not t.jump_button.isVisible()
    bar.setValue(0)
    assert t.jump_button.isVisible()
    # Following stops while scrolled up: new text does not move the view.
    t.begin_assistant("late", "Assistant · test-model")
    t.append_chunk("late", "More text\n\n" * 20)
    assert bar.value() == 0
    qtbot.mouseClick(t.jump_button, Qt.MouseButton.LeftButton)
    assert bar.value() == bar.maximum() and not t.jump_button.isVisible()
    bar.setValue(0)
    t.setFocus()
    qtbot.keyClick(t, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert bar.value() == bar.maximum()


def test_the_approval_card_has_buttons_by_mouse_and_keys(qtbot: Any) -> None:
    t = make(qtbot)
    answered: list[tuple[str, str]] = []
    t.approval_answered.connect(lambda call, decision: answered.append((call, decision)))
    t.add_user("Save it", key="u1")
    t.add_approval("c1", "save_note", {"text": "x"})
    card = t.entry("approval:c1")
    assert card is not None
    names = [a.name for a in t.message_actions(card)]
    assert names == ["Allow once", "Always allow save_note", "Deny"]
    rect = t._decor.rect(card, t.theme)
    at = QPoint(int(rect.center().x()), int(rect.center().y() - t.verticalScrollBar().value()))
    hover(t, at)
    qtbot.waitUntil(lambda: t.action_bar.key == "approval:c1")
    qtbot.mouseClick(t.action_bar.buttons[2], Qt.MouseButton.LeftButton)
    assert answered == [("c1", "deny")]
    t.setFocus()
    qtbot.keyClick(t, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert t.focused is card
    qtbot.keyClick(t, Qt.Key.Key_A)
    assert answered[-1] == ("c1", "allow")


def test_a_caret_shows_at_the_end_of_an_answer_only_while_it_streams(qtbot: Any) -> None:
    t = make(qtbot)
    t.add_user("Hi", key="u1")
    t.begin_assistant("a1", "Assistant · test-model")
    t.append_chunk("a1", "Streaming now")

    def caret_pixels() -> int:
        image = t.viewport().grab().toImage()
        end = t.textCursor()
        end.setPosition(t.document().characterCount() - 1)
        at = t.cursorRect(end)
        accent = QColor(t.theme.accent).name()
        return sum(
            image.pixelColor(x, at.center().y()).name() == accent
            for x in range(at.left(), at.left() + 16)
        )

    assert caret_pixels() > 0
    t.complete_assistant("a1", "Streaming now", "stop")
    assert caret_pixels() == 0


def test_a_tool_card_opens_from_the_keyboard_and_says_so(qtbot: Any) -> None:
    t = make(qtbot)
    t.add_user("Look it up", key="u1")
    t.add_tool_call("c1", "lookup", {"query": "kyoto"})
    t.viewport().grab()  # (a paint)
    assert t.spinner.isActive()  # a running tool on screen: its spinner turns
    t.finish_tool_call("c1", "lookup", '{"found": true}', None, 1500)
    t.viewport().grab()  # (a paint)
    assert not t.spinner.isActive()
    t.setFocus()
    qtbot.keyClick(t, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    card = t.entry("c1")
    assert t.focused is card and card is not None
    assert "details hidden" in t.accessibleDescription() and "1.5 s" in t.toPlainText()
    qtbot.keyClick(t, Qt.Key.Key_Return)
    assert card.expanded and '"query": "kyoto"' in t.toPlainText()
    assert "Arguments" in t.toPlainText() and "Result" in t.toPlainText()
    # The JSON is in colour: pygments' string colour (default style, a light palette).
    assert "#ba2121" in t.document().toHtml().lower()


def test_a_users_bubble_fits_its_text_on_the_right(qtbot: Any) -> None:
    t = make(qtbot, width=1200)
    short = t.add_user("Hi", key="u1")
    long = t.add_user("A much longer question that needs most of the column " * 3, key="u2")
    a, b = t._decor.rect(short, t.theme), t._decor.rect(long, t.theme)
    assert abs(a.right() - b.right()) < 1  # both on the right edge of the column
    assert a.width() < b.width() / 2  # a short one is a small bubble
    assert b.width() <= t.column_width() - 72 + 1  # at most 80 % or so: the left stays clear
    t.resize(600, 400)
    qtbot.waitUntil(lambda: t._decor.rect(short, t.theme).right() < 600)
    assert abs(t._decor.rect(short, t.theme).right() - t._decor.rect(long, t.theme).right()) < 1
