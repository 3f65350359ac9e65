"""The header above the conversation: show/hide the sidebar (Ctrl+B), the
conversation's title, the model picker (provider · model) and the buttons for a new
conversation and Settings, each with an icon, a tooltip and an accessible name."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from .icons import IconButton
from .provider_box import ProviderBox

__all__ = ["Header"]


class Header(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.setAccessibleName("Conversation header")
        self.sidebar_button = IconButton(
            "sidebar", "Show or hide the sidebar", "The list of conversations", "Ctrl+B", self
        )
        self.title_label = QLabel("New conversation", self)
        self.title_label.setAccessibleName("Conversation title")
        # (a long title is elided by the layout, never widening the window)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.provider_box = ProviderBox(self)
        self.new_button = IconButton(
            "new", "New conversation", "Start a new conversation", "Ctrl+N", self
        )
        self.settings_button = IconButton(
            "settings", "Settings", "Providers, tools, MCP servers, appearance", "Ctrl+,", self
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(8)
        layout.addWidget(self.sidebar_button)
        layout.addWidget(self.title_label, 1)
        layout.addWidget(self.provider_box)
        layout.addWidget(self.new_button)
        layout.addWidget(self.settings_button)
        self.setFixedHeight(48)

    @property
    def buttons(self) -> list[IconButton]:
        return [self.sidebar_button, self.new_button, self.settings_button]

    def set_title(self, title: str) -> None:
        """(Clipped by the layout when long; the whole title is in the tooltip.)"""
        title = title or "New conversation"
        self.title_label.setText(title)
        self.title_label.setToolTip(title)
