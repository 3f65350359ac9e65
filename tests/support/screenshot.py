"""Render the README's screenshot: a scripted conversation with tool calls, offscreen.

QT_QPA_PLATFORM=offscreen python -m tests.support.screenshot resources/screenshots/window.png

The empty state and the Settings dialog, light and dark (empty-light.png,
empty-dark.png, settings-light.png, settings-dark.png in the folder):

QT_QPA_PLATFORM=offscreen python -m tests.support.screenshot --chrome resources/screenshots
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


def main(path: str) -> None:
    import qasync

    from desktop_agent.app.providers import ConnectionConfig
    from desktop_agent.gui.window import MainWindow
    from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
    from desktop_agent.tools.basic import DEFAULT_TOOLS

    if QApplication.instance() is None:
        QApplication(sys.argv[:1])
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
    window = MainWindow(
        config, tools=DEFAULT_TOOLS, model_factory=lambda _c: model, history=lambda: store
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
        window.composer.setPlainText("Thanks! Now convert 405 EUR to USD at 1.08")
        await asyncio.sleep(0.2)
        window.grab().save(path)
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


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--chrome":
        chrome_main(sys.argv[2])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "window.png")
