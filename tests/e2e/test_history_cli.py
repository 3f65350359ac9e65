"""`desktop-agent history | export | import` as processes, on a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_agent.storage import Store

pytestmark = pytest.mark.slow


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DESKTOP_AGENT_HOME=str(home))
    cmd = [sys.executable, "-m", "desktop_agent", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_list_export_import_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path / "history.db")
    conv = store.create_conversation(model="gpt-4o-mini")
    store.add_message(conv, "user", "Plan a day in Lisbon")
    calls = [{"id": "c1", "name": "current_time", "arguments": '{"timezone": "Europe/Lisbon"}'}]
    store.add_message(conv, "assistant", "", tool_calls=calls)
    store.add_message(conv, "tool", "09:00", tool_call_id="c1", tool_name="current_time")
    store.add_message(conv, "assistant", "Start at **Belém** before the crowds.")
    store.close()

    listed = cli(tmp_path, "history")
    assert listed.returncode == 0, listed.stderr
    assert conv in listed.stdout and "Plan a day in Lisbon" in listed.stdout
    found = cli(tmp_path, "history", "--search", "belem")  # diacritics folded
    assert conv in found.stdout and "[Belém]" in found.stdout

    md = cli(tmp_path, "export", conv, "--format", "md")
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Plan a day in Lisbon\n")
    assert "**Tool call** `current_time`" in md.stdout and "Start at **Belém**" in md.stdout

    out = tmp_path / "lisbon.json"
    exported = cli(tmp_path, "export", conv, "-f", "json", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    data = json.loads(out.read_text())
    assert data["format"] == "desktop-agent.conversation"

    imported = cli(tmp_path, "import", str(out))
    assert imported.returncode == 0, imported.stderr
    new_id = imported.stdout.split()[1]
    assert new_id != conv
    again = cli(tmp_path, "export", new_id, "-f", "md").stdout
    assert again.split("\n", 3)[3] == md.stdout.split("\n", 3)[3]  # same conversation
    assert cli(tmp_path, "history").stdout.count("Plan a day in Lisbon") == 2


def test_clear_errors(tmp_path: Path) -> None:
    missing = cli(tmp_path, "export", "c-nope")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: no conversation 'c-nope' (see `desktop-agent history`)"
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    refused = cli(tmp_path, "import", str(bad))
    assert refused.returncode == 1
    assert "not a desktop-agent conversation" in refused.stderr
    assert cli(tmp_path, "import", str(tmp_path / "none.json")).returncode == 1
    assert cli(tmp_path, "history").stdout.strip() == "no conversations"


@pytest.mark.timeout(60)
def test_import_of_a_parent_cycle_is_one_clear_line(tmp_path: Path) -> None:
    looped = tmp_path / "looped.json"
    messages = [
        {"id": "a", "parent_id": "b", "role": "user", "content": "question"},
        {"id": "b", "parent_id": "a", "role": "assistant", "content": "answer"},
    ]
    data = {"format": "desktop-agent.conversation", "version": 1, "messages": messages}
    looped.write_text(json.dumps({**data, "conversation": {"title": "loop", "leaf_id": "b"}}))
    refused = cli(tmp_path, "import", str(looped))
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"error: cannot import {looped}: messages 'a', 'b' form a cycle (each one answers the next)"
    ]
    assert cli(tmp_path, "history").stdout.strip() == "no conversations"  # nothing written


def test_titles_from_an_imported_file_cannot_drive_the_terminal(tmp_path: Path) -> None:
    hostile = tmp_path / "title.json"
    title = "trip \x1b]52;c;ZXZpbA==\x07 \x9b2J plan"
    messages = [{"id": "a", "role": "user", "content": "plan \x1b]0;t\x07 it"}]
    data = {"format": "desktop-agent.conversation", "version": 1, "messages": messages}
    hostile.write_text(json.dumps({**data, "conversation": {"title": title}}))
    imported = cli(tmp_path, "import", str(hostile))
    assert imported.returncode == 0, imported.stderr
    listed = cli(tmp_path, "history").stdout + cli(tmp_path, "history", "-s", "plan").stdout
    assert "trip ]52;c;ZXZpbA== 2J plan" in listed
    assert not [c for c in imported.stdout + listed if c in "\x1b\x07\x9b"]
