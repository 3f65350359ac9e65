"""Text from outside made safe to keep and to send on.

A lone surrogate (JSON's `"\\ud800"`, a file name decoded with `surrogateescape`)
is a `str` that cannot be encoded as UTF-8: SQLite, JSON bodies and sockets refuse
it. Every edge where text comes in (a model's answer, a client's JSON, a tool's
result, a folder listing) passes it through `scrub`, which puts U+FFFD in its place.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["scrub", "scrub_json"]

_SURROGATE = re.compile("[\\ud800-\\udfff]")
REPLACEMENT = "\ufffd"


def scrub(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (the same object when clean)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(REPLACEMENT, text)


def scrub_json(value: Any) -> Any:
    """`scrub` through a decoded JSON value: strings, and the keys and items of dicts
    and lists (other values as they are)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(v) for v in value]
    return value
