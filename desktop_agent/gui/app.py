"""QApplication + qasync: one asyncio loop on the Qt loop, a clean start and exit.

Start-up order: the window is shown first; the model client (and `import
openai`, ~0.5 s) comes after the first paint. Exit: closing the window (or
Ctrl+Q, SIGTERM, SIGINT) cancels the runs and closes the connections before the
loop stops, so the process exits 0 without tracebacks or orphan tasks.
Exceptions that escape a task or a slot are logged and shown in the window.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from .. import __version__
from ..app.paths import data_dir, history_path, resource_path
from ..app.providers import ConnectionConfig, Providers, providers_saver
from ..app.settings import ToolSettings, load_settings

__all__ = ["app_icon", "run_app", "settle_heap"]

_log = logging.getLogger("desktop_agent")


def app_icon() -> QIcon:
    icon = QIcon()
    for pattern in ("desktop-agent.svg", "desktop-agent-*.png"):
        for path in sorted(resource_path("icons").glob(pattern)):
            icon.addFile(str(path))
    return icon


def _reporter(window: Any) -> Any:
    def report(message: str, exc: BaseException | None) -> None:
        _log.error("%s", message, exc_info=exc)
        text = f"{message}: {type(exc).__name__}: {exc}" if exc else message
        try:
            window.status.showMessage(f"Internal error (details in the log): {text}", 15000)
        except RuntimeError:
            pass  # the window is already gone

    return report


def install_error_reporting(window: Any) -> None:
    """Exceptions that escape a Qt slot: logged, shown in the status bar, never lost."""
    report = _reporter(window)

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        report("Unhandled exception in the window", exc)
        if sys.stderr is not None:
            traceback.print_exception(kind, exc, tb, file=sys.stderr)

    sys.excepthook = excepthook


def loop_exception_reporter(window: Any) -> Any:
    """An asyncio exception handler: a task that died is logged and shown."""
    report = _reporter(window)

    def handler(loop: Any, context: dict[str, Any]) -> None:
        report(
            str(context.get("message", "Unhandled exception in a task")), context.get("exception")
        )

    return handler


def no_display() -> bool:
    """True on Linux with no X11/Wayland display and no Qt platform chosen:
    Qt would abort the process instead of opening a window."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def settle_heap() -> None:
    """Freeze what start-up allocated (Qt, openai, pydantic...) out of the garbage
    collector: a full collection otherwise walks all of it, a ~50 ms stall
    mid-stream (measured in tests/bench/bench_window.py)."""
    gc.collect()
    gc.freeze()


def _setup_logging() -> Path:
    """The app's log: logs/desktop-agent.log, 0600, rotated at 1 MB (3 kept)."""
    from ..private_files import rotating_log_handler

    path = data_dir() / "logs" / "desktop-agent.log"
    handlers: list[logging.Handler] = [rotating_log_handler(path)]
    if sys.stderr is not None:  # None in a windowed (frozen) app
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setLevel(logging.WARNING)
        handlers.append(stderr)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    return path


def run_app(
    *, base_url: str | None = None, model: str | None = None, prompt: str | None = None
) -> int:
    """Open the window and run until it is closed; returns the exit status."""
    if no_display():
        sys.stderr.write(
            "error: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Use `desktop-agent chat` in a terminal, or run under a display "
            "(QT_QPA_PLATFORM=offscreen runs it without one).\n"
        )
        return 2
    from .platform_check import xcb_problem

    problem = xcb_problem()  # Qt would abort with a message that names nothing
    if problem:
        sys.stderr.write(problem + "\n")
        return 1
    app = QApplication.instance()
    if app is None:
        # (the style the window is drawn in, see `Looks.start`)
        app = QApplication([*sys.argv[:1], "-style", "Fusion"])
        app.setProperty("desktop_agent_fusion", True)
    assert isinstance(app, QApplication)
    app.setApplicationName("desktop-agent")
    app.setApplicationDisplayName("desktop-agent")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("desktop-agent")
    app.setQuitOnLastWindowClosed(False)

    from .appearance import Appearance, settings_saver
    from .window import MainWindow

    saved = load_settings()
    config = ConnectionConfig.resolve(base_url=base_url, model=model, saved=saved)
    providers = Providers.from_settings(saved)

    def open_history() -> Any:
        from ..storage import Store

        return Store(history_path())

    # (each save merges the window's changes into settings.json as it is now)
    save = providers_saver(providers)
    tool_settings = ToolSettings.from_settings(saved)
    save_tools = tool_settings.saver()

    def mcp_setup() -> Any:
        from ..app.mcp_setup import McpSetup

        return McpSetup(data_dir())

    window = MainWindow(
        config,
        providers=providers,
        history=open_history,
        on_settings_saved=save,
        tool_settings=tool_settings,
        on_tool_settings_saved=save_tools,
        mcp=mcp_setup,
        appearance=Appearance.from_settings(saved),
        save_appearance=settings_saver(),
    )
    window.show()
    # Paint first: one pass of Qt's loop shows the window before asyncio, qasync,
    # the engine and the tools are imported. (Likewise the gui modules touch the
    # `Qt` namespace only after this: its first use creates ~90 enum types, ~25 ms.)
    QTimer.singleShot(0, lambda: app.exit(0))  # not quit(): that would close the window
    app.exec()
    if os.environ.get("DESKTOP_AGENT_EXIT_AFTER_SHOW"):  # start-up benchmark probe
        print("shown", flush=True)
        return 0
    gc.enable()  # (off until the first paint when started by the command line)
    _setup_logging()  # (after the paint: it creates and opens the log file)
    # The icon after the first paint too (its SVG and PNGs load, ~7 ms): the desktop's
    # taskbar and window switcher take it as it is set.
    app.setWindowIcon(app_icon())

    import asyncio

    import qasync

    window.settings.load_tools()  # the built-ins the settings turn on

    install_error_reporting(window)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(loop_exception_reporter(window))
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, window.close)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not on this platform / loop
        await window.start()
        settle_heap()
        if prompt:
            window.send(prompt)
        await window.closed.wait()

    if sys.version_info >= (3, 12):
        asyncio.run(main(), loop_factory=qasync.QEventLoop)
    else:
        qasync.run(main())
    return 0
