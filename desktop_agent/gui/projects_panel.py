"""The sidebar's projects: each project a collapsible group with its conversations.

Keys (the tree has focus): Left/Right collapse/expand, Enter opens a conversation
(or edits a project), Insert starts a new conversation in the selected project,
Delete on a conversation moves it out of its project, the Menu key opens the same
context menu as a right click.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from ..storage.projects import Project

__all__ = ["ProjectsPanel"]

#: Qt.ItemDataRole.UserRole (the enum namespace is loaded late; see app.py)
_USER_ROLE = 0x0100


class ProjectsPanel(QWidget):
    activated = Signal(str)  # conversation id to open
    new_in_project = Signal(str)  # project id
    edit_requested = Signal(str)  # project id; "" for a new project
    remove_requested = Signal(str)  # project id
    move_out = Signal(str)  # conversation id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("projects")
        self.setAccessibleName("Projects")
        label = QLabel("Projects", self)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        self.new_button = QPushButton("+ Project", self)
        self.new_button.setAccessibleName("New project")
        self.new_button.setToolTip("A new project: instructions and files for its conversations")
        self.new_button.clicked.connect(lambda: self.edit_requested.emit(""))
        self.tree = QTreeWidget(self)
        self.tree.setAccessibleName("Projects and their conversations")
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.itemActivated.connect(self._activated)
        self.tree.setContextMenuPolicy(self.tree.contextMenuPolicy().CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        for text, key, slot in (
            ("New conversation in this project", "Insert", self._new_here),
            ("Move out of the project", "Delete", self._move_out_selected),
        ):
            action = QAction(text, self.tree)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(action.shortcutContext().WidgetShortcut)
            action.triggered.connect(slot)
            self.tree.addAction(action)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(label, 1)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.tree)
        self.tree.setMaximumHeight(220)

    def set_projects(self, groups: list[tuple[Project, list[tuple[str, str]]]]) -> None:
        """Projects with their conversations (id, title); which groups were open and
        what was selected stay so."""
        opened = {item.data(0, _USER_ROLE) for item in self._groups() if item.isExpanded()}
        current = self.selected()
        self.tree.clear()
        self.tree.setVisible(bool(groups))  # no projects: just the title and "+ Project"
        for project, conversations in groups:
            group = QTreeWidgetItem([f"{project.name}  ({len(conversations)})"])
            group.setData(0, _USER_ROLE, project.id)
            group.setToolTip(0, project.instructions[:300] or "No instructions")
            for conversation_id, title in conversations:
                item = QTreeWidgetItem([title or "New conversation"])
                item.setData(0, _USER_ROLE, conversation_id)
                group.addChild(item)
            self.tree.addTopLevelItem(group)
            group.setExpanded(project.id in opened)
            if current in (project.id, *(c for c, _ in conversations)):
                for i in range(-1, group.childCount()):
                    found = group if i < 0 else group.child(i)
                    if found is not None and found.data(0, _USER_ROLE) == current:
                        self.tree.setCurrentItem(found)

    def _groups(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [item for item in items if item is not None]

    def group(self, project_id: str) -> QTreeWidgetItem | None:
        for item in self._groups():
            if item.data(0, _USER_ROLE) == project_id:
                return item
        return None

    def selected(self) -> str | None:
        item = self.tree.currentItem()
        return str(item.data(0, _USER_ROLE)) if item is not None else None

    def _project_of(self, item: QTreeWidgetItem | None) -> str | None:
        if item is None:
            return None
        parent = item.parent()
        return str((parent or item).data(0, _USER_ROLE))

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        if item.parent() is None:
            self.edit_requested.emit(str(item.data(0, _USER_ROLE)))
        else:
            self.activated.emit(str(item.data(0, _USER_ROLE)))

    def _new_here(self) -> None:
        project_id = self._project_of(self.tree.currentItem())
        if project_id:
            self.new_in_project.emit(project_id)

    def _move_out_selected(self) -> None:
        item = self.tree.currentItem()
        if item is not None and item.parent() is not None:
            self.move_out.emit(str(item.data(0, _USER_ROLE)))

    def _menu(self, point: Any) -> None:
        item = self.tree.itemAt(point)
        if item is None:
            return
        menu = QMenu(self)
        key = str(item.data(0, _USER_ROLE))
        if item.parent() is None:
            menu.addAction(
                "New conversation in this project", lambda: self.new_in_project.emit(key)
            )
            menu.addAction("Edit project…", lambda: self.edit_requested.emit(key))
            menu.addSeparator()
            menu.addAction("Remove project…", lambda: self.remove_requested.emit(key))
        else:
            menu.addAction("Open", lambda: self.activated.emit(key))
            menu.addAction("Move out of the project", lambda: self.move_out.emit(key))
        menu.popup(self.tree.viewport().mapToGlobal(point))
