"""The window's import: Ctrl+Shift+O opens the dialog; the import runs off the GUI
thread with a progress bar; the summary shows; the list and Ctrl+K find the
imported conversations; a bad file shows its message."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_agent.gui.import_dialog import ImportDialog
from desktop_agent.gui.window import MainWindow
from tests.gui.conftest import Gui
from tests.gui.test_history_window import Models, open_window
from tests.support.exports import chatgpt_conversation, claude_conversation, write_json


@pytest.fixture
def window(gui: Gui, tmp_path: Path) -> Iterator[MainWindow]:
    w = open_window(gui, tmp_path / "history.db", Models())
    yield w
    if not w.closed.is_set():
        gui.run(w.shutdown())


def test_import_from_the_window(gui: Gui, window: MainWindow, tmp_path: Path) -> None:
    items = [chatgpt_conversation(), claude_conversation()]
    path = write_json(tmp_path / "conversations.json", items)
    assert window.actions_by_name["import"].shortcut().toString() == "Ctrl+Shift+O"
    threads: list[str] = []
    original = ImportDialog._work

    def spy(self: ImportDialog, p: Path) -> None:
        threads.append(threading.current_thread().name)
        original(self, p)

    ImportDialog._work = spy  # type: ignore[method-assign]
    try:
        dialog = gui.call(window.open_import, path)
        assert isinstance(dialog, ImportDialog) and dialog in window.dialogs
        gui.until(lambda: dialog.result_summary is not None, "the import to finish")
    finally:
        ImportDialog._work = original  # type: ignore[method-assign]
    assert threads == ["import"]  # not the GUI thread
    assert dialog.bar.value() == 1000
    text = dialog.summary.toPlainText()
    assert "ChatGPT export: 2 imported, 0 already present, 0 skipped" in text
    rows = {row.title for row in window.sidebar.model.rows}
    assert {"Sums", "Weather in Lisbon"} <= rows
    switcher = gui.call(window.conversations.open_switcher)
    switcher.query.setText("sunny")  # type: ignore[union-attr]
    assert switcher.results.count() == 1  # type: ignore[union-attr]
    assert "Weather in Lisbon" in switcher.results.item(0).text()  # type: ignore[union-attr]


def test_a_bad_file_shows_why(gui: Gui, window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"mapping": {"a": ')
    dialog = gui.call(window.open_import, bad)
    assert isinstance(dialog, ImportDialog)
    gui.until(lambda: "Cannot import" in dialog.summary.toPlainText(), "the error")
    assert "ends in the middle of the JSON" in dialog.summary.toPlainText()
    assert dialog.choose_button.isEnabled()
    assert window.store is not None and window.store.conversations() == []


def test_dropping_an_export_on_the_window_imports_it(
    gui: Gui, window: MainWindow, tmp_path: Path
) -> None:
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    path = write_json(tmp_path / "conversations.json", [claude_conversation()])
    text = QMimeData()
    text.setText("not a file")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])

    def drop(data: QMimeData) -> bool:
        """Drag `data` in (as a drag would) and drop it; whether the window took it."""
        enter = QDragEnterEvent(
            QPoint(10, 10),
            Qt.DropAction.CopyAction,
            data,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        enter.ignore()
        QApplication.sendEvent(window, enter)
        if not enter.isAccepted():
            return False
        event = QDropEvent(
            QPointF(10, 10),
            Qt.DropAction.CopyAction,
            data,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(window, event)
        return True

    assert gui.call(drop, text) is False  # plain text is not an export
    assert window.dialogs == []
    assert gui.call(drop, mime) is True
    [dialog] = window.dialogs
    assert isinstance(dialog, ImportDialog)
    gui.until(lambda: dialog.result_summary is not None, "the import to finish")
    assert "Claude export: 1 imported" in dialog.summary.toPlainText()
    assert "Weather in Lisbon" in {row.title for row in window.sidebar.model.rows}
