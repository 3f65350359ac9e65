"""Short, safe text forms of tool calls for the transcript and the status bar."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["argument_summary", "describe_result", "pretty_json"]


def argument_summary(arguments: Any, limit: int = 60) -> str:
    """A short, one-line view of a call's arguments: `a=1, path="x.txt"`."""
    if arguments is None:
        return ""
    if isinstance(arguments, dict):
        text = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    else:
        text = str(arguments)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pretty_json(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def describe_result(text: str) -> str:
    """Text as it is; binary-looking data described instead of dumped."""
    if text.startswith("data:") and ";base64," in text[:100]:
        kind = text[5 : text.index(";")]
        return f"[{kind} data, {len(text):,} characters, not shown]"
    control = sum(1 for ch in text[:2000] if ord(ch) < 32 and ch not in "\n\r\t")
    if control > 20:
        return f"[binary data, {len(text):,} characters, not shown]"
    return text
