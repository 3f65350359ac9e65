"""A project's dialog: name, instructions, its files (indexed, or skipped and why),
adding files or a folder, re-scanning. Indexing runs on a worker thread
(`asyncio.to_thread`) with a progress bar; the window keeps painting and closing
the dialog stops it after the file being read."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt as QtNS
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..printable import printable

if TYPE_CHECKING:
    from ..app.knowledge import IndexReport
    from ..app.projects import Projects
    from ..storage.projects import Project

__all__ = ["ProjectDialog"]

Qt: Any = QtNS

#: Rows the file list shows at most.
SHOWN_FILES = 1000


class ProjectDialog(QDialog):
    saved = Signal(str)  # project id, after Save (created or changed)
    indexed = Signal(str)  # the summary of an indexing pass that ended

    def __init__(
        self,
        projects: Projects,
        project: Project | None,
        *,
        remote_host: str | None = None,
        providers: Sequence[tuple[str, str]] = (),
        tools: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.projects = projects
        self.project = project
        self.setWindowTitle(f"Project — {project.name}" if project else "New project")
        self.setAccessibleName("Project")
        self.resize(640, 560)
        self.name = QLineEdit(project.name if project else "", self)
        self.name.setAccessibleName("Project name")
        self.instructions = QPlainTextEdit(project.instructions if project else "", self)
        self.instructions.setAccessibleName("Project instructions")
        self.instructions.setPlaceholderText("Added to the system prompt of its conversations")
        self.provider = QComboBox(self)
        self.provider.setAccessibleName("Default provider of new conversations")
        self.provider.addItem("The session's provider", "")
        for provider_id, label in providers:
            self.provider.addItem(label, provider_id)
        if project is not None and project.provider_id:
            index = self.provider.findData(project.provider_id)
            self.provider.setCurrentIndex(max(0, index))
        self.all_tools = QCheckBox("All the session's tools", self)
        self.all_tools.setAccessibleName("All the session's tools")
        self.tools = QListWidget(self)
        self.tools.setAccessibleName("Tools of this project's conversations")
        self.tools.setMaximumHeight(90)
        chosen = None if project is None else project.tools
        for name in sorted(set(tools) | set(chosen or ())):
            item = QListWidgetItem(name, self.tools)
            item.setFlags(item.flags() | item.flags().ItemIsUserCheckable)
            checked = chosen is None or name in chosen
            item.setCheckState(
                item.checkState().Checked if checked else item.checkState().Unchecked
            )
        self.all_tools.toggled.connect(lambda on: self.tools.setEnabled(not on))
        self.all_tools.setChecked(chosen is None)
        self.tools.setEnabled(chosen is not None)
        where = (
            f"Passages from these files are sent to {remote_host} (the provider is remote)."
            if remote_host
            else "Files and their index stay on this computer (the provider is local)."
        )
        self.privacy = QLabel(where, self)
        self.privacy.setWordWrap(True)
        self.privacy.setAccessibleName("Where passages go")
        self.files = QTreeWidget(self)
        self.files.setAccessibleName("Knowledge files")
        self.files.setHeaderLabels(["File", "Status"])
        self.files.setRootIsDecorated(False)
        self.files.setColumnWidth(0, 360)
        self.add_files_button = QPushButton("Add files…", self)
        self.add_files_button.setAccessibleName("Add files")
        self.add_folder_button = QPushButton("Add folder…", self)
        self.add_folder_button.setAccessibleName("Add folder")
        self.rescan_button = QPushButton("Re-scan", self)
        self.rescan_button.setAccessibleName("Re-scan files")
        self.rescan_button.setToolTip("Index changed files again and drop deleted ones")
        self.add_files_button.clicked.connect(self.choose_files)
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.rescan_button.clicked.connect(lambda: self.start_indexing(None))
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Indexing progress")
        self.progress.setVisible(False)
        self.status = QLabel("", self)
        self.status.setAccessibleName("Indexing status")
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Instructions", self.instructions)
        form.addRow("Provider", self.provider)
        form.addRow("Tools", self.all_tools)
        form.addRow("", self.tools)
        row = QHBoxLayout()
        for button in (self.add_files_button, self.add_folder_button, self.rescan_button):
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.privacy)
        layout.addWidget(QLabel("Knowledge files", self))
        layout.addWidget(self.files, 1)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self._cancel = threading.Event()
        self._progress: tuple[int, int, str] = (0, 0, "")
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._show_progress)
        self.task: asyncio.Task[Any] | None = None
        self._embedding = False
        self._set_knowledge_enabled(project is not None)
        self.show_files()

    # -- saving -----------------------------------------------------------------------

    def save(self) -> bool:
        """Create or change the project; False (with the reason shown) when the name
        is empty or taken."""
        from ..storage import StoreError

        name = self.name.text().strip()
        try:
            if self.project is None:
                self.project = self.projects.create(
                    name, instructions=self.instructions.toPlainText()
                )
            else:
                self.projects.update(
                    self.project.id, name=name, instructions=self.instructions.toPlainText()
                )
            self.projects.update(self.project.id, provider_id=self.provider.currentData() or "")
            if self.all_tools.isChecked():
                self.projects.db.clear_tools(self.project.id)
            else:
                self.projects.update(self.project.id, tools=self.chosen_tools())
            self.project = self.projects.get(self.project.id) or self.project
        except StoreError as exc:
            self.status.setText(printable(str(exc)))
            return False
        self.setWindowTitle(f"Project — {self.project.name}")
        self._set_knowledge_enabled(True)
        self.status.setText("Saved.")
        self.saved.emit(self.project.id)
        return True

    def chosen_tools(self) -> list[str]:
        items = (self.tools.item(i) for i in range(self.tools.count()))
        return [
            item.text()
            for item in items
            if item is not None and item.checkState() == Qt.CheckState.Checked
        ]

    def _set_knowledge_enabled(self, on: bool) -> None:
        for button in (self.add_files_button, self.add_folder_button, self.rescan_button):
            button.setEnabled(on and self.task is None)
        if not on:
            self.status.setText("Save the project to add files.")

    # -- files ------------------------------------------------------------------------

    def show_files(self) -> None:
        """The files, skipped ones first (with the reason); at most `SHOWN_FILES` rows
        (a 10,000-file list would hold the window ~0.1-0.3 s; `desktop-agent project
        files NAME` lists them all)."""
        self.files.clear()
        if self.project is None:
            return
        files = self.projects.files(self.project.id, limit=SHOWN_FILES)
        total = self.projects.count_files(self.project.id)
        items = []
        for f in files:
            if f.status == "indexed":
                status = f"indexed: {f.passages} passages"
            else:
                status = f"skipped: {f.reason or 'unknown'}"
            item = QTreeWidgetItem([printable(f.path), printable(status)])
            item.setToolTip(1, printable(status))
            items.append(item)
        if total > len(files):
            items.append(QTreeWidgetItem([f"… and {total - len(files):,} more files", ""]))
        self.files.addTopLevelItems(items)

    def choose_files(self) -> None:
        dialog = QFileDialog(self, "Add files to the project")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(lambda paths: self.start_indexing(list(paths)))
        dialog.open()

    def choose_folder(self) -> None:
        dialog = QFileDialog(self, "Add a folder to the project")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(lambda path: self.start_indexing([path]))
        dialog.open()

    def start_indexing(self, paths: list[str] | None) -> asyncio.Task[Any] | None:
        """Index `paths` (None: re-scan everything) on a worker thread."""
        if self.project is None or self.task is not None:
            return None
        self.task = asyncio.ensure_future(self._index(self.project.id, paths))
        return self.task

    async def _index(self, project_id: str, paths: list[str] | None) -> IndexReport | None:
        self._cancel.clear()
        self._progress = (0, 0, "")
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self._set_knowledge_enabled(True)
        self._timer.start()

        def progress(done: int, total: int, path: str) -> None:  # on the worker thread
            self._progress = (done, total, path)

        report = None
        try:
            if paths is None:
                work = self.projects.rescan
                report = await asyncio.to_thread(
                    work, project_id, progress=progress, cancel=self._cancel
                )
            else:
                report = await asyncio.to_thread(
                    self.projects.index,
                    project_id,
                    [Path(p) for p in paths],
                    progress=progress,
                    cancel=self._cancel,
                )
            summary = report.summary()
            if self.projects.embedder is not None and self.projects.embedding_model:
                summary += "; " + await self._embed(project_id)
            self.status.setText(printable(summary))
            self.indexed.emit(summary)
        except (OSError, LookupError) as exc:
            self.status.setText(printable(f"Not indexed: {exc}"))
        finally:
            self._timer.stop()
            self.progress.setVisible(False)
            self.task = None
            self._set_knowledge_enabled(True)
            self.show_files()
        return report

    async def _embed(self, project_id: str) -> str:
        """Vectors for the new passages (hybrid search), from the provider."""
        from ..engine.model import ModelError

        def progress(done: int, total: int) -> None:
            self._progress = (done, total, "")

        self._embedding = True
        try:
            count = await self.projects.embed(project_id, progress=progress)
        except (ModelError, ValueError) as exc:
            return f"not embedded ({exc}): search uses BM25 alone"
        finally:
            self._embedding = False
        return f"{count} passages embedded"

    def _show_progress(self) -> None:
        done, total, path = self._progress
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        if self._embedding:
            self.status.setText(f"Embedding {done:,} of {total:,} passages…")
            return
        name = Path(path).name if path else ""
        self.status.setText(printable(f"Indexing {done:,} of {total:,} files… {name}"))

    def done(self, result: int) -> None:
        self._cancel.set()  # a running pass stops after the file it is reading
        super().done(result)
