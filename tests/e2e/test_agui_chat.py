"""`desktop-agent chat --agui URL` and `--api` as real processes: against the
reference AG-UI agent (official package, its own process) and the scripted
OpenAI-compatible server's /v1/responses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.scripted_server import Reply
from tests.support.threaded_server import threaded_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def agent_url() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.agui_server"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def chat(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env["DESKTOP_AGENT_HOME"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "desktop_agent", "chat", "--no-save", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_answer_and_tool_the_agent_ran(tmp_path: Path, agent_url: str) -> None:
    result = chat(tmp_path, "--agui", agent_url, "tools")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Let me check. \nIt is sunny in Oslo.\n"
    assert "lookup" in result.stderr  # the tool line, on stderr as for any tool


@pytest.mark.parametrize(
    ("message", "words"), [("error", "the agent fell over"), ("cut", "before RUN_FINISHED")]
)
def test_run_error_and_cut_stream_exit_1_with_one_line(
    tmp_path: Path, agent_url: str, message: str, words: str
) -> None:
    result = chat(tmp_path, "--agui", agent_url, message)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr


def test_api_responses_flag(tmp_path: Path) -> None:
    with threaded_server() as server:
        server.add(Reply(text="answered over responses"))
        result = chat(tmp_path, "--base-url", server.base_url, "--api", "responses", "hi")
        paths = [r.path for r in server.requests]
    assert result.returncode == 0, result.stderr
    assert result.stdout == "answered over responses\n"
    assert paths == ["/v1/responses"]


def test_unreachable_agent_is_one_line(tmp_path: Path) -> None:
    result = chat(tmp_path, "--agui", "http://127.0.0.1:9/agent", "hi")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
