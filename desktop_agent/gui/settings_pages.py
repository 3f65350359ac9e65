"""The Settings dialog's frame and its small pages.

`PageNav`: a navigation list on the left (arrow keys, Home/End) and the pages in a
stack on the right; `add_page(name, widget)` is how a page joins (the Models and
Data pages of other parts do the same). Pages here: General, Appearance, Shortcuts,
About; and the F1 shortcuts dialog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import __version__

if TYPE_CHECKING:
    from .appearance import Looks

__all__ = [
    "AboutPage",
    "AppearancePage",
    "GeneralPage",
    "PageNav",
    "ShortcutsDialog",
    "note",
    "problem_label",
    "show_problem",
]


class PageNav(QWidget):
    """A navigation list and a stack of pages, one per entry."""

    page_changed = Signal(str)  # the name of the page now shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.nav = QListWidget(self)
        self.nav.setAccessibleName("Settings pages")
        self.nav.setAccessibleDescription("Up and Down choose a page")
        self.nav.setFixedWidth(180)
        self.nav.setSpacing(3)
        self.stack = QStackedWidget(self)
        self.names: list[str] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.nav.currentRowChanged.connect(self._show)

    def add_page(self, name: str, widget: QWidget, *, before: str | None = None) -> None:
        """Add a page (at the end, or before the page `before`)."""
        at = self.names.index(before) if before in self.names else len(self.names)
        if not widget.accessibleName():
            widget.setAccessibleName(name)
        self.names.insert(at, name)
        self.nav.insertItem(at, name)
        self.stack.insertWidget(at, widget)
        if self.nav.currentRow() < 0:
            self.nav.setCurrentRow(0)

    def page(self, name: str) -> QWidget:
        widget = self.stack.widget(self.names.index(name))
        assert widget is not None
        return widget

    def show_page(self, name: str) -> None:
        self.nav.setCurrentRow(self.names.index(name))

    @property
    def current_name(self) -> str:
        row = self.nav.currentRow()
        return self.names[row] if row >= 0 else ""

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.names):
            self.stack.setCurrentIndex(row)
            self.page_changed.emit(self.names[row])


def note(text: str, parent: QWidget, name: str) -> QLabel:
    """A word-wrapped label with an accessible name (the pages' notes)."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setAccessibleName(name)
    return label


def problem_label(parent: QWidget, name: str) -> QLabel:
    """The inline label under a field that says what is wrong with it (hidden when
    nothing is); `show_problem` fills it."""
    label = note("", parent, name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.hide()
    return label


def show_problem(label: QLabel, problem: str) -> bool:
    """Show `problem` ("" for none) in a `problem_label`; True when there is none."""
    label.setText(f"✗ {problem}" if problem else "")
    label.setVisible(bool(problem))
    return not problem


class GeneralPage(QWidget):
    """Where things are kept: settings, history, logs, API keys."""

    def __init__(self, key_note: QLabel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from ..app.paths import data_dir

        form = QFormLayout(self)
        folder = str(data_dir())
        form.addRow("Data folder", note(folder, self, "Data folder"))
        form.addRow("History", note("history.db in the data folder", self, "History"))
        form.addRow("Log", note("logs/desktop-agent.log in the data folder", self, "Log"))
        form.addRow("API keys", key_note)


class AppearancePage(QWidget):
    """Colour scheme (System follows the desktop) and zoom; applied at once."""

    def __init__(self, looks: Looks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.looks = looks
        self.scheme = QComboBox(self)
        self.scheme.setAccessibleName("Colour scheme")
        self.scheme.setAccessibleDescription("System follows the desktop's light or dark setting")
        for label, value in (("System", "system"), ("Light", "light"), ("Dark", "dark")):
            self.scheme.addItem(label, value)
        self.scheme.setCurrentIndex(self.scheme.findData(looks.appearance.scheme))
        self.scheme.currentIndexChanged.connect(
            lambda i: looks.set_scheme(str(self.scheme.itemData(i)))
        )
        self.zoom = QSpinBox(self)
        self.zoom.setAccessibleName("Zoom")
        self.zoom.setAccessibleDescription("Text size in per cent (Ctrl+= / Ctrl+- / Ctrl+0)")
        self.zoom.setRange(50, 300)
        self.zoom.setSingleStep(10)
        self.zoom.setSuffix(" %")
        self.zoom.setValue(looks.appearance.zoom)
        self.zoom.valueChanged.connect(looks.set_zoom)
        form = QFormLayout(self)
        form.addRow("Colour scheme", self.scheme)
        form.addRow("Zoom", self.zoom)
        hc = "on" if looks.high_contrast else "off"
        form.addRow(
            "",
            note(
                f"The desktop's high-contrast setting is {hc}; "
                "when on, text and borders are drawn at full strength.",
                self,
                "High contrast",
            ),
        )


class AboutPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addWidget(note(f"desktop-agent {__version__}", self, "Version"))
        layout.addWidget(
            note(
                "A desktop chat client for tool-calling language-model agents. "
                "Icons: Material Design Icons via qtawesome.",
                self,
                "About desktop-agent",
            )
        )
        layout.addStretch(1)


def shortcuts_table(shortcuts: list[tuple[str, str]], parent: QWidget) -> QTableWidget:
    table = QTableWidget(len(shortcuts), 2, parent)
    table.setAccessibleName("Shortcut list")
    table.setTabKeyNavigation(False)  # (arrows move in it; Tab goes on to Save)
    table.setHorizontalHeaderLabels(["Keys", "Action"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for row, (keys, what) in enumerate(shortcuts):
        table.setItem(row, 0, QTableWidgetItem(keys))
        table.setItem(row, 1, QTableWidgetItem(what))
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    return table


class ShortcutsDialog(QDialog):
    def __init__(self, shortcuts: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        self.table = shortcuts_table(shortcuts, self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(480, 420)
