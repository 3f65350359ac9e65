"""History benchmarks, each with a baseline measured in the same run.

1. Open a 10,000-message conversation in the window: time from the click to its
   latest messages rendered and painted (median of 5 opens), and the RSS it adds.
   Baseline: the same page read with one raw SQLite query and shown as plain text
   in a bare QTextBrowser.
2. Sidebar with 5,000 conversations (20,000 messages): time to list them into the
   sidebar, and to search titles + messages (FTS5) for a few queries. Baseline: the
   raw `SELECT` of the rows.

    QT_QPA_PLATFORM=offscreen python tests/bench/bench_history.py
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
os.environ["DESKTOP_AGENT_NO_KEYRING"] = "1"
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication, QTextBrowser  # noqa: E402

from desktop_agent.app.providers import ConnectionConfig  # noqa: E402
from desktop_agent.gui.conversation import PAGE_SIZE  # noqa: E402
from desktop_agent.storage import Store  # noqa: E402
from desktop_agent.testing import ScriptedModel  # noqa: E402

PARAGRAPH = (
    "Here is what I found about **{topic}**: the first step is to check the `config` "
    "file, then restart the service. See [the docs](https://example.com/{topic}) for more.\n\n"
    "- one point about {topic}\n- another point\n"
)
CODE = "```python\ndef {topic}(x):\n    return x * 2  # {topic}\n```\n"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_long(store: Store, count: int) -> str:
    conv = store.create_conversation(title="Ten thousand messages")
    with store.batch():  # one transaction: fast to build
        for i in range(count):
            topic = f"topic{i}"
            if i % 2 == 0:
                store.add_message(conv, "user", f"Question {i} about {topic}?")
            else:
                code = CODE.format(topic=topic) if i % 10 == 1 else ""
                store.add_message(conv, "assistant", PARAGRAPH.format(topic=topic) + code)
    return conv


def build_many(store: Store, count: int) -> None:
    with store.batch():
        for i in range(count):
            _small_conversation(store, i)


def _small_conversation(store: Store, i: int) -> None:
    when = 1_700_000_000.0 + i
    conv = store.create_conversation(created_at=when)
    for role, text in (
        ("user", f"How do I configure service number {i}?"),
        ("assistant", f"Edit the file for service {i}, then restart it."),
        ("user", "Thanks! And the logs?"),
        ("assistant", f"journalctl -u service{i}"),
    ):
        store.add_message(conv, role, text, created_at=when)


async def open_long(window: object, conv: str, other: str) -> tuple[float, float, int]:
    times = []
    before = rss_mb()
    for _ in range(5):
        window.open_conversation(other)  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        window.open_conversation(conv)  # type: ignore[attr-defined]
        window.repaint()  # type: ignore[attr-defined]
        times.append(time.perf_counter() - start)
        await asyncio.sleep(0.05)
    shown = len(window.transcript.entries)  # type: ignore[attr-defined]
    return statistics.median(times), rss_mb() - before, shown


def baseline_open(store: Store, conv: str) -> float:
    browser = QTextBrowser()
    browser.resize(850, 600)
    browser.show()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        leaf = store._db.execute(
            "SELECT leaf_id FROM conversations WHERE id = ?", (conv,)
        ).fetchone()[0]
        rows = store._db.execute(
            "WITH RECURSIVE p(id, d) AS (SELECT ?, 0 UNION ALL SELECT m.parent_id, p.d + 1 "
            "FROM p JOIN messages m ON m.id = p.id WHERE m.parent_id IS NOT NULL AND p.d < ?) "
            "SELECT m.role, m.content FROM p JOIN messages m ON m.id = p.id ORDER BY p.d DESC",
            (leaf, PAGE_SIZE - 1),
        ).fetchall()
        browser.setPlainText("\n\n".join(f"{r[0]}: {r[1]}" for r in rows))
        browser.repaint()
        times.append(time.perf_counter() - start)
    browser.close()
    return statistics.median(times)


def sidebar_and_search(window: object, store: Store) -> dict[str, float]:
    from desktop_agent.gui.sidebar import Row

    out: dict[str, float] = {}
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        rows = [Row(c.id, c.title, c.updated_at) for c in store.conversations()]
        window.sidebar.model.set_rows(rows)  # type: ignore[attr-defined]
        window.repaint()  # type: ignore[attr-defined]
        runs.append(time.perf_counter() - start)
    out["list"] = statistics.median(runs)
    out["listed"] = len(rows)
    raw = []
    for _ in range(5):
        start = time.perf_counter()
        store._db.execute(
            "SELECT id, title, updated_at FROM conversations ORDER BY updated_at DESC"
        ).fetchall()
        raw.append(time.perf_counter() - start)
    out["raw_list"] = statistics.median(raw)
    for query in ("service 4711", "journalctl", "configure serv", "restart"):
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            hits = store.search(query, limit=50)
            runs.append(time.perf_counter() - start)
        out[f"search {query!r}"] = statistics.median(runs)
        out[f"hits {query!r}"] = len(hits)
    return out


def main() -> None:
    import qasync

    from desktop_agent.gui.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    tmp = Path(tempfile.mkdtemp(prefix="da-bench-history-"))
    store = Store(tmp / "history.db")
    start = time.perf_counter()
    conv = build_long(store, 10_000)
    other = store.create_conversation(title="Short one")
    store.add_message(other, "user", "hi")
    build_many(store, 5_000)
    print(
        f"built the database in {time.perf_counter() - start:.1f} s "
        f"({(tmp / 'history.db').stat().st_size / 1e6:.0f} MB)"
    )
    results: dict[str, object] = {}

    async def run() -> None:
        window = MainWindow(
            ConnectionConfig(kind="openai", model="bench"),
            model_factory=lambda _c: ScriptedModel([]),
            history=lambda: store,
        )
        window.resize(1100, 740)
        window.show()
        await window.start()
        results["open"] = await open_long(window, conv, other)
        results["baseline_open"] = baseline_open(store, conv)
        results["sidebar"] = sidebar_and_search(window, store)
        window.store = None  # the benchmark closes its store itself
        await window.shutdown()

    qasync.run(run())
    store.close()
    opened, added_mb, shown = results["open"]  # type: ignore[misc]
    base = results["baseline_open"]
    print(
        f"open a 10,000-message conversation: {opened * 1000:.0f} ms to its latest {shown} "
        f"messages rendered and painted (target <= 300 ms); baseline raw query + plain "
        f"QTextBrowser {base * 1000:.1f} ms (ratio {opened / base:.1f}); RSS +{added_mb:.1f} MB"  # type: ignore[operator]
    )
    side = results["sidebar"]
    listed, took, raw = side["listed"], side["list"] * 1000, side["raw_list"] * 1000  # type: ignore[index]
    print(
        f"sidebar, {listed:.0f} conversations: listed and painted in {took:.1f} ms "
        f"(raw SELECT {raw:.1f} ms)"
    )
    for key, value in side.items():  # type: ignore[union-attr]
        if key.startswith("search"):
            query = key[len("search ") :]
            print(f"  search {query}: {value * 1000:.1f} ms, {side['hits ' + query]:.0f} hits")  # type: ignore[index]


if __name__ == "__main__":
    main()
