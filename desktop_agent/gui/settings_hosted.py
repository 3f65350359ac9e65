"""The Settings pages the window adds to the dialog: Models (the catalog, downloads:
they belong to the window, so they go on when Settings closes), Data (import,
export all, backup, restore, the data folder) and, on General, the attachment
limits (Files)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog, QFormLayout

if TYPE_CHECKING:
    from .window_dialogs import WindowDialogs

__all__ = ["add_window_pages"]


def _before(names: list[str], *candidates: str) -> str | None:
    return next((name for name in candidates if name in names), None)


def add_window_pages(window: WindowDialogs, dialog: QDialog) -> None:
    from ..app.paths import data_dir
    from ..app.settings import load_settings
    from .models_page import ModelsPage
    from .settings_data import DataPage
    from .settings_files import AttachmentLimitsGroup

    settings: Any = dialog
    if not hasattr(settings, "add_page"):
        return
    names: list[str] = settings.pages.names
    local = window.local_models
    models = ModelsPage(window.downloads, dialog, download_and_use=local.download_and_use)
    models.use_requested.connect(local.use)
    dialog.finished.connect(lambda _r: models.detach())  # (the downloads go on)
    settings.add_page("Models", models, before=_before(names, "Tools", "MCP servers", "Appearance"))

    store = window.store
    data = DataPage(
        data_dir(),
        store.file if store is not None else None,
        lambda: window.open_import(parent=dialog),
        window.close,  # (restored: the next start uses it)
        dialog,
    )
    settings.add_page("Data", data, before=_before(names, "Appearance", "Shortcuts", "About"))

    general = settings.pages.page("General")
    files = AttachmentLimitsGroup(load_settings(), general)
    layout = general.layout()
    if isinstance(layout, QFormLayout):
        layout.addRow(files)
    settings.on_save("General", files.validate, files.apply)
