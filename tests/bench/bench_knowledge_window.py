"""Indexing N generated files (default 10,000, ~54 MB) from the project dialog, in a
real window offscreen: the time until the dialog shows the result, and the longest
GUI stall meanwhile (a 5 ms QTimer's longest gap, minus 5 ms). Baselines in the same
run: the noise floor (the longest gap in 1 s with nothing to do) and the stall of
indexing 200 of the files on the GUI thread, as a dialog without a worker would.

    python tests/bench/bench_knowledge_window.py [N]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
os.environ["DESKTOP_AGENT_NO_KEYRING"] = "1"
os.environ["DESKTOP_AGENT_HOME"] = tempfile.mkdtemp(prefix="bench-knowledge-window-")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.bench.bench_attach import StallMeter  # noqa: E402


async def run(files: int) -> None:
    from desktop_agent.app.providers import ConnectionConfig
    from desktop_agent.gui.window import MainWindow
    from desktop_agent.storage import Store
    from desktop_agent.testing import ScriptedModel
    from tests.support.corpus import write_corpus

    work = Path(tempfile.mkdtemp(prefix="bench-kw-"))
    write_corpus(work / "corpus", files, paragraphs=6, words=120)
    write_corpus(work / "small", 200, seed=9, paragraphs=6, words=120)
    window = MainWindow(
        ConnectionConfig(kind="openai", model="m", base_url="http://127.0.0.1:9/v1"),
        model_factory=lambda config: ScriptedModel(model="m"),
        history=lambda: Store(work / "history.db"),
    )
    window.show()
    await window.start()
    meter = StallMeter()
    meter.start()
    await asyncio.sleep(1.0)
    floor = meter.stop()

    projects = window.session.projects
    small = projects.create("Small")
    meter.start()
    t0 = time.perf_counter()
    projects.index(small.id, [work / "small"])  # on the GUI thread: the baseline
    blocking = time.perf_counter() - t0
    meter.stop()

    dialog = window.projects.edit(None)
    dialog.name.setText("Big")
    dialog.save()
    meter.start()
    t0 = time.perf_counter()
    task = dialog.start_indexing([str(work / "corpus")])
    report = await task
    took = time.perf_counter() - t0
    stall = meter.stop()
    print(f"{files:,} files from the dialog: {took:.1f} s ({report.summary()})")
    print(f"  longest GUI stall meanwhile: {stall * 1000:.0f} ms")
    print(f"  noise floor (1 s idle): {floor * 1000:.0f} ms")
    print(f"  baseline: 200 files indexed on the GUI thread block it {blocking * 1000:.0f} ms")
    dialog.close()
    await window.shutdown()


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    app = QApplication(sys.argv[:1])
    import qasync

    qasync.run(run(files))
    del app


if __name__ == "__main__":
    main()
