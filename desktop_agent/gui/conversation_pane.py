"""The right-hand side of the window: the conversation's title and provider, the
transcripts (a stack: one per conversation in view), the composer and Send."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .attach_input import attach_button
from .attachment_chips import AttachmentTray
from .composer import Composer
from .provider_box import ProviderBox

__all__ = ["ConversationPane"]


class ConversationPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.setSpacing(6)
        header = QHBoxLayout()
        self.title_label = QLabel("New conversation", self)
        self.title_label.setAccessibleName("Conversation title")
        self.provider_box = ProviderBox(self)
        header.addWidget(self.title_label, 1)
        header.addWidget(self.provider_box)
        layout.addLayout(header)
        self.stack = QStackedWidget(self)
        layout.addWidget(self.stack, 1)
        self.tray = AttachmentTray(self)  # files waiting to go with the message
        layout.addWidget(self.tray)
        row = QHBoxLayout()
        self.attach_button = attach_button(self)
        row.addWidget(self.attach_button)
        self.composer = Composer(self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setAccessibleName("Send or stop")
        self.send_button.setToolTip("Send (Enter) · Stop (Esc)")
        self.send_button.setMinimumHeight(40)
        row.addWidget(self.composer, 1)
        row.addWidget(self.send_button)
        layout.addLayout(row)

    def finish_setup(self) -> None:
        """After the first paint (QFont's enums cost ~20 ms to build)."""
        font = self.title_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title_label.setFont(font)

    def set_busy(self, busy: bool) -> None:
        self.composer.busy = busy
        self.send_button.setText("Stop" if busy else "Send")

    def show_header(self, title: str, provider_id: str) -> None:
        self.title_label.setText(title or "New conversation")
        self.provider_box.show_provider(provider_id)
