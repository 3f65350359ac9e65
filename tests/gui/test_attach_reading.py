"""Reading big files in pieces (the worker's side of attaching): progress, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_agent.app.attachments import AttachmentError
from desktop_agent.gui.attach_input import CHUNK, read_in_pieces


def test_a_big_file_reports_progress_up_to_the_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.log"
    big.write_bytes(b"x" * (CHUNK * 6 + 10))
    seen: list[float] = []
    data = read_in_pieces(big, CHUNK * 10, seen.append)
    assert len(data) == CHUNK * 6 + 10
    assert len(seen) == 7 and seen == sorted(seen) and seen[-1] == 1.0


def test_a_small_file_reports_nothing(tmp_path: Path) -> None:
    small = tmp_path / "s.txt"
    small.write_bytes(b"hi")
    seen: list[float] = []
    assert read_in_pieces(small, 100, seen.append) == b"hi"
    assert seen == []


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "video.mp4"
    big.write_bytes(b"x" * 5000)
    with pytest.raises(AttachmentError, match=r"video\.mp4 is 4\.9 KB; files up to 1\.0 KB"):
        read_in_pieces(big, 1024, lambda _f: None)


def test_a_pipe_or_a_folder_is_refused_not_waited_on(tmp_path: Path) -> None:
    import os

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)  # opening it would block until someone writes
    with pytest.raises(AttachmentError, match="pipe: not a regular file"):
        read_in_pieces(pipe, 1024, lambda _f: None)
    with pytest.raises(AttachmentError, match="not a regular file"):
        read_in_pieces(tmp_path, 1024, lambda _f: None)
