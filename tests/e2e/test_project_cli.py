"""`desktop-agent project …` and `chat --project NAME` as processes against the
scripted server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.corpus import write_corpus
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.threaded_server import threaded_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with threaded_server() as srv:
        yield srv


def run(tmp_path: Path, *args: str, base_url: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(OPENAI_API_KEY="sk-x", DESKTOP_AGENT_HOME=str(tmp_path / "home"))
    if base_url:
        env["OPENAI_BASE_URL"] = base_url
    return subprocess.run(
        [sys.executable, "-m", "desktop_agent", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_project_commands_and_chat_in_a_project(tmp_path: Path, server: ScriptedServer) -> None:
    questions = write_corpus(tmp_path / "docs", 12)
    (tmp_path / "docs" / "blob.bin").write_bytes(b"\x00\x01\x02binary" * 50)
    question, answer_file = next(iter(questions.items()))
    created = run(tmp_path, "project", "create", "Depot", "--instructions", "Answer in French.")
    assert created.returncode == 0, created.stderr
    again = run(tmp_path, "project", "create", "depot")
    assert again.returncode == 1 and "already a project named" in again.stderr
    added = run(tmp_path, "project", "add", "Depot", str(tmp_path / "docs"))
    assert added.returncode == 0, added.stderr
    assert "12 indexed" in added.stdout and "1 skipped" in added.stdout
    assert "blob.bin: a binary file" in added.stdout
    listed = run(tmp_path, "project", "list")
    assert "Depot\t12 files indexed" in listed.stdout and "1 skipped" in listed.stdout
    missing = run(tmp_path, "project", "add", "Nope", str(tmp_path / "docs"))
    assert missing.returncode == 1 and "No project named 'Nope'" in missing.stderr

    call = json.dumps({"query": question})
    server.add(Reply(tool_calls=[["c1", "search_knowledge", call]]), Reply("Dans le casier."))
    chat = run(tmp_path, "chat", "--project", "Depot", question, base_url=server.base_url)
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.endswith("Dans le casier.\n")
    first, second = server.requests
    assert "Answer in French." in first.body["messages"][0]["content"]
    [tool] = [m for m in second.body["messages"] if m["role"] == "tool"]
    assert f"file: {answer_file.name}" in tool["content"].split("\n[2]")[0]
    listed = run(tmp_path, "project", "list")
    assert "1 conversations" in listed.stdout and "all tools" in listed.stdout
    changed = run(tmp_path, "project", "set", "Depot", "--tools", "none", "--instructions", "Oui.")
    assert changed.returncode == 0, changed.stderr
    assert "no tools" in run(tmp_path, "project", "list").stdout
    bad = run(tmp_path, "project", "set", "Depot", "--provider", "nowhere")
    assert bad.returncode == 1 and "No saved provider 'nowhere'" in bad.stderr

    embedded = run(
        tmp_path, "project", "embed", "Depot", "--model", "embed-small", base_url=server.base_url
    )
    assert embedded.returncode == 0, embedded.stderr
    assert embedded.stdout == "embedded 72 passages with embed-small\n"
    wrong = run(tmp_path, "project", "embed", "Depot", "--model", "nope", base_url=server.base_url)
    assert wrong.returncode == 1 and "no embeddings from" in wrong.stderr
    run(tmp_path, "project", "set", "Depot", "--tools", "all")
    server.add(Reply(tool_calls=[["c2", "search_knowledge", call]]), Reply("Encore."))
    again = run(tmp_path, "chat", "--project", "Depot", question, base_url=server.base_url)
    assert again.returncode == 0, again.stderr
    assert server.embedding_requests[-1]["input"] == [question]  # hybrid: the query embedded
    [tool] = [m for m in server.requests[-1].body["messages"] if m["role"] == "tool"]
    assert f"file: {answer_file.name}" in tool["content"].split("\n[2]")[0]

    unknown = run(tmp_path, "chat", "--project", "Nope", "hi", base_url=server.base_url)
    assert unknown.returncode == 1 and "no project named 'Nope'" in unknown.stderr
    assert len(server.requests) == 4  # nothing sent

    removed = run(tmp_path, "project", "rm", "Depot")
    assert removed.returncode == 0 and "2 conversations kept" in removed.stdout
    history = run(tmp_path, "history")
    assert history.returncode == 0 and history.stdout.strip()  # the conversation stays
    assert "no projects yet" in run(tmp_path, "project", "list").stdout
