"""Strict reading of an AG-UI event stream with the official `ag-ui-protocol` types.

`read_events(lines)` parses each SSE `data:` line into the official pydantic event
models and fails on anything the TypeScript client would reject: an unknown type,
a key beyond the protocol's (the models allow extras, so `model_extra` is checked
at every level), a `null`, a non-camelCase key.
"""

from __future__ import annotations

import json
from typing import Any

from ag_ui.core import BaseEvent, Event
from pydantic import BaseModel, TypeAdapter

__all__ = ["parse_sse", "strict_event"]

_EVENT: TypeAdapter[Any] = TypeAdapter(Event)


def _no_nulls(value: Any, where: str) -> None:
    if value is None:
        raise AssertionError(f"null at {where}")
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nulls(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_nulls(item, f"{where}[{i}]")


def _no_extras(model: BaseModel, where: str) -> None:
    extra = model.model_extra or {}
    if extra:
        raise AssertionError(f"keys beyond the protocol at {where}: {sorted(extra)}")
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, BaseModel):
                _no_extras(item, f"{where}.{name}")


def strict_event(raw: dict[str, Any]) -> BaseEvent:
    """One event's JSON checked and parsed (AssertionError / ValidationError)."""
    _no_nulls(raw, raw.get("type", "?"))
    for key in raw:
        assert "_" not in key, f"not camelCase: {key!r}"
    event: BaseEvent = _EVENT.validate_python(raw)
    _no_extras(event, event.type.value)
    return event


def parse_sse(body: str) -> list[BaseEvent]:
    """Every event of an SSE body (comments skipped); each frame is one data line."""
    events = []
    for frame in body.split("\n\n"):
        lines = [line for line in frame.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        assert len(lines) == 1 and lines[0].startswith("data: "), f"odd frame: {frame!r}"
        events.append(strict_event(json.loads(lines[0][6:])))
    return events
