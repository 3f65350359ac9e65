"""Dropping an export (.json or .zip) onto the window imports it: an event filter on
the window (drops on widgets that take their own, like the message box, stay
theirs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QWidget

__all__ = ["ImportDrop", "dropped_export"]

SUFFIXES = (".json", ".zip")


def dropped_export(mime: QMimeData) -> Path | None:
    """The one local .json or .zip file being dragged, else None."""
    if not mime.hasUrls():
        return None
    urls = mime.urls()
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    path = Path(urls[0].toLocalFile())
    return path if path.suffix.lower() in SUFFIXES else None


class ImportDrop(QObject):
    """Accepts a dragged export on `widget` and hands its path to `on_file`."""

    def __init__(self, widget: QWidget, on_file: Callable[[Path], object]) -> None:
        super().__init__(widget)
        self._on_file = on_file
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, (QDragEnterEvent, QDropEvent))
            if dropped_export(event.mimeData()) is not None:
                event.acceptProposedAction()
                return True
        elif event.type() == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            path = dropped_export(event.mimeData())
            if path is not None:
                event.acceptProposedAction()
                self._on_file(path)
                return True
        return False
