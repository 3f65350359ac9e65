"""The box above the transcript: which saved provider answers the conversation on
screen. It lists the providers and says which one was chosen; the session keeps
the choice (`Session.choose_provider`)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from ..app.providers import Providers

__all__ = ["ProviderBox"]


class ProviderBox(QComboBox):
    """The model picker in the header: always shown (it says which model answers),
    switchable when more than one provider is saved."""

    chosen = Signal(str)  # the provider id the user picked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Provider for this conversation")
        self.setToolTip("Where this conversation's answers come from")
        self.setAccessibleDescription("The provider and model that answer this conversation")
        self.setMaximumWidth(360)  # (a long model name is elided, the header keeps its title)
        self.activated.connect(self._activated)

    def fill(self, providers: Providers, default_label: str, selected: str) -> None:
        """List `providers` (the default one by `default_label`), `selected` current."""
        from PySide6.QtCore import QSignalBlocker

        with QSignalBlocker(self):
            self.clear()
            for provider in providers.items:
                is_default = provider.id == providers.default.id
                self.addItem(default_label if is_default else provider.title, provider.id)
            self.show_provider(selected)

    def show_provider(self, provider_id: str) -> None:
        index = self.findData(provider_id)
        if index >= 0:
            self.setCurrentIndex(index)

    def choose(self, provider_id: str) -> None:
        """Pick a provider as the user would."""
        index = self.findData(provider_id)
        if index >= 0:
            self.setCurrentIndex(index)
            self._activated(index)

    def _activated(self, index: int) -> None:
        provider_id = self.itemData(index)
        if provider_id:
            self.chosen.emit(str(provider_id))
