"""How long a model's context is, and what it costs, from the endpoint where it says so.

Asked in this order, each with a short time limit, the first answer wins (a remote
service is asked only for its model list):

* llama.cpp's server: `GET /props` -> `default_generation_settings.n_ctx` (or `n_ctx`);
* LM Studio: `GET /api/v0/models` -> `loaded_context_length` / `max_context_length`;
* OpenRouter (and others that copy it): `GET /models` -> `context_length`, `pricing`;
* Ollama: `POST /api/show` -> `model_info["<arch>.context_length"]` (or `num_ctx`);
* a small table of well-known models;
* else None: the provider's setting decides.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2

from ..engine.model import ModelRequestError

__all__ = ["KNOWN_WINDOWS", "ModelFacts", "known_window", "model_facts", "server_token_count"]

_log = logging.getLogger(__name__)

#: Context lengths of well-known models (prefix of the model id -> tokens); longest first.
KNOWN_WINDOWS: dict[str, int] = {
    "gpt-4.1": 1_047_576,
    "gpt-4o": 128_000,
    "gpt-4-turbo": 128_000,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude": 200_000,
    "gemini-1.5": 1_048_576,
    "gemini-2": 1_048_576,
    "deepseek-chat": 65_536,
    "deepseek-reasoner": 65_536,
    "mistral-large": 128_000,
    "llama3.1": 131_072,
    "llama3.2": 131_072,
    "qwen2.5": 32_768,
    "smollm2": 8_192,
}


def known_window(model: str) -> int | None:
    """The table's context length for `model` ("openai/gpt-4o-mini" -> 128000)."""
    name = model.lower().rsplit("/", 1)[-1]
    for prefix in sorted(KNOWN_WINDOWS, key=len, reverse=True):
        if name.startswith(prefix):
            return KNOWN_WINDOWS[prefix]
    return None


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What the endpoint says about a model: context length, and prices in US dollars
    per million tokens (None where it does not say)."""

    window: int | None = None
    source: str = ""
    prompt_price: float | None = None
    completion_price: float | None = None


def _root(base_url: str) -> str:
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    path = path.removesuffix("/v1").removesuffix("/api")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _int(value: Any) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def _price(value: Any) -> float | None:
    try:
        return float(value) * 1_000_000  # OpenRouter: dollars per token
    except (TypeError, ValueError):
        return None


def _from_props(body: Any, model: str) -> ModelFacts | None:
    if not isinstance(body, dict):
        return None
    settings = body.get("default_generation_settings")
    n = _int(settings.get("n_ctx")) if isinstance(settings, dict) else None
    n = n or _int(body.get("n_ctx"))
    return ModelFacts(n, "llama.cpp /props") if n else None


def _from_list(body: Any, model: str, source: str) -> ModelFacts | None:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return None
    for entry in data:
        if not isinstance(entry, dict) or entry.get("id") != model:
            continue
        n = (
            _int(entry.get("loaded_context_length"))
            or _int(entry.get("max_context_length"))
            or _int(entry.get("context_length"))
            or _int((entry.get("top_provider") or {}).get("context_length"))
        )
        raw_pricing = entry.get("pricing")
        pricing: dict[str, Any] = raw_pricing if isinstance(raw_pricing, dict) else {}
        prompt, completion = _price(pricing.get("prompt")), _price(pricing.get("completion"))
        if n or prompt is not None:
            return ModelFacts(n, source, prompt, completion)
    return None


def _from_show(body: Any, model: str) -> ModelFacts | None:
    if not isinstance(body, dict):
        return None
    info = body.get("model_info")
    if isinstance(info, dict):
        for key, value in info.items():
            if key.endswith(".context_length") and _int(value):
                return ModelFacts(_int(value), "Ollama /api/show")
    return None


async def model_facts(
    base_url: str, model: str, *, api_key: str = "", limit: float = 3.0
) -> ModelFacts:
    """Ask the endpoint about `model`; the table's figure (or nothing) when it won't say."""
    root = _root(base_url)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    attempts: list[
        tuple[str, str, dict[str, str] | None, Callable[[Any, str], ModelFacts | None]]
    ] = [
        ("GET", f"{root}/props", None, _from_props),
        (
            "GET",
            f"{root}/api/v0/models",
            None,
            lambda b, m: _from_list(b, m, "LM Studio /api/v0/models"),
        ),
        ("GET", f"{base_url.rstrip('/')}/models", None, lambda b, m: _from_list(b, m, "/models")),
        ("POST", f"{root}/api/show", {"model": model}, _from_show),
    ]
    host = urlsplit(base_url).hostname or ""
    if not (host in ("localhost", "::1") or host.startswith("127.")):
        # A remote service: only its model list (OpenRouter's carries context and
        # prices); the local servers' own endpoints would cost round trips for nothing.
        attempts = attempts[2:3]
    timeout = httpx2.Timeout(limit)
    async with httpx2.AsyncClient(timeout=timeout, headers=headers) as client:
        for method, url, body, parse in attempts:
            try:
                response = await client.request(method, url, json=body)
                if response.status_code != 200 or len(response.content) > 16 << 20:
                    continue
                facts = parse(json.loads(response.content), model)
            except (httpx2.HTTPError, ValueError) as exc:
                _log.debug("no model facts from %s: %s", url, exc)
                continue
            if facts is not None:
                if facts.window is None:
                    facts = ModelFacts(
                        known_window(model),
                        facts.source,
                        facts.prompt_price,
                        facts.completion_price,
                    )
                return facts
    window = known_window(model)
    return ModelFacts(window, "table of known models" if window else "")


async def server_token_count(
    base_url: str, model: str, text: str, *, api_key: str = "", limit: float = 10.0
) -> int:
    """`text`'s token count from the server's tokenizer; raises `ModelRequestError` when
    the server has none."""
    root = _root(base_url)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(limit), headers=headers) as client:
        for url, body, key in (
            (f"{root}/extras/tokenize/count", {"input": text, "model": model}, "count"),
            (f"{root}/tokenize", {"content": text}, "tokens"),
        ):
            try:
                response = await client.post(url, json=body)
                if response.status_code != 200:
                    continue
                value = json.loads(response.content).get(key)
            except (httpx2.HTTPError, ValueError, AttributeError):
                continue
            if isinstance(value, list):
                return len(value)
            if isinstance(value, int):
                return value
    raise ModelRequestError(f"{root} has no tokenizer endpoint")
