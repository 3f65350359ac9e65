"""Settings → Data through the real window (offscreen): import opens the import dialog
over Settings; Export all writes every conversation as JSON through a file dialog, on
a worker thread; Back up then Restore (asked first; the window closes, the restored
history is there at the next start); a file that is no backup is refused and the
window stays; Open the data folder asks the desktop to open it.

Settings → General → Files: the attachment limits, checked inline, written to
settings.json's "attachments" section, which the window's attachments then use."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox

from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.gui.import_dialog import ImportDialog
from desktop_agent.gui.settings_data import DataPage
from desktop_agent.gui.settings_dialog import SettingsDialog
from desktop_agent.gui.window import MainWindow
from desktop_agent.storage import Store
from tests.gui.conftest import Gui
from tests.gui.test_history_window import Models, open_window

CONFIG = ConnectionConfig(kind="openai", model="main-model", id="p1")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(folder))
    return folder


@pytest.fixture
def window(gui: Gui, home: Path) -> Iterator[MainWindow]:
    from desktop_agent.app.paths import history_path

    w = open_window(
        gui, history_path(), Models(p1=["First answer", "Second answer"]), config=CONFIG
    )
    yield w
    if not w.closed.is_set():
        gui.run(w.shutdown())


def send(gui: Gui, window: MainWindow, text: str) -> None:
    done = asyncio.Event()
    assert window.bridge is not None
    window.bridge.run_done.connect(lambda _d: done.set())
    gui.call(window.send, text)
    gui.run(done.wait(), 20)


def data_page(gui: Gui, window: MainWindow) -> tuple[SettingsDialog, DataPage]:
    dialog = gui.call(window.open_settings)
    assert isinstance(dialog, SettingsDialog)
    gui.call(dialog.pages.show_page, "Data")
    page = dialog.pages.page("Data")
    assert isinstance(page, DataPage) and page.isVisible()
    return dialog, page


def choose(gui: Gui, page: DataPage, button: Any, path: Path) -> None:
    """Click `button`, then pick `path` in the file dialog it opens."""
    gui.call(button.click)
    picker = page.asking
    assert isinstance(picker, QFileDialog) and picker.isVisible()
    name = picker.findChild(QLineEdit, "fileNameEdit")  # (Qt's own dialog, offscreen)
    assert name is not None
    gui.call(name.setText, str(path))
    gui.call(picker.accept)


def finished(gui: Gui, page: DataPage) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    page.finished.connect(lambda what, text: seen.append((what, text)))
    return seen


def test_export_all_writes_json_off_the_gui_thread(
    gui: Gui, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import desktop_agent.storage.export_all as export_all

    send(gui, window, "Hello there")
    gui.call(window.new_conversation)
    send(gui, window, "Another one")
    threads: list[str] = []
    original = export_all.write_all

    def watched(*args: Any, **kwargs: Any) -> int:
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(export_all, "write_all", watched)
    dialog, page = data_page(gui, window)
    seen = finished(gui, page)
    target = tmp_path / "out" / "<b>all.json"  # (a file name is shown as text)
    target.parent.mkdir()
    choose(gui, page, page.export_button, target)
    gui.until(lambda: bool(seen), "the export")
    assert threads == ["data export"]  # not the GUI thread
    assert seen == [("export", f"Exported 2 conversations to {target}")]
    assert page.status.text() == seen[0][1]
    assert page.status.textFormat() == Qt.TextFormat.PlainText  # "<b>" is not markup
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["format"] == "desktop-agent.conversations"
    texts = [m["content"] for c in data["conversations"] for m in c["messages"]]
    assert texts == ["Hello there", "First answer", "Another one", "Second answer"]
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no .part left
    # a folder that cannot be written: said, nothing left behind
    seen.clear()
    gui.call(page.export_to, tmp_path / "missing" / "all.json")
    gui.until(lambda: bool(seen), "the failed export")
    assert seen[0][1].startswith("✗ Export failed:") and page.export_button.isEnabled()
    gui.call(dialog.reject)


def test_backup_then_restore_closes_and_the_next_start_has_it(
    gui: Gui, window: MainWindow, home: Path, tmp_path: Path
) -> None:
    send(gui, window, "Keep this one")
    dialog, page = data_page(gui, window)
    seen = finished(gui, page)
    backup = tmp_path / "backup.zip"
    choose(gui, page, page.backup_button, backup)
    gui.until(lambda: bool(seen), "the backup")
    assert seen == [("backup", f"Backed up 1 conversations to {backup}")]
    assert backup.exists()
    gui.call(dialog.reject)
    gui.call(window.new_conversation)
    send(gui, window, "Made after the backup")

    dialog, page = data_page(gui, window)
    seen = finished(gui, page)
    # not a backup: refused, said, the window stays
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not really")
    choose(gui, page, page.restore_button, junk)
    box = page.asking
    assert isinstance(box, QMessageBox) and box.isVisible()
    gui.call(next(b for b in box.buttons() if b.text() == "Restore and close").click)
    gui.until(lambda: bool(seen), "the refusal")
    assert seen[0][1].startswith("✗ Restore failed:") and "not a desktop-agent backup" in seen[0][1]
    assert window.isVisible() and not window.closed.is_set()
    # asked first: Cancel restores nothing
    seen.clear()
    choose(gui, page, page.restore_button, backup)
    box = page.asking
    assert isinstance(box, QMessageBox)
    assert "desktop-agent closes after restoring" in box.text()
    gui.call(box.button(QMessageBox.StandardButton.Cancel).click)
    assert seen == [] and not list(home.glob("history.db.before-restore-*"))
    # Restore and close
    choose(gui, page, page.restore_button, backup)
    box = page.asking
    assert isinstance(box, QMessageBox)
    gui.call(next(b for b in box.buttons() if b.text() == "Restore and close").click)
    gui.until(lambda: bool(seen), "the restore")
    assert seen[0][1].startswith("Restored 1 conversations")
    done = page.asking
    assert isinstance(done, QMessageBox) and "start it again" in done.text()
    gui.call(done.accept)
    gui.run(window.closed.wait(), 20)
    assert len(list(home.glob("history.db.before-restore-*"))) == 1  # the old one, aside
    store = Store(home / "history.db", session=False)
    try:
        titles = [c.title for c in store.conversations()]
    finally:
        store.close()
    assert len(titles) == 1 and "Keep this one" in titles[0]


class _Opened(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_the_folder_and_import_from_the_data_page(
    gui: Gui, window: MainWindow, home: Path
) -> None:
    dialog, page = data_page(gui, window)
    assert page.folder_label.text() == str(home)
    opened = _Opened()
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        gui.call(page.folder_button.click)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [u.toLocalFile() for u in opened.urls] == [str(home)]
    gui.call(page.import_button.click)
    importer = window.dialogs[-1]
    assert isinstance(importer, ImportDialog) and importer.isVisible()
    assert importer.parent() is dialog  # over Settings
    gui.call(importer.reject)
    for button in (page.import_button, page.export_button, page.backup_button):
        assert button.accessibleName()
    assert page.restore_button.accessibleName() and page.folder_button.accessibleName()
    gui.call(dialog.reject)


# -- Settings → General → Files: the attachment limits ------------------------------------


def test_attachment_limits_checked_inline_then_used(
    gui: Gui, window: MainWindow, home: Path
) -> None:
    from PySide6.QtGui import QColor, QImage

    from desktop_agent.app.settings import load_settings
    from desktop_agent.gui.settings_files import MB, AttachmentLimitsGroup

    dialog = gui.call(window.open_settings)
    assert isinstance(dialog, SettingsDialog)
    gui.call(dialog.pages.show_page, "General")
    group = dialog.pages.page("General").findChild(AttachmentLimitsGroup)
    assert group is not None and group.isVisible()
    side, per_message = group.fields["image_side"], group.fields["message_bytes"]
    assert side.text() == "2048" and per_message.text() == "40"  # the defaults
    for edit in group.fields.values():
        assert edit.accessibleName()
    saved: list[Any] = []
    dialog.saved.connect(saved.append)
    # wrong values: said next to the field; Save keeps the dialog open, writes nothing
    gui.call(side.setText, "huge")
    assert not group.errors["image_side"].isHidden()
    assert group.errors["image_side"].text() == "✗ A whole number from 256 to 8,192 px"
    gui.call(per_message.setText, "0")
    assert "from 1 to 1,024 MB" in group.errors["message_bytes"].text()
    gui.call(dialog.pages.show_page, "Providers")
    gui.call(dialog.save)
    assert dialog.isVisible() and saved == []
    assert dialog.pages.current_name == "General"  # where the problem is
    assert "attachments" not in load_settings()
    # right values: only the changed ones are written, where the attachments read them
    gui.call(side.setText, "1024")
    gui.call(per_message.setText, "2.5")
    assert group.errors["image_side"].isHidden() and group.errors["message_bytes"].isHidden()
    gui.call(dialog.save)
    assert not dialog.isVisible() and len(saved) == 1
    assert load_settings()["attachments"] == {"image_side": 1024, "message_bytes": int(2.5 * MB)}
    limits = window.attach.limits()
    assert limits.image_side == 1024 and limits.message_bytes == int(2.5 * MB)
    image = QImage(3000, 1500, QImage.Format.Format_RGB32)
    image.fill(QColor(10, 200, 30))
    gui.call(window.attach.add_image, image)
    gui.run(window.attach.wait_ready())
    assert "1024×512" in window.attach.tray.chips[0].detail.text()
    # opened again: the saved values are shown
    dialog = gui.call(window.open_settings)
    group = dialog.pages.page("General").findChild(AttachmentLimitsGroup)
    assert group.fields["image_side"].text() == "1024"
    assert group.fields["message_bytes"].text() == "2.5"
    gui.call(dialog.reject)
