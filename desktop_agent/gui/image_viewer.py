"""An attached image at full size, in the app (never handed to another program)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

__all__ = ["ImageViewer"]


class ImageViewer(QDialog):
    """A picture in a scrollable window; Esc or Close closes it."""

    def __init__(self, data: bytes, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(name or "Image")
        self.setAccessibleName(f"Image {name}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.image = QImage.fromData(data)
        layout = QVBoxLayout(self)
        self.picture = QLabel(self)
        self.picture.setAccessibleName(name or "Image")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if self.image.isNull():
            self.picture.setText(f"{name}: this image cannot be shown.")
        else:
            self.picture.setPixmap(QPixmap.fromImage(self.image))
            self.picture.setAccessibleDescription(
                f"{self.image.width()}×{self.image.height()} pixels"
            )
        scroll = QScrollArea(self)
        scroll.setWidget(self.picture)
        scroll.setWidgetResizable(True)
        scroll.setAccessibleName("Picture")
        layout.addWidget(scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        for button in buttons.buttons():
            button.setAccessibleName("Close the image")
        layout.addWidget(buttons)
        if not self.image.isNull():
            self.resize(min(self.image.width() + 40, 1200), min(self.image.height() + 80, 900))
