"""Every conversation (not deleted) in one file, written one conversation at a time
(`desktop-agent export --all`, Settings → Data → Export all): JSON that `import`
reads back (`{"format": "desktop-agent.conversations", "conversations": [...]}`), or
Markdown, one after another. Oldest first."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from .export import dumps, to_json, to_markdown
from .importers.native import FORMAT_ALL
from .store import Store

__all__ = ["write_all"]


def write_all(
    store: Store,
    out: TextIO,
    fmt: str = "json",
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write every conversation to `out`; `progress(done, total)` after each one.
    Returns how many were written."""
    ids = [c.id for c in reversed(store.conversations())]  # oldest first
    if fmt == "json":
        head = {"format": FORMAT_ALL, "version": 1, "exported_at": time.time()}
        out.write(dumps(head)[:-2] + ',\n  "conversations": [')
    count = 0
    for conversation_id in ids:
        if fmt == "json":
            data = to_json(store, conversation_id)
            item = {
                "conversation": data["conversation"],
                "messages": data["messages"],
                "attachments": data["attachments"],  # (their bytes, once each)
            }
            out.write(("," if count else "") + "\n" + dumps(item))
        else:
            out.write(("\n---\n\n" if count else "") + to_markdown(store, conversation_id))
        count += 1
        if progress is not None:
            progress(count, len(ids))
    if fmt == "json":
        out.write("\n]}\n")
    return count
