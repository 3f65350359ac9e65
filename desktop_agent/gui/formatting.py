"""Short, safe text forms of tool results for the transcript (argument summaries:
`app.presentation`)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["describe_result", "pretty_json"]


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
