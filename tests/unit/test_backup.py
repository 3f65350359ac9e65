"""Backup and restore of the data folder (in-process; the CLI runs in
tests/e2e/test_import_cli.py): identical history, no keys, refusals."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from desktop_agent.app.backup import BackupError, backup, restore
from desktop_agent.storage import Store
from desktop_agent.storage.importers import import_file
from tests.support.exports import chatgpt_conversation, openwebui_chat, write_json


def dump(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [line for line in db.iterdump() if 'INSERT INTO "sessions"' not in line]
    finally:
        db.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    store = Store(folder / "history.db")
    import_file(store, write_json(tmp_path / "c.json", [chatgpt_conversation()]))
    conv = store.create_conversation(title="Written while the app runs")
    store.add_message(conv, "user", "not yet checkpointed")  # in the WAL
    store.close()
    (folder / "settings.json").write_text(json.dumps({"model": "m", "openai_api_key": "sk-x"}))
    (folder / "credentials.json").write_text(json.dumps({"keys": {"openai": "sk-x"}}))
    (folder / "mcp.json").write_text(json.dumps({"servers": {"s": {"env": {"TOKEN": "t"}}}}))
    return folder


def test_backup_then_restore_gives_identical_history(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "backup.zip"
    info = backup(home, target)
    assert (info.conversations, info.messages) == (2, 10)
    with zipfile.ZipFile(target) as z:
        assert sorted(z.namelist()) == ["history.db", "manifest.json", "settings.json"]
        assert b"sk-x" not in z.read("settings.json")
        assert json.loads(z.read("manifest.json"))["format"] == "desktop-agent.backup"
    assert (target.stat().st_mode & 0o077) == 0  # only the user can read it
    new = tmp_path / "new"
    restored = restore(new, target)
    assert (restored.conversations, restored.messages) == (2, 10)
    assert dump(new / "history.db") == dump(home / "history.db")
    assert json.loads((new / "settings.json").read_text()) == {"model": "m"}
    assert not (new / "credentials.json").exists() and not (new / "mcp.json").exists()
    store = Store(new / "history.db")  # usable, searchable, re-import matches
    try:
        assert [h.title for h in store.search("checkpointed")] == ["Written while the app runs"]
        again = import_file(store, write_json(tmp_path / "c.json", [chatgpt_conversation()]))
        assert len(again.already_present) == 1
    finally:
        store.close()


def test_restore_refuses_a_used_folder_unless_forced(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "backup.zip"
    backup(home, target)
    other = tmp_path / "other"
    store = Store(other / "history.db")
    import_file(store, write_json(tmp_path / "o.json", [openwebui_chat()]))
    store.close()
    before = dump(other / "history.db")
    with pytest.raises(BackupError, match="--force"):
        restore(other, target)
    assert dump(other / "history.db") == before  # untouched
    restore(other, target, force=True)
    assert dump(other / "history.db") == dump(home / "history.db")
    [aside] = other.glob("history.db.before-restore-*")
    assert dump(aside) == before  # the old history, kept whole
    assert (aside.stat().st_mode & 0o077) == 0


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    plain = write_json(tmp_path / "x.json", {"a": 1})
    with pytest.raises(BackupError, match="not a desktop-agent backup"):
        restore(tmp_path / "new", plain)
    fake = tmp_path / "fake.zip"
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("manifest.json", json.dumps({"format": "desktop-agent.backup", "schema": 1}))
        z.writestr("history.db", b"not a database at all" * 100)
    with pytest.raises(BackupError, match="not a usable database"):
        restore(tmp_path / "new", fake)
    assert not (tmp_path / "new" / "history.db").exists()
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(newer, "w") as z:
        z.writestr("manifest.json", json.dumps({"format": "desktop-agent.backup", "schema": 99}))
    with pytest.raises(BackupError, match="newer desktop-agent"):
        restore(tmp_path / "new", newer)
