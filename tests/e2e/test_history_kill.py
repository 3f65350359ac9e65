"""SIGKILL mid-answer: the history keeps all but the last second of the text, and
the next start shows the message as interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop_agent.storage import Store
from tests.support.record_child import STORY

pytestmark = pytest.mark.slow


def test_sigkill_mid_stream_loses_at_most_the_last_second(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.record_child", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    progress: list[tuple[float, int]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            stamp, count = line.split()
            progress.append((float(stamp), int(count)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    while not progress or progress[-1][0] - progress[0][0] < 2.5:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the child did not stream"
        time.sleep(0.02)
    killed_at = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    reader.join(5)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    streamed_by = {stamp: count for stamp, count in progress}
    a_second_before = max(c for t, c in streamed_by.items() if t <= killed_at - 1.0)
    total = progress[-1][1]

    store = Store(db)  # the next start
    try:
        [question, answer] = store.path("story")
        assert question.content == "Tell me a long story."
        assert answer.status == "interrupted"
        assert STORY.startswith(answer.content)
        assert len(answer.content) >= a_second_before, (len(answer.content), a_second_before)
        print(f"kept {len(answer.content)} of {total} characters streamed before SIGKILL")
    finally:
        store.close()
