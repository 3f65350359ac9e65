"""`desktop-agent history | export | import`: the stored conversations from a shell.

desktop-agent history [--search TEXT] [--limit N]
desktop-agent export ID [--format md|json] [--output FILE]
desktop-agent export --all [--format json|md] [--output FILE]
(`import`, `backup`, `restore`: cli/imports.py)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..printable import printable
from ..storage.export import dumps, to_json, to_markdown
from ..storage.export_all import write_all
from .common import fail, open_store

__all__ = ["export_all_main", "export_main", "history_main"]


def history_main(*, search: str | None = None, limit: int = 50) -> int:
    if (store := open_store()) is None:
        return 1
    try:
        if search:
            rows = [
                (h.conversation_id, h.updated_at, h.title, h.snippet)
                for h in store.search(search, limit=limit)
            ]
        else:
            rows = [(c.id, c.updated_at, c.title, "") for c in store.conversations(limit)]
    finally:
        store.close()
    if not rows:
        print("no conversations" if not search else f"nothing matches {search!r}")
        return 0
    for conversation_id, updated, title, snippet in rows:
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(updated))
        # Titles and snippets come from messages and imported files: no control codes.
        line = f"{conversation_id}  {stamp}  {printable(title) or 'Untitled'}"
        print(f"{line}  — {printable(snippet)}" if snippet else line)
    return 0


def export_main(conversation_id: str, *, fmt: str = "md", output: str | None = None) -> int:
    if (store := open_store()) is None:
        return 1
    try:
        if store.conversation(conversation_id, include_deleted=True) is None:
            return fail(f"no conversation {conversation_id!r} (see `desktop-agent history`)")
        text = (
            to_markdown(store, conversation_id)
            if fmt == "md"
            else dumps(to_json(store, conversation_id)) + "\n"
        )
    finally:
        store.close()
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"exported {conversation_id} to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def export_all_main(*, fmt: str = "json", output: str | None = None) -> int:
    """Every conversation (not deleted), written one at a time: JSON `import` reads
    back (`{"format": "desktop-agent.conversations", "conversations": [...]}`), or
    Markdown, one after another."""
    if (store := open_store()) is None:
        return 1
    try:
        out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    except OSError as exc:
        store.close()
        return fail(f"cannot write {output}: {exc.strerror or exc}")
    try:
        count = write_all(store, out, fmt)
    finally:
        store.close()
        if output:
            out.close()
    print(f"exported {count} conversations{f' to {output}' if output else ''}", file=sys.stderr)
    return 0
