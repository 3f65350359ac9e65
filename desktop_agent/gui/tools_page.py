"""Settings → Tools: which built-in tools the agent has, the workspace folder, and
the tools allowed without asking (revocable)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..app.settings import ToolSettings
from ..tools.catalog import BUILTINS

__all__ = ["ToolsPage"]


class ToolsPage(QWidget):
    def __init__(self, settings: ToolSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Tools")
        self.settings = settings
        layout = QVBoxLayout(self)
        builtins = QGroupBox("Built-in tools", self)
        box = QVBoxLayout(builtins)
        self.switches: dict[str, QCheckBox] = {}
        for name, label, _default in BUILTINS:
            check = QCheckBox(label, builtins)
            check.setAccessibleName(label)
            check.setChecked(settings.enabled(name))
            box.addWidget(check)
            self.switches[name] = check
        note = QLabel(
            "Writing files, fetching pages and shell commands ask before they run.", builtins
        )
        note.setWordWrap(True)
        box.addWidget(note)
        layout.addWidget(builtins)

        folder_row = QHBoxLayout()
        self.workspace = QLineEdit(settings.workspace, self)
        self.workspace.setAccessibleName("Workspace folder")
        self.workspace.setPlaceholderText("a folder the file tools may read and write")
        browse = QPushButton("Browse…", self)
        browse.setAccessibleName("Choose the workspace folder")
        browse.clicked.connect(self._browse)
        folder_row.addWidget(QLabel("Workspace folder", self))
        folder_row.addWidget(self.workspace, 1)
        folder_row.addWidget(browse)
        layout.addLayout(folder_row)

        allowed = QGroupBox("Always allowed (these run without asking)", self)
        allowed_box = QVBoxLayout(allowed)
        self.always = QListWidget(allowed)
        self.always.setAccessibleName("Tools always allowed")
        self.always.addItems(sorted(settings.always_allowed))
        self.revoke_button = QPushButton("Revoke", allowed)
        self.revoke_button.setAccessibleName("Ask again before this tool runs")
        self.revoke_button.clicked.connect(self.revoke_selected)
        allowed_box.addWidget(self.always)
        allowed_box.addWidget(self.revoke_button)
        layout.addWidget(allowed, 1)

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Choose the workspace folder", self.workspace.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(self.workspace.setText)
        dialog.open()  # not exec(): the asyncio loop runs on Qt's

    def revoke_selected(self) -> None:
        for item in self.always.selectedItems():
            self.always.takeItem(self.always.row(item))

    def current(self) -> ToolSettings:
        disabled = {name for name, check in self.switches.items() if not check.isChecked()}
        always = {self.always.item(i).text() for i in range(self.always.count())}
        return replace(
            self.settings,
            disabled=frozenset(disabled),
            workspace=self.workspace.text().strip(),
            always_allowed=frozenset(always),
        )
