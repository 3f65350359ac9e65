"""Local models for the window: "download it, then use it" (kept by the window, so it
happens even when Settings is closed by then), and the one-click offer of a better
model than the bundled one, shown in the empty state while the embedded model runs
with nothing configured."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from ..app.providers import ConnectionConfig
    from .downloads import DownloadManager
    from .models_page import FirstRunOffer
    from .settings_controller import SettingsController

__all__ = ["LocalModels", "wants_offer"]


def wants_offer(provider: ConnectionConfig) -> bool:
    """True when the bundled model answers: the embedded engine with no file chosen."""
    return provider.kind == "local" and not provider.gguf_path


class LocalModels(QObject):
    """Downloads that are used as soon as they are installed."""

    used = Signal(str)  # the path of the model file now used by the embedded engine

    def __init__(
        self, manager: DownloadManager, settings: SettingsController, parent: QObject
    ) -> None:
        super().__init__(parent)
        self.manager = manager
        self.settings = settings
        #: downloads to use once installed
        self.pending: set[str] = set()
        manager.finished.connect(self._finished)

    def download_and_use(self, ref: str) -> None:
        self.pending.add(ref)
        self.manager.start(ref)  # (False when it is downloading already: still used after)

    def use(self, path: str) -> None:
        from .models_page import use_local_model

        use_local_model(self.settings, Path(path))
        self.used.emit(path)

    def _finished(self, ref: str, outcome: str, _message: str) -> None:
        if ref not in self.pending:
            return
        self.pending.discard(ref)
        model = self.manager.library.find(ref) if outcome == "installed" else None
        if model is not None:
            self.use(str(self.manager.library.file_of(model)))

    def offer(self, provider: ConnectionConfig) -> FirstRunOffer | None:
        """The offer for the empty state (None: nothing better fits, or a model is chosen)."""
        if not wants_offer(provider):
            return None
        from .models_page import FirstRunOffer, better_model

        entry = better_model(self.manager.library)
        if entry is None:
            return None
        offer = FirstRunOffer(entry)
        offer.download_requested.connect(self.download_and_use)
        offer.download_requested.connect(lambda _ref: _downloading(offer))
        if entry.ref in self.pending or self.manager.active(entry.ref):
            _downloading(offer)
        self.manager.progress.connect(offer.show_progress)
        return offer


def _downloading(offer: FirstRunOffer) -> None:
    offer.button.setEnabled(False)
    offer.button.setText(f"Downloading {offer.entry.name}…")
