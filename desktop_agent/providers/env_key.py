"""Which endpoint `OPENAI_API_KEY` belongs to. (Stdlib only: the settings read it
before the window's first paint, long before `openai` is imported.)

The key in the environment was given for one endpoint: `OPENAI_BASE_URL` when that
is set, else OpenAI's API. It is sent there and nowhere else: not to a saved
Ollama or LM Studio provider, not to a discovered server, not by Test connection
of another provider. Endpoints compare by origin (scheme, host, port), so
`http://` never receives a key given for `https://`.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

__all__ = ["OPENAI_API_URL", "environment_key", "environment_key_endpoint"]

OPENAI_API_URL = "https://api.openai.com/v1"

_DEFAULT_PORTS = {"http": 80, "https": 443}


def environment_key_endpoint() -> str:
    """The endpoint `OPENAI_API_KEY` was given for."""
    return os.environ.get("OPENAI_BASE_URL") or OPENAI_API_URL


def environment_key(base_url: str | None) -> str:
    """`OPENAI_API_KEY` if `base_url` (None: the environment's endpoint) is the
    endpoint it was given for, else ""."""
    key = os.environ.get("OPENAI_API_KEY", "")
    if not key:
        return ""
    endpoint = environment_key_endpoint()
    here = _origin(base_url or endpoint)
    return key if here is not None and here == _origin(endpoint) else ""


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or _DEFAULT_PORTS[scheme]
