"""The Models page: the catalog with what fits this computer, downloads (pause,
resume, cancel), installed models (delete, import a GGUF), and "Use this model".

A widget the window hosts as Settings → Models (Ctrl+Shift+M opens Settings on it);
the downloads belong to the window's `DownloadManager`, so they go on when Settings
closes. `FirstRunOffer` is the one-click "a better model" panel (the empty state
shows it too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStatusBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..app.providers import ConnectionConfig, Providers, local_config, new_provider_id
from ..printable import printable
from ..providers.models import download
from ..providers.models.catalog import (
    CATALOG,
    GB,
    CatalogEntry,
    Machine,
    fit_hint,
    this_machine,
)
from ..providers.models.gguf import GGUFError
from ..providers.models.installed import InstalledModel, ModelLibrary
from .downloads import DownloadManager

if TYPE_CHECKING:
    from .settings_controller import SettingsController

__all__ = ["FirstRunOffer", "ModelsPage", "better_model", "use_local_model"]

COLUMNS = ("Model", "Size", "Memory", "Context", "Abilities", "Licence", "State")


@dataclass
class _Row:
    ref: str
    entry: CatalogEntry | None
    installed: InstalledModel | None


def _abilities(entry: CatalogEntry) -> str:
    found = [name for name, on in (("tools", entry.tools), ("vision", entry.vision)) if on]
    return ", ".join(found) or "text only"


def _size(n: int) -> str:
    return f"{n / GB:.2f} GB" if n < GB else f"{n / GB:.1f} GB"


def better_model(
    library: ModelLibrary, catalog: tuple[CatalogEntry, ...] | None = None
) -> CatalogEntry | None:
    """The model to offer instead of the bundled one: the first tool-capable catalog
    model that fits this computer comfortably (memory to spare), not yet installed."""
    catalog = CATALOG if catalog is None else catalog
    machine = this_machine(library.folder)
    have = {m.catalog_id for m in library.models()}
    fitting = [
        e
        for e in catalog
        if e.tools and e.id not in have and fit_hint(e, machine)[0]
        and (not machine.ram or e.ram <= machine.ram // 2)
    ]  # fmt: skip
    preferred = [e for e in fitting if e.id == "qwen3-1.7b"] or fitting
    return preferred[0] if preferred else None


class FirstRunOffer(QWidget):
    """ "A better local model: Qwen3 1.7B (1.8 GB download) [Download and use]"."""

    download_requested = Signal(str)  # the model to download (and then use): hf:REPO/FILE

    def __init__(self, entry: CatalogEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.setAccessibleName("A better local model")
        layout = QHBoxLayout(self)
        self.text = QLabel(
            f"The built-in model is tiny. {entry.name} answers better and can use tools: "
            f"a {_size(entry.size)} download.",
            self,
        )
        self.text.setWordWrap(True)
        self.button = QPushButton(f"Download {entry.name} ({_size(entry.size)})", self)
        self.button.setAccessibleName(f"Download and use {entry.name}")
        self.button.clicked.connect(lambda: self.download_requested.emit(entry.ref))
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)

    def show_progress(self, ref: str, done: int, total: int) -> None:
        """A download's progress (the offered one's is shown on the button)."""
        if ref == self.entry.ref and total:
            self.button.setText(f"Downloading {self.entry.name}… {100 * done // total}%")


class ModelsPage(QWidget):
    use_requested = Signal(str)  # the path of the model file to run in the engine
    message = Signal(str)  # something to tell people (also shown on the page)

    def __init__(
        self,
        manager: DownloadManager,
        parent: QWidget | None = None,
        *,
        catalog: tuple[CatalogEntry, ...] | None = None,
        download_and_use: Callable[[str], None] | None = None,
    ) -> None:
        """`download_and_use`: who downloads a model and then uses it (the window, so
        that it happens even when this page is gone); else the page does it."""
        super().__init__(parent)
        self.setAccessibleName("Models")
        self.manager = manager
        self._download_and_use = download_and_use
        self.library = manager.library
        self.catalog = CATALOG if catalog is None else catalog
        self.rows: list[_Row] = []
        layout = QVBoxLayout(self)
        self.machine_label = QLabel(self)
        self.machine_label.setAccessibleName("This computer")
        layout.addWidget(self.machine_label)
        offer = better_model(self.library, self.catalog)
        self.offer = FirstRunOffer(offer, self) if offer is not None else None
        #: downloads to use as soon as they are installed (the one-click offer)
        self.use_after: set[str] = set()
        if self.offer is not None:
            self.offer.download_requested.connect(self.download_and_use)
            layout.addWidget(self.offer)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setAccessibleName("Models: the catalog and installed models")
        self.table.setTabKeyNavigation(False)  # (arrows move in it; Tab goes on)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Download progress")
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = QLabel("", self)
        self.status.setAccessibleName("Models status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text, slot in (
            ("download", "&Download", self._download_selected),
            ("pause", "&Pause", self._pause_selected),
            ("cancel", "&Cancel download", self._cancel_selected),
            ("use", "&Use this model", self._use_selected),
            ("delete", "De&lete", self._delete_selected),
            ("import", "&Import GGUF…", self.choose_import),
        ):
            button = QPushButton(text, self)
            button.setAccessibleName(text.replace("&", ""))
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons[name] = button
        layout.addLayout(buttons)
        manager.progress.connect(self._progress)
        manager.finished.connect(self._finished)
        self.refresh()

    # -- the table ----------------------------------------------------------------------

    def refresh(self) -> None:
        machine = this_machine(self.library.folder)
        self.machine_label.setText(
            f"This computer: {_size(machine.ram)} of memory, "
            f"{_size(machine.free_disk)} free for models"
        )
        installed = self.library.models()
        by_id = {m.id: m for m in installed}
        self.rows = [_Row(e.ref, e, by_id.pop(f"{e.repo}/{e.file}", None)) for e in self.catalog]
        self.rows += [_Row(m.ref, None, m) for m in by_id.values()]
        selected = self.selected_ref()
        self.table.setRowCount(len(self.rows))
        for i, row in enumerate(self.rows):
            e, m = row.entry, row.installed
            state = self._state(row, machine)
            cells = (
                e.name if e else printable(m.file if m else row.ref),
                _size(m.size if m else e.size if e else 0),
                _size(e.ram) if e else "",
                f"{e.context // 1024}k" if e else "",
                _abilities(e) if e else "",
                e.licence if e else "",
                state,
            )
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j == 0 and e is not None and e.note:
                    item.setToolTip(e.note)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        if selected:
            self.select(selected)
        self._update_buttons()

    def _state(self, row: _Row, machine: Machine) -> str:
        if row.installed is not None:
            return "installed"
        if self.manager.active(row.ref):
            return "downloading"
        try:
            have = download.partial_size(row.ref, self.library)
        except ValueError:
            have = 0
        if have:
            return f"paused at {_size(have)}"
        assert row.entry is not None
        return fit_hint(row.entry, machine)[1]

    def select(self, ref: str) -> None:
        for i, row in enumerate(self.rows):
            if ref in (row.ref, row.entry.id if row.entry else None):
                self.table.selectRow(i)
                return

    def selected_row(self) -> _Row | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def selected_ref(self) -> str | None:
        row = self.selected_row()
        return row.ref if row else None

    def _update_buttons(self) -> None:
        row = self.selected_row()
        downloading = row is not None and self.manager.active(row.ref)
        installed = row is not None and row.installed is not None
        self.buttons["download"].setEnabled(row is not None and not installed and not downloading)
        self.buttons["pause"].setEnabled(downloading)
        partial = False
        if row is not None and not installed:
            try:
                partial = download.partial_size(row.ref, self.library) > 0
            except ValueError:
                partial = False
        self.buttons["cancel"].setEnabled(downloading or partial)
        self.buttons["use"].setEnabled(installed)
        self.buttons["delete"].setEnabled(installed)
        if row is not None and row.entry is not None and not installed:
            verb = "Resume" if partial else "Download"
            self.buttons["download"].setText(f"&{verb} ({_size(row.entry.size)})")
        else:
            self.buttons["download"].setText("&Download")

    # -- actions ------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)

    def download(self, ref: str) -> None:
        if self.manager.start(ref):
            self.select(ref)
            self.progress.setVisible(True)
            self.progress.setValue(0)
            self.say(f"Downloading {ref}…")
        self.refresh()

    def download_and_use(self, ref: str) -> None:
        if self._download_and_use is not None:
            self._download_and_use(ref)
            self.select(ref)
            self.refresh()
            return
        self.use_after.add(ref)
        self.download(ref)

    def detach(self) -> None:
        """Stop following the downloads (the page is closing; they go on)."""
        self.manager.progress.disconnect(self._progress)
        self.manager.finished.disconnect(self._finished)

    def _download_selected(self) -> None:
        ref = self.selected_ref()
        if ref is not None:
            self.download(ref)

    def _pause_selected(self) -> None:
        ref = self.selected_ref()
        if ref is not None:
            self.manager.pause(ref)

    def _cancel_selected(self) -> None:
        ref = self.selected_ref()
        if ref is not None:
            self.manager.cancel(ref)

    def _use_selected(self) -> None:
        row = self.selected_row()
        if row is not None and row.installed is not None:
            self.use_requested.emit(str(self.library.file_of(row.installed)))
            self.say(f"Using {row.installed.label}: the local model restarts with it")

    def _delete_selected(self) -> None:
        row = self.selected_row()
        if row is not None and row.installed is not None:
            self.library.remove(row.installed.id)
            self.say(f"Deleted {row.installed.label}")
            self.refresh()

    def choose_import(self) -> None:
        dialog = QFileDialog(self, "Import a GGUF model", "", "GGUF models (*.gguf)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.import_file)
        dialog.open()

    def import_file(self, path: str) -> None:
        try:
            model = download.import_gguf(Path(path), self.library)
        except GGUFError as exc:
            self.say(f"Not imported: {exc}")
            return
        except (FileExistsError, OSError) as exc:
            self.say(f"Not imported: {exc}")
            return
        self.say(f"Imported {model.label}")
        self.refresh()
        self.select(model.ref)

    def _progress(self, ref: str, done: int, total: int) -> None:
        if ref == self.selected_ref() and total:
            self.progress.setVisible(True)
            self.progress.setMaximum(1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"{_size(done)} of {_size(total)}")

    def _finished(self, ref: str, outcome: str, message: str) -> None:
        self.progress.setVisible(False)
        self.say(printable(message))
        self.refresh()
        if outcome == "installed" and ref in self.use_after:
            self.use_after.discard(ref)
            self.select(ref)
            self._use_selected()


def use_local_model(settings: SettingsController, path: Path) -> ConnectionConfig:
    """Make the model at `path` the default provider's local model (the embedded engine
    restarts with it, with the model's context length): the default provider when it
    is local, else a provider "On this computer" (made if missing)."""
    providers = Providers(list(settings.providers.items), settings.providers.default_id)
    base = providers.default
    if base.kind != "local":
        base = next(
            (c for c in providers.items if c.kind == "local"),
            ConnectionConfig(kind="local", id=new_provider_id(), name="On this computer"),
        )
    chosen = local_config(base, path)
    providers.replace(chosen)
    providers.default_id = chosen.id
    settings.apply_providers(providers)
    return chosen


def attach_downloads(parent: QWidget, status: QStatusBar) -> DownloadManager:
    """The window's download manager, reporting in its status bar."""
    from ..app.paths import models_dir

    manager = DownloadManager(ModelLibrary(models_dir()), parent)
    manager.progress.connect(lambda *_: status.showMessage(manager.summary()))
    manager.finished.connect(lambda _ref, _outcome, text: status.showMessage(printable(text), 8000))
    return manager
