"""Everything around the transcript, wired to the window: the header's buttons, the
sidebar (show/hide with Ctrl+B, search with Ctrl+K), the empty state (shown while
a conversation has no messages), the transient banner (connecting, loading the
model), the theme (System/Light/Dark, following the desktop) and the zoom."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog

from .appearance import Looks

if TYPE_CHECKING:
    from .window import MainWindow

__all__ = ["Chrome"]

#: The banner while the session starts (cleared once it has).
CONNECTING = "Connecting… your message will be sent in a moment."


class Chrome(QObject):
    def __init__(self, window: MainWindow, looks: Looks) -> None:
        super().__init__(window)
        self.window = w = window
        self.looks = looks
        looks.changed.connect(self._theme_changed)
        header, sidebar = w.pane.header, w.sidebar
        header.new_button.clicked.connect(w.new_conversation)
        header.settings_button.clicked.connect(w.open_settings)
        header.sidebar_button.clicked.connect(self.toggle_sidebar)
        sidebar.search_messages.connect(self._search_messages)
        w.settings.providers_changed.connect(self.refresh_offer)
        self._icons_ready = False
        self._offering: bool | None = None  # (the offer shown for: the bundled model)

    def order_tabs(self) -> None:
        """Tab: the composer, Send, then the suggestions (empty state) or the transcript."""
        w = self.window
        offer = w.pane.empty.offer
        button = [offer.button] if offer is not None and hasattr(offer, "button") else []
        chain = [w.composer, w.send_button, *button, *w.pane.empty.suggestions]
        if w.views.built:  # (the first transcript is built after the first paint)
            chain.append(w.transcript)
        for first, second in itertools.pairwise(chain):
            w.setTabOrder(first, second)

    def finish_setup(self) -> None:
        """After the first paint (the pane and the sidebar have drawn their icons):
        the style sheets of the icon buttons and cards, the desktop's scheme."""
        self._icons_ready = True
        self._style(self.looks.dark)
        self.looks.follow_system()

    def _theme_changed(self, dark: bool) -> None:
        from .colors import Theme

        self.window.theme = Theme.from_palette()
        if self._icons_ready:
            self._style(dark)
            self.window.pane.refresh_icons()
            self.window.sidebar.refresh_icons()

    def _style(self, dark: bool) -> None:
        from .theme import card_stylesheet

        for button in self.window.pane.header.buttons:
            button.setStyleSheet(self.looks.button_style)
        for card in self.window.pane.empty.suggestions:
            card.setStyleSheet(card_stylesheet(dark))
        self.looks.apply_zoom()  # (styled widgets take the font only when given it)

    def add_pages(self, dialog: QDialog) -> QDialog:
        """Settings → Appearance (before Shortcuts)."""
        from .settings_pages import AppearancePage

        add_page = getattr(dialog, "add_page", None)
        if add_page is not None:
            add_page("Appearance", AppearancePage(self.looks, dialog), before="Shortcuts")
        return dialog

    # -- sidebar ----------------------------------------------------------------------

    def toggle_sidebar(self) -> None:
        """Ctrl+B, or the header's button."""
        self.set_sidebar_visible(not self.window.sidebar.isVisibleTo(self.window))

    def set_sidebar_visible(self, visible: bool) -> None:
        w = self.window
        w.sidebar.setVisible(visible)
        if not visible and w.sidebar.isAncestorOf(w.focusWidget()):
            w.composer.setFocus()

    def focus_search(self) -> None:
        """Ctrl+K: the search field on top of the list (shown if it was hidden)."""
        self.set_sidebar_visible(True)
        self.window.sidebar.focus_search()

    def _search_messages(self, text: str) -> None:
        switcher = self.window.conversations.open_switcher()
        query = getattr(switcher, "query", None)
        if query is not None:
            query.setText(text)

    # -- empty state, notices ---------------------------------------------------------

    def refresh_empty(self) -> None:
        """The empty state while the conversation on screen has nothing but notices."""
        w = self.window
        entries = w.transcript.entries if w.views.built else ()
        empty = all(e.kind == "notice" for e in entries)
        w.pane.set_empty(empty)
        if empty:
            provider = w.settings.provider_of(w.tenant_id)
            w.pane.empty.show_model(provider.label(), "")
            tools = w.session.all_tools() if w.session is not None else w.settings.tools
            w.pane.empty.show_tools([t.name for t in tools])
            self.refresh_offer()

    def refresh_offer(self) -> None:
        """While the bundled model answers (nothing configured), the empty state offers
        a better catalog model that fits this computer, in one click."""
        w = self.window
        if w.session is None:
            return  # (after start-up: the catalog is not read before the first paint)
        from .model_offer import wants_offer

        provider = w.settings.provider_of(w.tenant_id)
        wanted = wants_offer(provider)
        if wanted == self._offering:
            return
        self._offering = wanted
        w.pane.empty.set_offer(w.local_models.offer(provider) if wanted else None)
        self.order_tabs()

    def say(self, text: str, error: bool = False) -> None:
        """A notice: in the empty state while it shows, else in the transcript."""
        if not error and self.window.pane.showing_empty:
            self.window.pane.empty.add_notice(text)
        else:
            self.window.views.say(text, error)
            self.refresh_empty()

    def banner(self, text: str) -> None:
        """A transient notice ("" clears it)."""
        self.window.pane.show_banner(text)
