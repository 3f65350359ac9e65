"""Import conversations from a file (ChatGPT, Claude, Open WebUI, our JSON): a file
picker, a progress bar, and the summary at the end.

The import runs in a worker thread with its own connection to the history (WAL
lets the window keep reading and writing); progress and the result come back as
queued signals. `start(path)` begins it without the picker (tests, drops).
The images and files an export holds are prepared as the composer prepares
attachments (same limits, from the settings) and kept with their messages.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ImportDialog"]


class _Relay(QObject):
    """Signals from the worker thread (delivered queued, on the GUI thread)."""

    progress = Signal(int, int, int)  # bytes read, bytes in all, conversations done
    finished = Signal(object)  # ImportSummary, or the error message (str)


class ImportDialog(QDialog):
    """Args:
    history: the history database's file (the worker opens its own connection).
    """

    imported = Signal(int)  # conversations added (emitted when the import ends)

    def __init__(self, history: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import conversations")
        self.setAccessibleName("Import conversations")
        self._history = history
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.result_summary: Any = None
        layout = QVBoxLayout(self)
        self.label = QLabel(
            "Import a ChatGPT data export (conversations.json or the .zip), a Claude export, "
            "an Open WebUI chat export or desktop-agent's JSON. Images and files in the export "
            "are kept with their messages. Importing a file again adds nothing twice."
        )
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setAccessibleName("Choose the file to import")
        self.choose_button.clicked.connect(self.choose)
        layout.addWidget(self.choose_button)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Import progress")
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        layout.addWidget(self.bar)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setAccessibleName("Import summary")
        self.summary.setPlaceholderText("The summary appears here.")
        layout.addWidget(self.summary)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(600, 420)
        self._relay = _Relay(self)
        self._relay.progress.connect(self._progress)
        self._relay.finished.connect(self._finished)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def choose(self) -> None:
        picker = QFileDialog(self, "Import conversations")
        picker.setNameFilters(["Exports (*.json *.zip)", "All files (*)"])
        picker.setFileMode(QFileDialog.FileMode.ExistingFile)
        picker.fileSelected.connect(lambda path: self.start(Path(path)))
        picker.open()

    def start(self, path: Path) -> None:
        """Import `path` in a worker thread."""
        if self.running:
            return
        self.choose_button.setEnabled(False)
        self.bar.setValue(0)
        self.summary.setPlainText(f"Importing {path.name}…")
        self._thread = threading.Thread(target=self._work, args=(path,), name="import", daemon=True)
        self._thread.start()

    def _work(self, path: Path) -> None:
        from ..app.attachments import for_import
        from ..storage import Store, StoreError
        from ..storage.importers import ImportFormatError, Limits, import_file
        from .attach_input import settings_limits

        result: Any
        attach = settings_limits()
        try:
            store = Store(self._history, session=False)
        except StoreError as exc:
            self._relay.finished.emit(str(exc))
            return
        try:
            result = import_file(
                store,
                path,
                progress=lambda read, total, done: self._relay.progress.emit(
                    int(read * 1000 / max(total, 1)), total, done
                ),
                should_stop=self._stop.is_set,
                limits=Limits(
                    attachment_bytes=attach.file_bytes,
                    message_files=attach.files,
                    message_bytes=attach.message_bytes,
                ),
                prepare=for_import(attach),
            )
        except ImportFormatError as exc:
            result = f"Cannot import {path.name}: {exc}"
        except Exception as exc:  # a bug must not kill the thread silently
            result = f"Cannot import {path.name}: {type(exc).__name__}: {exc}"
        finally:
            store.close()
        self._relay.finished.emit(result)

    def _progress(self, permille: int, _total: int, done: int) -> None:
        self.bar.setValue(permille)
        self.summary.setPlainText(f"Imported or checked {done} conversations…")

    def _finished(self, result: Any) -> None:
        self.choose_button.setEnabled(True)
        if isinstance(result, str):
            self.summary.setPlainText(result)
            self.imported.emit(0)
            return
        self.result_summary = result
        self.bar.setValue(1000)
        self.summary.setPlainText("\n".join(result.lines()))
        self.imported.emit(len(result.imported))

    def done(self, code: int) -> None:
        """Closing stops the import after the conversation being written."""
        self._stop.set()
        super().done(code)
