"""`desktop-agent import | export --all | backup | restore` as processes, on real
stores in real data folders."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from desktop_agent.storage import Store
from tests.support.attach_files import png
from tests.support.exports import (
    chatgpt_conversation,
    claude_conversation,
    openwebui_chat,
    write_json,
)

pytestmark = pytest.mark.slow


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DESKTOP_AGENT_HOME=str(home), DESKTOP_AGENT_NO_KEYRING="1")
    cmd = [sys.executable, "-m", "desktop_agent", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)


def dump(path: Path) -> list[str]:
    """Everything a history holds, as SQL text (sessions left out: they are per process)."""
    db = sqlite3.connect(path)
    try:
        return [line for line in db.iterdump() if 'INSERT INTO "sessions"' not in line]
    finally:
        db.close()


def test_import_zip_then_again_then_export_all(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("conversations.json", json.dumps([chatgpt_conversation()]))
        z.writestr("file-Pic123-cat.png", png(300, 100))
    first = cli(home, "import", str(archive))
    assert first.returncode == 0, first.stderr
    assert "ChatGPT export: 1 imported, 0 already present, 0 skipped" in first.stdout
    assert "1 image or file kept as attachments" in first.stdout
    again = cli(home, "import", str(archive))
    assert "0 imported, 1 already present" in again.stdout, again.stderr
    for data in ([claude_conversation()], [openwebui_chat()]):
        done = cli(home, "import", str(write_json(tmp_path / "x.json", data)))
        assert " 1 imported" in done.stdout, done.stderr
    found = cli(home, "history", "--search", "sunny")
    assert "Weather in Lisbon" in found.stdout

    out = tmp_path / "all.json"
    exported = cli(home, "export", "--all", "--format", "json", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "exported 3 conversations" in exported.stderr
    data = json.loads(out.read_text())
    assert data["format"] == "desktop-agent.conversations"
    assert [c["conversation"]["title"] for c in data["conversations"]] == [
        "Sums",  # oldest activity first (1970, 2023, 2025: the sources' times)
        "Primes",
        "Weather in Lisbon",
    ]
    other = tmp_path / "other"
    moved = cli(other, "import", str(out))
    assert "desktop-agent export: 3 imported" in moved.stdout, moved.stderr
    store = Store(other / "history.db", session=False)
    try:
        sums = next(c for c in store.conversations() if c.title == "Sums")
        assert len(store.messages(sums.id)) == 9  # every version came along
        assert [m.content for m in store.path(sums.id)][-1] == "A cat; 8."
        question = store.path(sums.id)[4]  # the picture came along with its message
        [ref] = store.attachments_of([question.id])[question.id]
        assert (ref["name"], ref["kind"]) == ("file-Pic123-cat.png", "image")
        assert store.blob(ref["sha256"]) is not None
    finally:
        store.close()


def test_import_refusals_exit_nonzero_with_a_message(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "an export"}')
    refused = cli(home, "import", str(bad))
    assert refused.returncode == 1
    assert "not an export this version knows" in refused.stderr
    assert cli(home, "history").stdout.strip() == "no conversations"
    both = cli(home, "export", "c-1", "--all")
    assert both.returncode == 2 and "not both" in both.stderr


def test_backup_then_restore_into_an_empty_folder_gives_identical_history(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    imported = cli(home, "import", str(write_json(tmp_path / "c.json", [chatgpt_conversation()])))
    assert imported.returncode == 0, imported.stderr
    (home / "settings.json").write_text(
        json.dumps({"model": "gpt-4o", "providers": [{"id": "p", "api_key": "sk-secret"}]})
    )
    (home / "credentials.json").write_text(json.dumps({"keys": {"p": "sk-secret"}}))
    backup = tmp_path / "backup.zip"
    made = cli(home, "backup", str(backup))
    assert made.returncode == 0, made.stderr
    assert "backed up 1 conversations (9 messages) and settings" in made.stdout
    with zipfile.ZipFile(backup) as z:
        assert sorted(z.namelist()) == ["history.db", "manifest.json", "settings.json"]
        assert b"sk-secret" not in z.read("settings.json")  # keys never leave

    new = tmp_path / "new-machine"
    restored = cli(new, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert dump(new / "history.db") == dump(home / "history.db")
    assert json.loads((new / "settings.json").read_text()) == {
        "model": "gpt-4o",
        "providers": [{"id": "p"}],
    }
    assert not (new / "credentials.json").exists()
    assert cli(new, "history", "--search", "picture").stdout.count("Sums") == 1

    # A folder with history already: refused, unless --force (the old one kept aside).
    again = cli(new, "restore", str(backup))
    assert again.returncode == 1 and "--force" in again.stderr
    forced = cli(new, "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    [aside] = new.glob("history.db.before-restore-*")
    assert dump(aside) == dump(home / "history.db")
    # While the app has the history open, restoring is refused.
    db = sqlite3.connect(new / "history.db")
    with db:
        db.execute("INSERT INTO sessions (id, pid, started_at) VALUES ('s', ?, 0)", (os.getpid(),))
    db.close()
    busy = cli(new, "restore", "--force", str(backup))
    assert busy.returncode == 1 and "desktop-agent is running" in busy.stderr
    not_backup = tmp_path / "c.json"
    assert "not a desktop-agent backup" in cli(new, "restore", str(not_backup)).stderr


def test_import_cli_keeps_files_and_names_the_refused_and_missing(tmp_path: Path) -> None:
    from tests.support.import_files import chatgpt_with_files, chatgpt_zip

    home = tmp_path / "home"
    home.mkdir()
    # The per-file limit comes from the settings' attachment limits.
    (home / "settings.json").write_text(json.dumps({"attachments": {"file_bytes": 50_000}}))
    archive = chatgpt_zip(
        tmp_path / "export.zip",
        [chatgpt_with_files("c-bomb", bomb=True), chatgpt_with_files("c-2")],
        bomb=True,
    )
    done = cli(home, "import", str(archive))
    assert done.returncode == 0, done.stderr
    assert "2 imported" in done.stdout
    assert "2 images or files kept as attachments" in done.stdout  # the two PDFs
    assert "huge.png is 12000×12000 pixels" in done.stdout  # the bomb, by name
    assert "file-Pic123-holiday.jpg would unpack to" in done.stdout  # over 50 KB
    assert "missing" in done.stdout and "file_00000000gone" in done.stdout
