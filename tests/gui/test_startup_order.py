"""What start-up leaves until after the first paint still happens: the paperclip's
icon once the window has started, and the Fusion style, asked on the command line
(not by asking the style its name)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.gui.window import MainWindow
from tests.gui.conftest import Gui
from tests.gui.test_window import make_window

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(gui: Gui, config: ConnectionConfig) -> Iterator[MainWindow]:
    w = make_window(gui, config)
    yield w
    if not w.closed.is_set():
        gui.run(w.shutdown())


def test_the_paperclip_has_its_icon_once_started(window: MainWindow) -> None:
    button = window.pane.attach_button
    assert not button.icon().isNull()
    assert button.accessibleName() == "Attach files"


def test_the_window_is_fusion_when_the_desktop_asks_for_another_style(tmp_path: Path) -> None:
    """`run_app` asks for Fusion with `-style Fusion`; here the desktop's choice
    (QT_STYLE_OVERRIDE) would otherwise be Windows."""
    probe = (
        "from PySide6.QtWidgets import QApplication\n"
        "from desktop_agent.gui.app import run_app\n"
        "assert run_app() == 0\n"
        "app = QApplication.instance()\n"
        "print(app.style().name().lower())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        QT_STYLE_OVERRIDE="windows",
        DESKTOP_AGENT_HOME=str(tmp_path),
        DESKTOP_AGENT_EXIT_AFTER_SHOW="1",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert lines[0] == "shown", done.stdout
    assert lines[1] == "fusion", done.stdout
