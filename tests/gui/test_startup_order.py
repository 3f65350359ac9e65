"""Start-up paints the window first: what the first paint does not need is loaded
after it (and still happens: the paperclip's icon once the window has started)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.gui.shortcuts import ACTIONS
from desktop_agent.gui.window import MainWindow
from tests.gui.conftest import Gui

ROOT = Path(__file__).resolve().parents[2]


def start_and_paint(probe: str, home: Path, **extra: str) -> list[str]:
    """Run `probe` in a new Python whose window returns once painted
    (`DESKTOP_AGENT_EXIT_AFTER_SHOW`); the lines it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        DESKTOP_AGENT_HOME=str(home),
        DESKTOP_AGENT_EXIT_AFTER_SHOW="1",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
        **extra,
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")


def test_the_paperclip_has_its_icon_once_started(window: MainWindow) -> None:
    button = window.pane.attach_button
    assert not button.icon().isNull()
    assert button.accessibleName() == "Attach files"


def test_the_first_transcript_is_built_once_started(window: MainWindow) -> None:
    """`start()` builds the first conversation's transcript (deferred past the first
    paint) and puts it in the Tab order after the empty state's suggestions."""
    assert window.views.built
    assert window.pane.stack.currentWidget() is window.transcript
    assert window.pane.empty.suggestions[-1].nextInFocusChain() is window.transcript


def test_the_shortcuts_are_made_once_started(window: MainWindow) -> None:
    """The window's QActions (made after the first paint) are there once `start()` ran,
    one per `ACTIONS` entry, with their keys."""
    made = {action.text(): action for action in window.actions()}
    for text, keys in ACTIONS.values():
        assert [k.toString() for k in made[text].shortcuts()] == keys


def test_the_deferred_conversation_keeps_its_id_when_built(
    gui: Gui, config: ConnectionConfig
) -> None:
    """Before the first transcript is built, the window already has a conversation on
    screen (its id, the empty state); what needs the view builds it for that same id."""
    window = MainWindow(config)
    try:
        assert not window.views.built
        assert window.pane.showing_empty
        conversation_id = window.tenant_id
        assert window.transcript.entries == []  # (built here, on demand)
        assert window.views.built
        assert window.tenant_id == window.views.current.conversation_id == conversation_id
        assert list(window.views.by_id) == [conversation_id]
        assert window.pane.showing_empty
    finally:
        gui.run(window.shutdown())


def test_the_first_paint_needs_none_of_what_comes_after_it(tmp_path: Path) -> None:
    """What `run_app` has loaded once the window is painted (`DESKTOP_AGENT_EXIT_AFTER_SHOW`
    returns there): not asyncio, openai, the engine's run or uuid, nor PySide6's `Qt`
    namespace or `QStyle` (their first use builds ~90 and ~20 enum types), nor the
    transcript (gui/conversation.py, gui/transcript/*, ~23 ms to import and build: the
    first screen is the empty state) or QtGui's text-format classes, and no QAction (the
    24 shortcuts are made in `start()`). Nor the classes only asked for later (dialogs,
    menus, drops, images, the projects tree, the transcript's colours): importing a Qt
    class builds its enum types, ~0.1 ms each; nor a dataclass for a sidebar row or the
    usage tally (~0.5-1 ms each to make). And the window is
    drawn in Fusion, asked for on the command line (`-style Fusion`), even
    when the desktop asks for another style (QT_STYLE_OVERRIDE)."""
    probe = (
        "import sys\n"
        "import PySide6.QtCore, PySide6.QtGui, PySide6.QtWidgets\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from desktop_agent.gui.app import run_app\n"
        "assert run_app() == 0\n"
        "loaded = [m for m in ('asyncio', 'openai', 'uuid', 'desktop_agent.engine.run')\n"
        "          if m in sys.modules]\n"
        "loaded += [n for n in ('Qt',) if n in vars(PySide6.QtCore)]\n"
        "loaded += [n for n in ('QStyle',) if n in vars(PySide6.QtWidgets)]\n"
        "loaded += [m for m in sys.modules if m.startswith('desktop_agent.gui.transcript.')\n"
        "           or m == 'desktop_agent.gui.conversation']\n"
        "loaded += [n for n in ('QTextDocument', 'QTextCharFormat', 'QTextBlockFormat',\n"
        "                       'QAction', 'QKeySequence', 'QImage', 'QDropEvent')\n"
        "           if n in vars(PySide6.QtGui)]\n"
        "loaded += [n for n in ('QFileDialog', 'QMessageBox', 'QMenu', 'QDialogButtonBox',\n"
        "                       'QTreeWidget') if n in vars(PySide6.QtWidgets)]\n"
        "loaded += [n for n in ('QMimeData', 'QBuffer') if n in vars(PySide6.QtCore)]\n"
        "loaded += [m for m in ('desktop_agent.gui.colors', 'desktop_agent.gui.projects_panel',\n"
        "                       'desktop_agent.gui.import_drop') if m in sys.modules]\n"
        "import dataclasses\n"
        "loaded += [n for n in ('Row', 'UsageTally') for m in list(sys.modules.values())\n"
        "           if dataclasses.is_dataclass(getattr(m, n, None))]\n"
        "print('loaded:', *loaded)\n"
        "window, = [w for w in QApplication.topLevelWidgets() if w.objectName() == 'main-window']\n"
        "print('empty state:', window.pane.showing_empty, window.pane.empty.isVisible())\n"
        "print('actions:', len(window.actions()))\n"
        "print(QApplication.instance().style().name().lower())\n"
    )
    lines = start_and_paint(probe, tmp_path, QT_STYLE_OVERRIDE="windows")[:5]
    assert lines == ["shown", "loaded:", "empty state: True True", "actions: 0", "fusion"]


def test_no_garbage_collection_before_the_first_paint(tmp_path: Path) -> None:
    """`desktop-agent` (no arguments) keeps the garbage collector off until the window
    has painted (its ~30 passes over the start-up's new objects cost ~5 ms), and on
    again after."""
    probe = (
        "import gc\n"
        "from desktop_agent.cli import main\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and print('pass'))\n"
        "assert main([]) == 0\n"
        "print('enabled:', gc.isenabled())\n"
    )
    lines = start_and_paint(probe, tmp_path)
    assert lines[0] == "shown", lines  # (no "pass" before it)
    assert "enabled: True" in lines, lines
