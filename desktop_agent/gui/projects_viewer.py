"""A cited passage, opened: text and code files in an in-app viewer scrolled to the
passage's lines (highlighted); PDFs in the system's viewer."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QDesktopServices, QFontDatabase, QTextCursor, QTextFormat
from PySide6.QtWidgets import QDialog, QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from ..printable import printable

__all__ = ["SourceViewer", "open_source"]

#: Larger files are not shown in the viewer (the indexer skips them too).
MAX_VIEW_BYTES = 20 * 1024 * 1024


class SourceViewer(QDialog):
    """A read-only text file with lines `first`..`last` highlighted and in view."""

    def __init__(
        self, path: Path, text: str, first: int, last: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{path.name} — lines {first}-{last}")
        self.setAccessibleName(f"Source {path.name}")
        self.resize(760, 560)
        self.where = QLabel(printable(f"{path}  (lines {first}-{last})"), self)
        self.where.setWordWrap(True)
        self.text = QPlainTextEdit(self)
        self.text.setAccessibleName("Source text")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText(text)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addWidget(self.text, 1)
        self.first, self.last = first, last
        self._mark(first, last)

    def _mark(self, first: int, last: int) -> None:
        document = self.text.document()
        start = document.findBlockByNumber(max(0, first - 1))
        end = document.findBlockByNumber(max(0, last - 1))
        if not start.isValid():
            return
        cursor = QTextCursor(start)
        cursor.setPosition(
            (end if end.isValid() else start).position()
            + (end if end.isValid() else start).length()
            - 1,
            QTextCursor.MoveMode.KeepAnchor,
        )
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        selection.format.setBackground(QColor(self.palette().highlight().color().lighter(170)))
        selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        self.text.setExtraSelections([selection])
        self.text.setTextCursor(QTextCursor(start))
        self.text.centerCursor()

    def selected_text(self) -> str:
        return "\n".join(s.cursor.selectedText() for s in self.text.extraSelections())


def open_source(path: Path, anchor: str, parent: QWidget | None = None) -> SourceViewer | str:
    """Open a cited file at its place: the in-app viewer for text (returned), the
    system's viewer for a PDF ("system"); else why not (a message)."""
    if path.suffix.lower() == ".pdf":
        url = QUrl.fromLocalFile(str(path))
        page = re.fullmatch(r"page=(\d+)", anchor)
        if page:
            url.setFragment(f"page={page.group(1)}")  # viewers that read it open that page
        return "system" if QDesktopServices.openUrl(url) else f"No viewer opened {path.name}."
    try:
        if path.stat().st_size > MAX_VIEW_BYTES:
            return f"{path.name} is too large to show here."
        data = path.read_bytes()
    except OSError as exc:
        return f"{path.name} cannot be opened: {exc.strerror or exc}"
    from ..app.attachment_documents import decode_text
    from ..app.attachments import AttachmentError

    try:
        text = decode_text(path.name, data)
    except AttachmentError as exc:
        return str(exc)
    lines = re.fullmatch(r"L(\d+)-L(\d+)", anchor)
    first, last = (int(lines.group(1)), int(lines.group(2))) if lines else (1, 1)
    return SourceViewer(path, text, first, last, parent)
