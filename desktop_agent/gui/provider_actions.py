"""The window's provider actions: which provider a conversation uses (the box above
the transcript), the model client per provider, the Settings dialog and what its
Save changes, the embedded engine's progress. (A mixin of `MainWindow`;
`WindowParts` is what it uses of the window.)"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from ..app.providers import ConnectionConfig, Providers
from .window_parts import WindowParts

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ..engine.handle import RunHandle

__all__ = ["ProviderActions"]


class ProviderActions:
    def _provider_of(self: WindowParts, conversation_id: str) -> ConnectionConfig:
        """The provider that answers this conversation (its own, else the default)."""
        provider_id = self.current_provider_ids.get(conversation_id)
        if provider_id is None and self.store is not None:
            conv = self.store.conversation(conversation_id)
            provider_id = conv.provider_id if conv else None
            self.current_provider_ids[conversation_id] = provider_id
        found = self.providers.get(provider_id) if provider_id else None
        return found or self.config

    def _fill_providers(self: WindowParts) -> None:
        from PySide6.QtCore import QSignalBlocker

        with QSignalBlocker(self.provider_box):
            self.provider_box.clear()
            for provider in self.providers.items:
                label = self.config.label() if provider.id == self.config.id else provider.title
                self.provider_box.addItem(label, provider.id)
            self._select_provider_box()
        self.provider_box.setVisible(len(self.providers.items) > 1)

    def _select_provider_box(self: WindowParts) -> None:
        provider = self._provider_of(self.tenant_id)
        index = self.provider_box.findData(provider.id)
        if index >= 0:
            self.provider_box.setCurrentIndex(index)

    def _model_for(self: WindowParts, provider: ConnectionConfig) -> Any:
        model = self._models.get(provider.id)
        if model is None:
            from ..app.providers import with_stored_key

            model = self._models[provider.id] = self._model_factory(
                with_stored_key(provider, self.credentials)
            )
        return model

    def _provider_chosen(self: WindowParts, index: int) -> None:
        provider_id = self.provider_box.itemData(index)
        if not provider_id:
            return
        conversation_id = self.tenant_id
        self.current_provider_ids[conversation_id] = provider_id
        if self.store is not None and self.store.conversation(conversation_id) is not None:
            provider = self.providers.get(provider_id)
            self.store.set_settings(
                conversation_id,
                provider_id=provider_id,
                model=provider.model if provider else None,
            )
        self._update_labels()
        self.status.showMessage(
            "This conversation now uses " + self.provider_box.currentText(), 3000
        )

    def open_settings(self: WindowParts) -> None:
        from .settings_dialog import SettingsDialog

        dialog = SettingsDialog(
            self.providers,
            cast("QWidget", self),
            discovered=self.discovered,
            credentials=self.credentials,
            tool_settings=self.tool_settings,
            mcp=self.mcp,
            spawn=self._spawn,
        )
        self.mcp_changed.connect(dialog.refresh_mcp)
        dialog.saved.connect(self.apply_providers)
        dialog.tools_saved.connect(self.set_tool_settings)
        self._keep(dialog)
        dialog.open()

    def apply_config(self: WindowParts, config: ConnectionConfig) -> None:
        """Use new settings for the default provider (the next runs)."""
        providers = Providers(list(self.providers.items), config.id)
        providers.replace(config)
        self.apply_providers(providers)

    def apply_providers(self: WindowParts, providers: Providers) -> None:
        """New provider settings: models are rebuilt for the next runs."""
        old_models = self._models
        self._models = {}
        self.providers = providers
        self.config = providers.default
        self.current_provider_ids.clear()
        if self.orchestrator is not None:
            model = self._model_factory(self.config)
            self._models[self.config.id] = model
            self.orchestrator.model = model
            self.orchestrator.config = replace(
                self.orchestrator.config, system_prompt=self.config.system_prompt
            )
            for tenant in self.orchestrator.tenants():
                self.orchestrator.configure(tenant)  # picked again at the next run
            engine = getattr(model, "engine", None)
            if engine is not None:
                self._spawn(self._preload(engine))
            # Runs under way keep the model they started with: close the old
            # models once those runs have ended.
            running = [h for t in self.orchestrator.tenants() for h in self.orchestrator.runs(t)]
            self._spawn(_close_after(running, list(old_models.values())))
        self._fill_providers()
        self._update_labels()
        if self._on_settings_saved is not None:
            self._on_settings_saved(providers)
        self.status.showMessage("Settings saved", 2000)

    def engine_state_changed(self: WindowParts, state: str, message: str) -> None:
        """The embedded engine's progress: loading, ready, restarting, failed, stopped."""
        if self._closing:
            return
        label = self._provider_of(self.tenant_id).label()
        if state == "loading":
            self.status.set_model(f"{label} (loading…)")
            self.status.showMessage(message)
        elif state == "ready":
            self.status.set_model(label)
            self.status.clearMessage()
        elif state in ("restarting", "failed"):
            self.status.set_model(f"{label} ({state})")
            self.transcript.add_notice(message)


async def _close_after(runs: list[RunHandle], models: list[Any]) -> None:
    """Release `models` once `runs` (which may still use them) have finished."""
    import asyncio

    from ..engine.model import close_model

    await asyncio.gather(*(run.wait() for run in runs), return_exceptions=True)
    for model in models:
        await close_model(model)
