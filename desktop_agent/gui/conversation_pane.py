"""The right-hand side of the window: the header (sidebar toggle, title, model
picker, new conversation, settings), a banner for transient notices (connecting,
loading the model: gone when done), the transcripts (a stack: one per
conversation in view) or the empty state over them, the composer and Send."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .attach_input import attach_button, attach_icon
from .attachment_chips import AttachmentTray
from .composer import Composer
from .empty_state import EmptyState
from .header import Header

__all__ = ["ConversationPane"]


class ConversationPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 4)
        layout.setSpacing(6)
        self.header = Header(self)
        self.title_label, self.provider_box = self.header.title_label, self.header.provider_box
        layout.addWidget(self.header)
        self.banner = QLabel("", self)
        self.banner.setObjectName("banner")
        self.banner.setAccessibleName("Notice")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.stack = QStackedWidget(self)  # the transcripts
        self.empty = EmptyState(self)
        self.body = QStackedWidget(self)
        self.body.addWidget(self.stack)
        self.body.addWidget(self.empty)
        layout.addWidget(self.body, 1)
        self.tray = AttachmentTray(self)  # files waiting to go with the message
        layout.addWidget(self.tray)
        row = QHBoxLayout()
        self.attach_button = attach_button(self)
        row.addWidget(self.attach_button)
        self.composer = Composer(self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setAccessibleName("Send or stop")
        self.send_button.setAccessibleDescription("Sends the message; while answering, stops")
        self.send_button.setToolTip("Send (Enter) · Stop (Esc)")
        self.send_button.setMinimumHeight(40)
        row.addWidget(self.composer, 1)
        row.addWidget(self.send_button)
        layout.addLayout(row)
        self.empty.suggestion_chosen.connect(self.composer.fill)

    def finish_setup(self) -> None:
        """After the first paint (QFont's enums cost ~20 ms to build)."""
        font = self.title_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title_label.setFont(font)
        self.empty.finish_setup()
        attach_icon(self.attach_button)
        self.refresh_icons()

    def refresh_icons(self) -> None:
        for button in self.header.buttons:
            button.refresh()

    def set_busy(self, busy: bool) -> None:
        self.composer.busy = busy
        self.send_button.setText("Stop" if busy else "Send")

    def show_header(self, title: str, provider_id: str) -> None:
        self.header.set_title(title)
        self.provider_box.show_provider(provider_id)

    def set_empty(self, empty: bool) -> None:
        """The empty state (True) or the transcript."""
        self.body.setCurrentWidget(self.empty if empty else self.stack)

    @property
    def showing_empty(self) -> bool:
        return self.body.currentWidget() is self.empty

    def show_banner(self, text: str) -> None:
        """A transient notice above the conversation, until `clear_banner`."""
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def clear_banner(self) -> None:
        self.show_banner("")
