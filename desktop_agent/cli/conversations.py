"""`desktop-agent history | export | import`: the stored conversations from a shell.

desktop-agent history [--search TEXT] [--limit N]
desktop-agent export ID [--format md|json] [--output FILE]
desktop-agent import FILE.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ..app.paths import history_path
from ..printable import printable
from ..storage import Store, StoreError
from ..storage.export import ConversationFormatError, dumps, from_json, to_json, to_markdown

__all__ = ["export_main", "history_main", "import_main"]


def _open() -> Store:
    return Store(history_path(), session=False)


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 1


def history_main(*, search: str | None = None, limit: int = 50) -> int:
    try:
        store = _open()
    except StoreError as exc:
        return _fail(str(exc))
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
    try:
        store = _open()
    except StoreError as exc:
        return _fail(str(exc))
    try:
        if store.conversation(conversation_id, include_deleted=True) is None:
            return _fail(f"no conversation {conversation_id!r} (see `desktop-agent history`)")
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


def import_main(path: str) -> int:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        return _fail(f"cannot read {path}: {exc.strerror or exc}")
    except json.JSONDecodeError as exc:
        return _fail(f"{path} is not JSON: {exc}")
    try:
        store = _open()
    except StoreError as exc:
        return _fail(str(exc))
    try:
        conversation_id = from_json(store, data)
        title = store.conversation(conversation_id)
    except ConversationFormatError as exc:
        return _fail(f"cannot import {path}: {exc}")
    finally:
        store.close()
    print(f"imported {conversation_id}  {printable(title.title) if title else ''}")
    return 0
