"""Render the README's screenshots: a scripted conversation (text, a table, a code
block, two tool calls, a tool waiting for approval), offscreen, light or dark, at
any scale.

    python -m tests.support.screenshot out.png [--dark] [--scale 2]
    python -m tests.support.screenshot --all resources/screenshots

`--all` writes window-light.png, window-dark.png and their @2x versions (each in
its own process: Qt's scale factor is set before the application starts). Dark
uses the app's theme module when it offers a dark palette, else Fusion with a
dark palette.

    python -m tests.support.screenshot --chrome resources/screenshots

`--chrome` writes the empty state and the Settings dialog, light and dark
(empty-light.png, empty-dark.png, settings-light.png, settings-dark.png).
"""

from __future__ import annotations

import asyncio
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtWidgets import QApplication

ANSWER = """**12.5 % of 3,240 is 405.** In Tokyo it is {time}.

| step | value |
|------|-------|
| 3,240 × 0.125 | 405 |

To do the same in Python:

```python
share = 3240 * 12.5 / 100
print(f"{{share:g}}")  # 405
```
"""


def tokyo_time() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%H:%M on %A")


def dark_palette():  # type: ignore[no-untyped-def]
    """A dark Fusion palette (the LOOK.md values)."""
    from PySide6.QtGui import QColor, QPalette

    pal = QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.Window, "#171717"),
        (role.WindowText, "#ececec"),
        (role.Base, "#212121"),
        (role.AlternateBase, "#2f2f2f"),
        (role.Text, "#ececec"),
        (role.PlaceholderText, "#b4b4b4"),
        (role.Button, "#2a2a2a"),
        (role.ButtonText, "#ececec"),
        (role.Mid, "#424242"),
        (role.Highlight, "#3584e4"),
        (role.HighlightedText, "#ffffff"),
        (role.Link, "#81d0ff"),
        (role.ToolTipBase, "#2f2f2f"),
        (role.ToolTipText, "#ececec"),
    ):
        pal.setColor(r, QColor(value))
    return pal


def main(path: str, dark: bool = False) -> None:
    import qasync

    from desktop_agent.app.providers import ConnectionConfig
    from desktop_agent.gui.appearance import Appearance
    from desktop_agent.gui.window import MainWindow
    from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
    from desktop_agent.tools.basic import DEFAULT_TOOLS

    app = QApplication.instance() or QApplication(sys.argv[:1])
    if dark:
        app.setStyle("Fusion")  # type: ignore[attr-defined]
        app.setPalette(dark_palette())  # type: ignore[attr-defined]
    model = ScriptedModel(
        [
            Turn(
                reasoning="The user wants a percentage and the time in Tokyo: two tools.",
                tool_calls=[
                    ScriptedToolCall("calculator", {"expression": "3240 * 12.5 / 100"}),
                    ScriptedToolCall("current_time", {"timezone": "Asia/Tokyo"}),
                ],
                delay=0.002,
            ),
            Turn(text=ANSWER.format(time=tokyo_time()), delay=0.002, chunk_size=6),
            Turn(
                tool_calls=[
                    ScriptedToolCall(
                        "save_note", {"text": "405 EUR = 437.40 USD", "folder": "finance"}
                    )
                ],
                delay=0.002,
            ),
        ],
        model="gpt-4o-mini",
    )
    config = ConnectionConfig(
        kind="openai", base_url="https://api.openai.com/v1", model="gpt-4o-mini"
    )
    import tempfile
    import time

    from desktop_agent.storage import Store

    folder = tempfile.mkdtemp(prefix="da-screenshot-")
    store = Store(f"{folder}/history.db")
    earlier = [
        ("Plan three days in Kyoto in autumn", 3 * 86400),
        ("Why does my SQLite query ignore the index?", 2 * 86400),
        ("Draft a polite reminder about the invoice", 86400),
        ("Explain Python's asyncio.TaskGroup", 5 * 3600),
    ]
    for title, ago in earlier:
        conv = store.create_conversation(created_at=time.time() - ago)
        store.add_message(conv, "user", title, created_at=time.time() - ago)
        store.add_message(conv, "assistant", "…", created_at=time.time() - ago)
    from desktop_agent import tool

    @tool("Save a note", side_effects=True)
    def save_note(text: str, folder: str = "inbox") -> str:
        return f"saved in {folder}"

    window = MainWindow(
        config,
        tools=[*DEFAULT_TOOLS, save_note],
        model_factory=lambda _c: model,
        history=lambda: store,
        appearance=Appearance(scheme="dark" if dark else "light"),
    )
    window.resize(1120, 760)
    window.show()

    async def scene() -> None:
        await window.start()
        done = asyncio.Event()
        assert window.bridge is not None
        window.bridge.run_done.connect(lambda _data: done.set())
        window.send("What is 12.5% of 3,240? And what time is it in Tokyo?")
        await done.wait()
        await asyncio.sleep(0.1)
        window.send("Thanks! Save a note: 405 EUR is 437.40 USD")
        asked = asyncio.Event()
        window.views.approval_waiting.connect(lambda _view: asked.set())
        await asked.wait()
        await asyncio.sleep(0.2)
        window.grab().save(path)
        window.runs.cancel()
        await done.wait()
        await window.shutdown()

    qasync.run(scene())
    print(f"saved {path}")


def chrome_main(folder: str) -> None:
    """The empty state and the Settings dialog, light and dark, into `folder`."""
    import tempfile
    import time
    from pathlib import Path

    import qasync

    from desktop_agent.app.providers import ConnectionConfig
    from desktop_agent.gui.appearance import Appearance
    from desktop_agent.gui.window import MainWindow
    from desktop_agent.storage import Store
    from desktop_agent.testing import ScriptedModel
    from desktop_agent.tools.basic import DEFAULT_TOOLS

    if QApplication.instance() is None:
        QApplication(sys.argv[:1])
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    config = ConnectionConfig(
        kind="openai", base_url="https://api.openai.com/v1", model="gpt-4o-mini"
    )
    db = f"{tempfile.mkdtemp(prefix='da-screenshot-')}/history.db"
    store = Store(db)
    for title, ago in [
        ("Plan three days in Kyoto in autumn", 9 * 86400),
        ("Why does my SQLite query ignore the index?", 3 * 86400),
        ("Draft a polite reminder about the invoice", 86400 + 3600),
        ("Explain Python's asyncio.TaskGroup", 3600),
    ]:
        conv = store.create_conversation(created_at=time.time() - ago)
        store.add_message(conv, "user", title, created_at=time.time() - ago)
        store.add_message(conv, "assistant", "…", created_at=time.time() - ago)
    store.close()

    async def scene() -> None:
        for scheme in ("light", "dark"):
            window = MainWindow(
                config,
                tools=DEFAULT_TOOLS,
                model_factory=lambda _c: ScriptedModel([], model="gpt-4o-mini"),
                history=lambda: Store(db),
                appearance=Appearance(scheme=scheme),
            )
            window.resize(1120, 760)
            window.show()
            await window.start()
            await asyncio.sleep(0.2)
            window.grab().save(str(out / f"empty-{scheme}.png"))
            dialog = window.open_settings()
            dialog.resize(900, 600)
            await asyncio.sleep(0.2)
            dialog.grab().save(str(out / f"settings-{scheme}.png"))
            dialog.reject()
            await window.shutdown()
            print(f"saved {out}/empty-{scheme}.png, settings-{scheme}.png")

    qasync.run(scene())


def render_all(folder: str) -> None:
    """The four screenshots, each in a fresh process (light/dark × 100 %/200 %)."""
    import subprocess
    from pathlib import Path

    Path(folder).mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        for scale, suffix in (("1", ""), ("2", "@2x")):
            out = str(Path(folder) / f"window-{theme}{suffix}.png")
            args = [sys.executable, "-m", "tests.support.screenshot", out, "--scale", scale]
            subprocess.run([*args, *(["--dark"] if theme == "dark" else [])], check=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="window.png")
    parser.add_argument("--dark", action="store_true", help="a dark palette")
    parser.add_argument("--scale", default="1", help="device pixel ratio (2 = 200 %%)")
    parser.add_argument("--all", metavar="DIR", help="all four screenshots into DIR")
    parser.add_argument(
        "--chrome", metavar="DIR", help="the empty state and Settings, light and dark, into DIR"
    )
    options = parser.parse_args()
    if options.chrome:
        chrome_main(options.chrome)
    elif options.all:
        render_all(options.all)
    else:
        os.environ["QT_SCALE_FACTOR"] = options.scale
        main(options.path, dark=options.dark)
