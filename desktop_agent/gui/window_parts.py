"""What the window's parts (the mixins in `history_actions`, `tool_actions`,
`provider_actions`) need of
the window: the self-type of their methods (mypy's way to type a mixin)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..app.conversations import ConversationActions
    from ..app.mcp_setup import McpSetup
    from ..app.providers import ConnectionConfig, Providers
    from ..app.settings import ToolSettings
    from ..engine.orchestrator import Orchestrator
    from ..engine.tools import Tool
    from ..storage import Store
    from .composer import Composer
    from .conversation import ConversationView
    from .sidebar import Sidebar
    from .status import ToolStatusBar
    from .transcript import Transcript

__all__ = ["WindowParts"]


class WindowParts(Protocol):
    config: ConnectionConfig
    providers: Providers
    credentials: Any
    discovered: list[Any]
    current_provider_ids: dict[str, str | None]
    provider_box: Any
    _models: dict[str, Any]
    _model_factory: Callable[[ConnectionConfig], Any]
    _on_settings_saved: Callable[[Providers], None] | None
    store: Store | None
    orchestrator: Orchestrator | None
    conversation_actions: ConversationActions | None
    sidebar: Sidebar
    status: ToolStatusBar
    composer: Composer
    views: dict[str, ConversationView]
    current: ConversationView
    tools: list[Tool]
    tool_settings: ToolSettings
    mcp: McpSetup | None
    _deleted: list[str]
    _dialogs: list[Any]
    _closing: bool
    _history_factory: Callable[[], Store] | None
    _builtins_from_settings: bool
    _on_tool_settings_saved: Callable[[ToolSettings], None] | None

    @property
    def transcript(self) -> Transcript: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def busy(self) -> bool: ...
    @property
    def conversation_opened(self) -> Any: ...
    @property
    def mcp_changed(self) -> Any: ...

    def _make_view(self, conversation_id: str) -> ConversationView: ...
    def _show_view(self, view: ConversationView) -> None: ...
    def _update_labels(self) -> None: ...
    def _keep(self, dialog: Any) -> None: ...
    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None: ...
    async def _preload(self, engine: Any) -> None: ...
    # (the parts' own methods, called across)
    def open_conversation(self, conversation_id: str) -> None: ...
    def write_export(self, conversation_id: str, fmt: str, path: str) -> None: ...
    def _stored_ids(self) -> set[str]: ...
    def set_tool_settings(self, settings: ToolSettings, *, rebuild: bool = True) -> None: ...
    def _rebuild_tools(self) -> None: ...
    def _apply_tools(self) -> None: ...
    def _provider_of(self, conversation_id: str) -> ConnectionConfig: ...
    def _fill_providers(self) -> None: ...
    def _select_provider_box(self) -> None: ...
    def _model_for(self, provider: ConnectionConfig) -> Any: ...
    def apply_providers(self, providers: Providers) -> None: ...
