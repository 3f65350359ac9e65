"""Settings → Data: import conversations (the import dialog), export all of them as
JSON, back up and restore the data folder (`app/backup.py`), and where the data
folder is (opened in the file manager).

Export, backup and restore run on a worker thread (a big history takes a while);
the result comes back through a queued signal. Restore asks first and then closes
the app: the window has the old history open, so the restored one is used from the
next start.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .settings_pages import note

__all__ = ["DataPage"]


class _Relay(QObject):
    """The worker's result (emitted on its thread, delivered on the GUI thread)."""

    done = Signal(str, object)  # what ran (export|backup|restore), its result or an error


class DataPage(QWidget):
    """Args:
    folder: the data folder.
    history: the history database (None: conversations are not kept this session).
    open_import: opens the import dialog over this page.
    restored: called once a backup is restored (the window closes).
    """

    finished = Signal(str, str)  # what ran (export|backup|restore), the message shown

    def __init__(
        self,
        folder: Path,
        history: Path | None,
        open_import: Callable[[], Any],
        restored: Callable[[], Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.folder, self.history = folder, history
        self._restored = restored
        self._relay = _Relay(self)
        self._relay.done.connect(self._done)
        self.worker: threading.Thread | None = None
        #: the dialog open now (a file picker or a question), for the tests
        self.asking: QWidget | None = None

        def button(text: str, name: str, slot: Callable[[], None]) -> QPushButton:
            made = QPushButton(text, self)
            made.setAccessibleName(name)
            made.clicked.connect(slot)
            return made

        self.import_button = button(
            "&Import conversations…", "Import conversations", lambda: open_import()
        )
        self.import_button.setToolTip("ChatGPT, Claude, Open WebUI or desktop-agent exports")
        self.export_button = button("&Export all (JSON)…", "Export all conversations", self._export)
        self.backup_button = button("&Back up…", "Back up the data folder", self._backup)
        self.restore_button = button("&Restore…", "Restore a backup", self._restore)
        self.folder_button = button(
            "&Open the data folder", "Open the data folder", self.open_folder
        )
        for widget, text in (
            (self.backup_button, "Conversations and settings in one file, without API keys."),
            (self.restore_button, "Replaces this folder's; desktop-agent closes after it."),
        ):
            widget.setAccessibleDescription(text)
        if history is None:
            self.export_button.setEnabled(False)
            self.export_button.setToolTip("Conversations are not kept in this session")
        self.folder_label = QLabel(str(folder), self)
        self.folder_label.setAccessibleName("Data folder")
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextFormat(Qt.TextFormat.PlainText)  # (a path is not markup)
        self.status = QLabel("", self)
        self.status.setAccessibleName("Data status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # (file names are not markup)
        form = QFormLayout()
        form.addRow("Conversations", _row(self.import_button, self.export_button))
        form.addRow("Backup", _row(self.backup_button, self.restore_button))
        form.addRow(
            "",
            note(
                "A backup holds the history and the settings (no API keys, no MCP "
                "servers' settings) to move to another machine.",
                self,
                "About backups",
            ),
        )
        form.addRow("Data folder", self.folder_label)
        form.addRow("", _row(self.folder_button))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addStretch(1)

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_alive()

    # -- the data folder ----------------------------------------------------------------

    def open_folder(self) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder))):
            self._say(f"Could not open {self.folder}: no file manager answered")

    # -- export, backup, restore -----------------------------------------------------------

    def _export(self) -> None:
        self._pick(
            "Export all conversations", "conversations.json", "JSON (*.json)", self.export_to
        )

    def _backup(self) -> None:
        name = "desktop-agent-backup.zip"
        self._pick("Back up the data folder", name, "Backups (*.zip)", self.backup_to)

    def _restore(self) -> None:
        self._pick("Restore a backup", "", "Backups (*.zip)", self.confirm_restore, save=False)

    def _pick(
        self, title: str, name: str, kinds: str, then: Callable[[Path], object], save: bool = True
    ) -> None:
        picker = QFileDialog(self, title, str(Path.home() / name) if name else "", kinds)
        if save:
            picker.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            picker.setDefaultSuffix(Path(name).suffix.lstrip("."))
        else:
            picker.setFileMode(QFileDialog.FileMode.ExistingFile)
        picker.fileSelected.connect(lambda path: then(Path(path)))
        self.asking = picker
        picker.open()  # (not exec(): the asyncio loop runs on Qt's)

    def export_to(self, target: Path) -> None:
        """Every conversation as JSON into `target` (written aside, then moved in place)."""
        history = self.history
        if history is None:
            return

        def work() -> str:
            from ..storage import Store
            from ..storage.export_all import write_all

            part = target.with_name(f".{target.name}.part")
            store = Store(history, session=False)
            try:
                with open(part, "w", encoding="utf-8") as out:
                    count = write_all(store, out, "json")
                os.replace(part, target)
            finally:
                store.close()
                part.unlink(missing_ok=True)
            return f"Exported {count} conversations to {target}"

        self._start("export", work, f"Exporting to {target.name}…")

    def backup_to(self, target: Path) -> None:
        def work() -> str:
            from ..app.backup import backup

            info = backup(self.folder, target)
            return f"Backed up {info.conversations} conversations to {target}"

        self._start("backup", work, f"Backing up to {target.name}…")

    def confirm_restore(self, source: Path) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Restore a backup",
            f"Replace the conversations and settings in {self.folder} with those of "
            f"{source.name}?\n\nThe current ones are kept aside in the data folder "
            "(…before-restore-…). desktop-agent closes after restoring: start it again "
            "to use the restored history.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setAccessibleName("Restore a backup?")
        box.setTextFormat(Qt.TextFormat.PlainText)  # (a file name is not markup)
        go = box.addButton("Restore and close", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda b: self.restore_from(source) if b is go else None)
        self.asking = box
        box.open()
        return box

    def restore_from(self, source: Path) -> None:
        def work() -> str:
            from ..app.backup import restore

            info = restore(self.folder, source, force=True)
            return (
                f"Restored {info.conversations} conversations ({info.messages} messages). "
                "desktop-agent closes now; start it again to use them."
            )

        self._start("restore", work, f"Restoring {source.name}…")

    # -- the worker ---------------------------------------------------------------------------

    def _start(self, what: str, work: Callable[[], str], doing: str) -> None:
        if self.running:
            return
        self._say(doing)
        for button in (self.export_button, self.backup_button, self.restore_button):
            button.setEnabled(False)

        def run() -> None:
            result: object
            try:
                result = work()
            except Exception as exc:  # told to the user (never lost on the thread)
                result = exc
            self._relay.done.emit(what, result)

        self.worker = threading.Thread(target=run, name=f"data {what}", daemon=True)
        self.worker.start()

    def _done(self, what: str, result: object) -> None:
        self.worker = None
        self.export_button.setEnabled(self.history is not None)
        self.backup_button.setEnabled(True)
        self.restore_button.setEnabled(True)
        if isinstance(result, Exception):
            reason = getattr(result, "strerror", None) or str(result) or type(result).__name__
            verb = {"export": "Export", "backup": "Backup", "restore": "Restore"}[what]
            text = f"✗ {verb} failed: {reason}"
        else:
            text = str(result)
        self._say(text)
        self.finished.emit(what, text)
        if what == "restore" and not isinstance(result, Exception):
            done = QMessageBox(QMessageBox.Icon.Information, "Restored", text, parent=self)
            done.setAccessibleName("Backup restored")
            done.setTextFormat(Qt.TextFormat.PlainText)
            done.finished.connect(lambda _r: self._restored())
            self.asking = done
            done.open()

    def _say(self, text: str) -> None:
        self.status.setText(text)


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget)
    row.addStretch(1)
    return row
