"""How the app connects to a model: the saved providers (connections), which one
new conversations use, the environment's key rules, and the `ChatModel` for a
connection. API keys are never written to the settings file (they live in the OS
keyring, see `credentials`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..providers.env_key import OPENAI_API_URL, environment_key
from .paths import data_dir
from .settings import rebasing_saver

__all__ = [
    "ConnectionConfig",
    "Providers",
    "model_from_config",
    "providers_saver",
]

DEFAULT_BASE_URL = OPENAI_API_URL


#: How the app reaches a model.
#: "openai": an OpenAI-compatible endpoint (`base_url`); "local": the embedded
#: llama.cpp engine; "auto": nothing configured yet (the window decides at start:
#: a server the user picked before if it is running, else the embedded model, else
#: the first-run panel); "none": nothing available; "agui": a remote AG-UI agent
#: (`base_url` is the agent's URL, posted to as it is; `headers` go with each run).
KINDS = ("openai", "local", "auto", "none", "agui")


def header_lines(text: str) -> dict[str, str]:
    """`headers` ("Name: value" per line) as a dict; lines without a colon are skipped."""
    out = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            out[name.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class ConnectionConfig:
    """How to reach the model. `api_key` lives in memory only."""

    kind: str = "auto"
    #: Which saved provider this is (the API key is stored under it), and its name.
    id: str = "default"
    name: str = ""
    base_url: str = DEFAULT_BASE_URL
    model: str = "gpt-4o-mini"
    api_key: str = ""
    system_prompt: str = "You are a helpful assistant. Use the tools you have when they help."
    temperature: float | None = None
    #: The embedded engine's model file ("" = SmolLM2-135M from the `local` extra).
    gguf_path: str = ""
    n_ctx: int = 2048
    #: A discovered local server the user chose before (used when it is running).
    picked_server: str = ""
    #: Kind "openai": which wire, "chat" (Chat Completions), "responses" or "auto"
    #: (probed once per endpoint); `previous_response_id`: let a server that stores
    #: responses keep the conversation (only the new part is sent).
    api: str = "chat"
    previous_response_id: bool = False
    #: Kind "agui": extra HTTP headers, "Name: value" per line (a secret belongs in the
    #: API key, kept in the keyring and sent as a Bearer token).
    headers: str = ""
    #: The model's context length in tokens (0: ask the endpoint, else a table).
    context_window: int = 0
    #: Tokens kept free for the answer, and what happens to what does not fit:
    #: "summarise", "drop_oldest" or "off".
    reserve: int = 1024
    compaction: str = "summarise"
    #: US dollars per million tokens in and out (0: the endpoint's prices, if it says).
    price_in: float = 0.0
    price_out: float = 0.0

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    @property
    def is_local(self) -> bool:
        if self.kind == "local":
            return True
        host = urlsplit(self.base_url).hostname or ""
        return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")

    def label(self) -> str:
        """What the window shows: "gpt-4o-mini · api.openai.com",
        "SmolLM2-135M-Instruct · on this computer"."""
        if self.kind == "local":
            return f"{self.model} · on this computer"
        if self.kind == "auto":
            return "looking for a model…"
        if self.kind == "none":
            return "not connected (Ctrl+, to connect)"
        if self.kind == "agui":
            return f"AG-UI agent · {self.host}"
        where = f"{self.host} (this computer)" if self.is_local else self.host
        return f"{self.model} · {where}"

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | None = None,
        model: str | None = None,
        saved: dict[str, Any] | None = None,
        local: bool = False,
        agui: str | None = None,
        api: str | None = None,
    ) -> ConnectionConfig:
        """Flags, then environment, then saved settings, then defaults.

        An endpoint named by a flag or `OPENAI_BASE_URL` (or a key in
        `OPENAI_API_KEY`, meaning the OpenAI API) wins; `local` asks for the
        embedded model; with nothing configured the kind stays "auto".
        `OPENAI_API_KEY` becomes the `api_key` only when the endpoint is the one it
        was given for (`OPENAI_BASE_URL`, else OpenAI's API).
        """
        saved = Providers.from_settings(saved or {}).default.to_settings()
        known = {f.name for f in fields(cls)} - {"api_key"}
        base = cls(**{k: v for k, v in saved.items() if k in known})
        if base.kind not in KINDS:
            base = replace(base, kind="auto")
        env_url = os.environ.get("OPENAI_BASE_URL")
        key = os.environ.get("OPENAI_API_KEY", "")
        config = base
        if api:
            config = replace(config, api=api)
        if agui:  # `chat --agui URL`: exactly that URL
            return replace(config, kind="agui", base_url=agui, model="AG-UI agent")
        if local:
            chosen = installed_model_path(model) if model else None
            if chosen is not None:
                return local_config(config, chosen)
            return replace(config, kind="local", model=model or local_model_label(config))
        if base_url or env_url or (key and base.kind == "auto"):
            url = base_url or env_url or DEFAULT_BASE_URL
            config = replace(config, kind="openai", base_url=url)
        env_model = os.environ.get("DESKTOP_AGENT_MODEL")
        if config.kind == "openai":
            # The environment's key only where it was given for (see providers.env_key).
            config = replace(
                config,
                model=model or env_model or base.model,
                api_key=environment_key(config.base_url),
            )
        return config

    def to_settings(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("api_key")
        return data

    @property
    def title(self) -> str:
        """The provider's name as listed: its own, else where it connects."""
        return self.name or self.label()


@dataclass
class Providers:
    """The saved providers (connections) and which one new conversations use.

    Settings file shape: {"providers": [{...ConnectionConfig without api_key}],
    "default_provider": id}. A file from before several providers (one flat
    connection) reads as a single provider "default".
    """

    items: list[ConnectionConfig]
    default_id: str = "default"

    @classmethod
    def from_settings(cls, saved: dict[str, Any]) -> Providers:
        known = {f.name for f in fields(ConnectionConfig)} - {"api_key"}
        raw = saved.get("providers")
        items: list[ConnectionConfig] = []
        if isinstance(raw, list):
            for entry in raw:
                if isinstance(entry, dict):
                    config = ConnectionConfig(**{k: v for k, v in entry.items() if k in known})
                    if config.kind not in KINDS:
                        config = replace(config, kind="auto")
                    if all(c.id != config.id for c in items):
                        items.append(config)
        elif any(k in known for k in saved):  # the one-connection settings file
            items.append(ConnectionConfig(**{k: v for k, v in saved.items() if k in known}))
        if not items:
            items.append(ConnectionConfig())
        default_id = str(saved.get("default_provider") or items[0].id)
        if all(c.id != default_id for c in items):
            default_id = items[0].id
        return cls(items, default_id)

    def to_settings(self) -> dict[str, Any]:
        return {
            "providers": [c.to_settings() for c in self.items],
            "default_provider": self.default_id,
        }

    @property
    def default(self) -> ConnectionConfig:
        return self.get(self.default_id) or self.items[0]

    def rebased(self, base: Providers, theirs: Providers) -> Providers:
        """These providers' changes since `base` applied to `theirs` (the file as it
        is now, maybe changed by another process): providers added or changed here
        replace theirs, ones removed here go, the others stay as they are there."""
        was = {c.id: c for c in base.items}
        removed = set(was) - {c.id for c in self.items}
        result = Providers([c for c in theirs.items if c.id not in removed], theirs.default_id)
        for config in self.items:
            if was.get(config.id) != config:
                result.replace(config)
        if self.default_id != base.default_id:
            result.default_id = self.default_id
        if not result.items:
            result.items.append(ConnectionConfig())
        if result.get(result.default_id) is None:
            result.default_id = result.items[0].id
        return result

    def get(self, provider_id: str | None) -> ConnectionConfig | None:
        return next((c for c in self.items if c.id == provider_id), None)

    def replace(self, config: ConnectionConfig) -> None:
        """Put `config` in place of the provider with its id (or add it)."""
        for i, old in enumerate(self.items):
            if old.id == config.id:
                self.items[i] = config
                return
        self.items.append(config)


def new_provider_id() -> str:
    import uuid  # (here: uuid imports platform, ~2.5 ms before the first paint)

    return f"p-{uuid.uuid4().hex[:10]}"


def credentials() -> Any:
    """Where API keys are kept (imports keyring, ~0.1 s: not before the first paint)."""
    from .credentials import Credentials

    return Credentials(data_dir())


def with_stored_key(config: ConnectionConfig, keys: Any = None) -> ConnectionConfig:
    """`config` with its provider's saved API key, unless one is set already."""
    if config.api_key or config.kind not in ("openai", "agui"):
        return config
    key = (keys or credentials()).get(config.id)
    return replace(config, api_key=key) if key else config


def local_model_label(config: ConnectionConfig) -> str:
    from ..providers.local import default_model_path, model_label

    path = Path(config.gguf_path) if config.gguf_path else default_model_path()
    return model_label(path) if path is not None else "local model"


def installed_model_path(ref: str) -> Path | None:
    """The file of an installed model (catalog id, hf: reference, id or file name)."""
    from ..providers.models.installed import ModelLibrary
    from .paths import models_dir

    library = ModelLibrary(models_dir())
    try:
        model = library.find(ref)
    except OSError:
        return None
    return library.file_of(model) if model is not None else None


def local_config(config: ConnectionConfig, path: Path) -> ConnectionConfig:
    """`config` on the embedded engine with the model at `path`: its label, and its
    context length (the model's own, within the memory limit of `runtime`)."""
    from ..providers.local import model_label
    from ..providers.models.runtime import profile_for

    profile = profile_for(path)
    return replace(
        config, kind="local", gguf_path=str(path), model=model_label(path), n_ctx=profile.n_ctx
    )


async def resolve_auto(config: ConnectionConfig) -> tuple[ConnectionConfig, list[Any]]:
    """For kind "auto": (the connection to use, the servers found running)."""
    from ..providers.discovery import discover
    from ..providers.local import local_engine_available

    found = await discover()
    if config.picked_server:
        for server in found:
            if server.base_url == config.picked_server and server.models:
                chosen = config.model if config.model in server.models else server.models[0]
                picked = replace(config, kind="openai", base_url=server.base_url, model=chosen)
                return picked, found
    if config.gguf_path or local_engine_available():
        return replace(config, kind="local", model=local_model_label(config)), found
    return replace(config, kind="none"), found


class NotConnected:
    """The `ChatModel` when nothing is set up: every request says what to do."""

    model = "none"

    async def stream_completion(
        self, messages: Any, tools: Any = None, *, timeouts: Any = None
    ) -> AsyncIterator[Any]:
        from ..engine.model import ModelRequestError

        raise ModelRequestError(
            "No model is set up yet. Press Ctrl+, to connect to a server (Ollama, LM Studio, "
            "OpenAI...), or install the local model: pip install 'desktop-agent[local]'."
        )
        yield  # an async generator, like every ChatModel


def model_from_config(config: ConnectionConfig, on_engine_state: Any = None) -> Any:
    """The `ChatModel` for a connection (imports openai, ~0.5 s), with the provider's
    context settings (`context_policy`, and `context_window` / `prices` where set)."""
    return with_context_settings(_model_from_config(config, on_engine_state), config)


def with_context_settings(model: Any, config: ConnectionConfig) -> Any:
    """Put the provider's context window, reserve, strategy and prices on its model."""
    from ..engine.context import STRATEGIES, ContextPolicy

    strategy = config.compaction if config.compaction in STRATEGIES else "summarise"
    model.context_policy = ContextPolicy(reserve=max(0, config.reserve), strategy=strategy)
    if config.context_window > 0:
        model.context_window = config.context_window
    if config.price_in > 0 or config.price_out > 0:
        model.prices = (config.price_in, config.price_out)
    return model


def _model_from_config(config: ConnectionConfig, on_engine_state: Any = None) -> Any:
    if config.kind == "local":
        from ..providers.local import EmbeddedEngine, LocalModel
        from ..providers.models.installed import ModelLibrary
        from ..providers.models.runtime import profile_for
        from .paths import models_dir

        engine = EmbeddedEngine(
            config.gguf_path or None, n_ctx=config.n_ctx, on_state=on_engine_state
        )
        # Tools only for a model that can take them (the catalog, else its template).
        with contextlib.suppress(OSError):
            profile = profile_for(engine.model_path, ModelLibrary(models_dir()))
            engine.chat_format = profile.chat_format
        return LocalModel(engine)
    if config.kind in ("none", "auto"):
        return NotConnected()
    if config.kind == "agui":
        from ..providers.agui import AguiAgent

        return AguiAgent(
            config.base_url, headers=header_lines(config.headers), api_key=config.api_key or None
        )
    from ..providers.openai import OpenAIClient

    return OpenAIClient(
        api_key=config.api_key or None,
        model=config.model,
        base_url=config.base_url,
        temperature=config.temperature,
        api=config.api,
        previous_response_id=config.previous_response_id,
    )


def providers_saver(loaded: Providers) -> Callable[[Providers], None]:
    """Saving for a long-lived surface (the window), which read `loaded` at start:
    each save merges what changed since its last save into the file as it is now."""
    return rebasing_saver(loaded, Providers.from_settings, _snapshot)


def _snapshot(providers: Providers) -> Providers:
    return Providers(list(providers.items), providers.default_id)
