"""What each request to a model sent and used (schema 3's `model_requests` table).

Written by the recorder from `ContextReport` (what was sent: fitted, left out,
summarised) and `UsageReport` (tokens, speed, cost); read for a conversation's totals
and its summaries.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields
from typing import Any

from .store import Store

__all__ = [
    "RequestRecord",
    "Totals",
    "add_request",
    "context_settings",
    "requests_of",
    "set_context_settings",
    "totals",
    "update_request",
]

_COLUMNS = (
    "answer_id",
    "tokens",
    "context_window",
    "reserve",
    "strategy",
    "sent",
    "dropped",
    "dropped_tokens",
    "summary",
    "retry",
    "prompt_tokens",
    "completion_tokens",
    "estimated",
    "first_token_ms",
    "tokens_per_second",
    "cost",
)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    n: int
    run_id: str
    answer_id: str | None
    tokens: int | None
    context_window: int | None
    dropped: int
    dropped_tokens: int
    summary: str | None
    retry: bool
    prompt_tokens: int | None
    completion_tokens: int | None
    estimated: bool
    first_token_ms: float | None
    tokens_per_second: float | None
    cost: float | None


@dataclass(frozen=True, slots=True)
class Totals:
    """A conversation's requests added up."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None  # None: no request had a known price
    estimated: bool = False  # some counts were the app's, not the server's


# Derived once: the columns a caller may write, and the query reading a record.
_WRITABLE = frozenset(_COLUMNS)
_RECORD_FIELDS = tuple(f.name for f in fields(RequestRecord))
_SELECT_RECORDS = (
    f"SELECT {', '.join(_RECORD_FIELDS)} FROM model_requests WHERE conversation_id = ? ORDER BY n"
)


def _check(fields: dict[str, Any]) -> None:
    unknown = set(fields) - _WRITABLE
    if unknown:
        raise ValueError(f"unknown model_requests fields {sorted(unknown)}")


def add_request(store: Store, conversation_id: str, run_id: str, **fields: Any) -> int:
    """A new row; returns its number."""
    _check(fields)
    names = ", ".join(["conversation_id", "run_id", "created_at", *fields])
    marks = ", ".join("?" * (3 + len(fields)))
    with store.batch() as db:
        cursor = db.execute(
            f"INSERT INTO model_requests ({names}) VALUES ({marks})",
            (conversation_id, run_id, time.time(), *fields.values()),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def update_request(store: Store, n: int, **fields: Any) -> None:
    _check(fields)
    if not fields:
        return
    assignments = ", ".join(f"{key} = ?" for key in fields)
    with store.batch() as db:
        db.execute(f"UPDATE model_requests SET {assignments} WHERE n = ?", (*fields.values(), n))


def requests_of(store: Store, conversation_id: str) -> list[RequestRecord]:
    rows = store._db.execute(_SELECT_RECORDS, (conversation_id,)).fetchall()
    out = []
    for row in rows:
        values = dict(zip(_RECORD_FIELDS, tuple(row), strict=True))
        for flag in ("retry", "estimated"):
            values[flag] = bool(values[flag])
        out.append(RequestRecord(**values))
    return out


def totals(store: Store, conversation_id: str) -> Totals:
    row = store._db.execute(
        "SELECT COUNT(prompt_tokens), COALESCE(SUM(prompt_tokens), 0), "
        "COALESCE(SUM(completion_tokens), 0), SUM(cost), MAX(estimated) "
        "FROM model_requests WHERE conversation_id = ? AND prompt_tokens IS NOT NULL",
        (conversation_id,),
    ).fetchone()
    return Totals(int(row[0]), int(row[1]), int(row[2]), row[3], bool(row[4]))


def context_settings(store: Store, conversation_id: str) -> dict[str, Any] | None:
    """A conversation's own context settings ({"reserve": ..., "strategy": ...}), if any."""
    row = store._db.execute(
        "SELECT context_settings FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        value = json.loads(row[0])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def set_context_settings(
    store: Store, conversation_id: str, settings: dict[str, Any] | None
) -> None:
    text = json.dumps(settings) if settings is not None else None
    with store.batch() as db:
        db.execute(
            "UPDATE conversations SET context_settings = ? WHERE id = ?", (text, conversation_id)
        )
