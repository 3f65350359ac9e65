"""The workspace tools against a hostile folder: FIFOs, dangling links, and a folder
swapped for a symlink to the outside while reads and writes run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_agent.tools.workspace import Workspace, WorkspaceError, workspace_tools


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.md").write_text("hello\n")
    return folder


def _unblock(fifo: Path) -> None:
    """Let a reader stuck opening `fifo` go (so a failing test does not hang pytest)."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


async def test_a_fifo_is_not_read(root: Path) -> None:
    fifo = root / "pipe.txt"
    os.mkfifo(fifo)
    tools = {t.name: t for t in workspace_tools(root)}
    try:
        found = await asyncio.wait_for(tools["search_files"].invoke({"query": "hello"}), timeout=20)
        assert found == "notes.md:1: hello"
        with pytest.raises(WorkspaceError, match="not a regular file"):
            await asyncio.wait_for(tools["read_file"].invoke({"path": "pipe.txt"}), timeout=20)
        assert "pipe.txt  (not a regular file)" in tools["list_files"].fn(".")
    finally:
        _unblock(fifo)


def test_a_dangling_symlink_does_not_fail_the_listing(root: Path) -> None:
    (root / "gone").symlink_to(root / "missing.txt")
    (root / "sub").mkdir()
    listing = Workspace(root).list(".").splitlines()
    assert listing == ["sub/", "gone -> (broken link)", "notes.md  (6 bytes)"]
    assert Workspace(root).search("hello") == "notes.md:1: hello"


SWAPPER = """
import os, shutil, sys
folder, outside, stop = sys.argv[1], sys.argv[2], sys.argv[3]
flip, stash = os.path.join(folder, "flip"), os.path.join(folder, "flip.real")
while not os.path.exists(stop):
    os.rename(flip, stash)
    try:
        os.symlink(outside, flip)
        os.unlink(flip)
    except OSError:  # a write made a new "flip" folder meanwhile
        pass
    while True:
        try:
            os.rename(stash, flip)
            break
        except OSError:
            shutil.rmtree(flip, ignore_errors=True)
"""


@pytest.fixture
def swapping(
    tmp_path: Path, root: Path
) -> Iterator[tuple[Workspace, Path, subprocess.Popen[bytes]]]:
    """A workspace whose folder `flip` another process swaps for a symlink to
    `outside` and back, until the test is done (then `flip` is the real folder)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.txt").write_text("SECRET\n")
    (root / "flip").mkdir()
    (root / "flip" / "f.txt").write_text("inside\n")
    stop = tmp_path / "stop"
    swapper = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SWAPPER), str(root), str(outside), str(stop)]
    )
    try:
        yield Workspace(root), outside, swapper
    finally:
        stop.touch()
        swapper.wait(timeout=30)
    assert swapper.returncode == 0


def test_a_folder_swapped_for_a_symlink_never_leads_outside(
    swapping: tuple[Workspace, Path, subprocess.Popen[bytes]],
) -> None:
    space, outside, swapper = swapping
    reads = writes = refused = 0
    # Until the folder was caught swapped many times and reads and writes still got
    # through many times (the race ran), or the swapper died (the fixture then fails).
    for attempt in range(500_000):
        if attempt % 64 == 0 and (
            swapper.poll() is not None or (refused >= 2000 and min(reads, writes) >= 50)
        ):
            break
        if attempt % 2:
            try:
                text = space.read("flip/f.txt")
            except (WorkspaceError, OSError):
                refused += 1
                continue
            reads += 1
            assert text == "inside\n", f"read outside content after {attempt} tries"
        else:
            name = f"new{attempt}.txt"
            try:
                space.write(f"flip/{name}", "x")
            except (WorkspaceError, OSError):
                refused += 1
                continue
            writes += 1
            assert not (outside / name).exists(), f"a write landed outside after {attempt} tries"
    assert sorted(p.name for p in outside.iterdir()) == ["f.txt"]
    print(f"swap race: {attempt + 1} tries, {reads} reads and {writes} writes got through")
    assert reads and writes and refused  # the race ran: both got through at times
