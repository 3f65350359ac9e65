"""Text forms shared by every surface (window, terminal): Qt-free, stdlib only."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["argument_summary"]


def argument_summary(arguments: Any, limit: int = 60) -> str:
    """A short, one-line view of a call's arguments: `a=1, path="x.txt"`.

    Whitespace runs (newlines included) become one space; past `limit`
    characters the text ends with "…". Callers that write to a terminal still
    strip control characters (`printable`)."""
    if arguments is None:
        return ""
    if isinstance(arguments, dict):
        text = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    else:
        text = str(arguments)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
