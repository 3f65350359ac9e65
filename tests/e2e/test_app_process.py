"""The real app as a subprocess: it starts, streams, and exits cleanly mid-stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.scripted_server import Reply
from tests.support.threaded_server import threaded_server

pytestmark = pytest.mark.slow


def app_env(home: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        DESKTOP_AGENT_HOME=str(home),
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY="sk-e2e-secret-key",
        PYTHONFAULTHANDLER="1",
    )
    return env


def wait(predicate, what: str, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_closing_mid_stream_exits_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    with threaded_server() as server:
        server.add(Reply(text="word " * 400, chunk_size=5, delay=0.02))
        proc = subprocess.Popen(
            [sys.executable, "-m", "desktop_agent", "--model", "m", "--prompt", "talk"],
            env=app_env(tmp_path, server.base_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait(lambda: server.requests or proc.poll() is not None, "the app's request")
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.5)  # let some of the answer stream in
            proc.send_signal(sig)
            _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
        assert "Error" not in err, err
        wait(lambda: bool(server.disconnects), "the server to see the stream closed", 5)
    assert server.requests[0].body["messages"][-1] == {"role": "user", "content": "talk"}
    log = (tmp_path / "logs" / "desktop-agent.log").read_text()
    assert " ERROR " not in log, log
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "sk-e2e-secret-key" not in path.read_text(errors="replace"), path


def test_version() -> None:
    cmd = [sys.executable, "-m", "desktop_agent", "--version"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.strip().startswith("desktop-agent 0.")


def test_no_display_is_a_clear_error(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["DESKTOP_AGENT_HOME"] = str(tmp_path)
    cmd = [sys.executable, "-m", "desktop_agent"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no display to open the window on")
