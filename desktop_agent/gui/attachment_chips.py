"""The attachments waiting in the composer: one chip per file (thumbnail, name, size,
a remove button), a chip with progress while a file is being prepared.

Removing works by mouse (the × button) and keyboard (Tab to the × and press
Space, or Delete / Backspace on it). The tray hides itself when empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

if TYPE_CHECKING:  # (classes built on demand: see app.py, start-up)
    from PySide6.QtGui import QImage, QKeyEvent

    from ..app.attachments import Attachment

__all__ = ["AttachmentChip", "AttachmentTray"]

THUMB = 40


class _RemoveButton(QToolButton):
    def keyPressEvent(self, event: QKeyEvent) -> None:
        from PySide6.QtCore import Qt  # here, not at import: see app.py (start-up)

        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.click()
            return
        super().keyPressEvent(event)


class AttachmentChip(QFrame):
    """One attached file (or one being prepared: `attachment` is None until it is)."""

    remove_requested = Signal(object)  # AttachmentChip: its × was pressed

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        from PySide6.QtCore import Qt

        super().__init__(parent)
        self.setObjectName("attachmentChip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name = name
        self.attachment: Attachment | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 2, 2)
        layout.setSpacing(4)
        self.thumb = QLabel(self)
        self.thumb.setFixedSize(THUMB, THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setText("…")
        text = QVBoxLayout()
        text.setSpacing(0)
        self.name_label = QLabel(name, self)
        self.name_label.setMaximumWidth(180)
        self.detail = QLabel("preparing…", self)
        self.detail.setEnabled(False)
        text.addWidget(self.name_label)
        text.addWidget(self.detail)
        self.remove = _RemoveButton(self)
        self.remove.setText("×")
        self.remove.setAccessibleName(f"Remove {name}")
        self.remove.setToolTip(f"Remove {name} (Delete)")
        self.remove.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))
        layout.addWidget(self.thumb)
        layout.addLayout(text)
        layout.addWidget(self.remove)
        self.setAccessibleName(f"Attachment {name}")

    def progress(self, fraction: float) -> None:
        self.detail.setText(f"reading… {fraction:.0%}")

    def ready(self, attachment: Attachment, thumb: QImage | None = None) -> None:
        """Prepared; `thumb`: a small picture made already (else made here)."""
        from PySide6.QtCore import Qt

        from ..app.attachments import human_size

        self.attachment = attachment
        detail = human_size(attachment.original_size)  # the file, as the user knows it
        if attachment.kind == "image":
            detail += f" · {attachment.width}×{attachment.height}"
            if thumb is None:
                from .transcript_thumbnails import thumbnail_of

                thumb = thumbnail_of(attachment.sha256, attachment.data)
            if thumb is not None and not thumb.isNull():
                from PySide6.QtGui import QPixmap

                self.thumb.setPixmap(
                    QPixmap.fromImage(
                        thumb.scaled(
                            QSize(THUMB, THUMB),
                            Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation,
                        )
                    )
                )
        else:  # the file's kind in letters (emoji need a font many systems lack)
            suffix = attachment.name.rsplit(".", 1)[-1] if "." in attachment.name else "txt"
            self.thumb.setText(suffix[:4].upper())
        self.detail.setText(detail)
        self.detail.setToolTip(attachment.note)
        self.setAccessibleDescription(f"{detail}. {attachment.note}".strip(". "))


class AttachmentTray(QWidget):
    """The row of chips above the composer."""

    changed = Signal()  # chips were added, became ready or were removed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentTray")
        self.setAccessibleName("Attachments")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._layout.addStretch(1)
        self.chips: list[AttachmentChip] = []
        self.hide()

    def add(self, name: str) -> AttachmentChip:
        chip = AttachmentChip(name, self)
        chip.remove_requested.connect(self.remove)
        self._layout.insertWidget(len(self.chips), chip)
        self.chips.append(chip)
        self.show()
        self.changed.emit()
        return chip

    def remove(self, chip: AttachmentChip) -> None:
        if chip not in self.chips:
            return
        index = self.chips.index(chip)
        self.chips.remove(chip)
        chip.hide()
        chip.deleteLater()
        if self.chips:  # keep the keyboard where it was: the next chip's ×
            self.chips[min(index, len(self.chips) - 1)].remove.setFocus()
        else:
            self.hide()
        self.changed.emit()

    @property
    def preparing(self) -> bool:
        return any(chip.attachment is None for chip in self.chips)

    def attachments(self) -> list[Attachment]:
        return [chip.attachment for chip in self.chips if chip.attachment is not None]

    def take(self) -> list[Attachment]:
        """The ready attachments, removed from the tray (sending them)."""
        taken = self.attachments()
        for chip in [c for c in self.chips if c.attachment is not None]:
            self.chips.remove(chip)
            chip.hide()
            chip.deleteLater()
        if not self.chips:
            self.hide()
        self.changed.emit()
        return taken

    def put_back(self, attachments: list[Attachment]) -> None:
        """Attachments that were not sent after all (nothing lost from the composer)."""
        for attachment in attachments:
            self.add(attachment.name).ready(attachment)
