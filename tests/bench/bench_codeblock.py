"""Streaming one long code block vs the same amount of prose, through the window.

ScriptedModel -> engine -> EventBridge -> transcript, in a shown MainWindow.
For each, prints the longest event-loop stall (a task asking to wake every 2 ms),
the GUI time spent rendering (inside the transcript's append_chunk and
complete_assistant), the wall time of the run, and whether the text shown at the
end is identical to a non-streamed render of the same message. Then the code
block at 20/40/80 KB (the sizes of issue 12, where they took 1.2/4.2/17.7 s: a
quadratic cost) to show the cost is linear.

    QT_QPA_PLATFORM=offscreen python tests/bench/bench_codeblock.py
    (--sizes 20,40,80 runs only the scaling part)
Targets: longest stall <= 50 ms; code / prose GUI time <= 2.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.bench.bench_window import StallMeter  # noqa: E402

KB = 1000
#: A fast provider: CHUNK characters every DELAY seconds (at most ~12 KB/s).
CHUNK = 24
DELAY = 0.002
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "answers",
    "keep",
    "coming",
]


def code_message(size: int) -> str:
    lines = ["Here is the program:", "", "```python"]
    total = 0
    i = 0
    while total < size:
        line = f"    value_{i} = compute({i}, 'label {i % 7}')  # step {i}"
        lines.append(line)
        total += len(line) + 1
        i += 1
    lines += ["```", "", "That is all."]
    return "\n".join(lines) + "\n"


def prose_message(size: int) -> str:
    paragraphs = []
    total = 0
    i = 0
    while total < size:
        words = [WORDS[(i + k) % len(WORDS)] for k in range(60)]
        para = " ".join(words).capitalize() + f", with **point {i}** and `item_{i}`."
        paragraphs.append(para)
        total += len(para) + 2
        i += 1
    return "\n\n".join(paragraphs) + "\n"


async def stream(text: str) -> dict[str, Any]:
    from desktop_agent.app.providers import ConnectionConfig
    from desktop_agent.gui.app import settle_heap
    from desktop_agent.gui.transcript import Transcript
    from desktop_agent.gui.window import MainWindow
    from desktop_agent.testing import ScriptedModel, Turn

    model = ScriptedModel([Turn(text=text, chunk_size=CHUNK, delay=DELAY)])
    window = MainWindow(
        ConnectionConfig(kind="openai", model="bench"), model_factory=lambda _c: model
    )
    window.resize(900, 700)
    window.show()
    await window.start()
    settle_heap()
    window.transcript.prepare()
    t = window.transcript
    spent = [0.0]

    def timed(method: Any) -> Any:
        def call(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args)
            finally:
                spent[0] += time.perf_counter() - start

        return call

    t.append_chunk = timed(t.append_chunk)  # type: ignore[method-assign]
    t.complete_assistant = timed(t.complete_assistant)  # type: ignore[method-assign]
    assert window.bridge is not None
    done = asyncio.get_running_loop().create_future()
    window.bridge.run_done.connect(lambda _d: done.done() or done.set_result(None))
    await asyncio.sleep(0.1)
    with StallMeter() as stalls:
        start = time.perf_counter()
        window.send("go")
        await done
        wall = time.perf_counter() - start
    answer = t.last("assistant")
    assert answer is not None
    first, end = t._bounds(answer)
    reference = Transcript()
    reference.complete_assistant("m", text, "stop")
    ref_entry = reference.entries[0]
    r_first, r_end = reference._bounds(ref_entry)
    shown = t.toPlainText()[first + answer.header_len : end]
    expected = reference.toPlainText()[r_first + ref_entry.header_len : r_end]
    frames = window.bridge.frames
    await window.shutdown()
    window.deleteLater()
    reference.deleteLater()
    return {
        "stall": stalls.worst,
        "gui": spent[0],
        "wall": wall,
        "frames": frames,
        "identical": shown == expected and t.last_answer() == text,
    }


def main() -> None:
    import qasync

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    sizes_only = "--sizes" in sys.argv
    sizes = [20, 40, 80]
    if sizes_only:
        sizes = [int(s) for s in sys.argv[sys.argv.index("--sizes") + 1].split(",")]
    results: dict[str, dict[str, Any]] = {}

    async def run_all() -> None:
        if not sizes_only:
            results["code"] = await stream(code_message(200 * KB))
            results["prose"] = await stream(prose_message(200 * KB))
        for size in sizes:
            results[f"code{size}"] = await stream(code_message(size * KB))

    qasync.run(run_all())

    def line(name: str, r: dict[str, Any]) -> str:
        return (
            f"{name:24s} longest stall {r['stall'] * 1000:6.1f} ms | GUI time "
            f"{r['gui']:6.2f} s | wall {r['wall']:6.2f} s | {r['frames']:5d} frames | "
            f"text identical to a non-streamed render: {r['identical']}"
        )

    if not sizes_only:
        code, prose = results["code"], results["prose"]
        print(
            f"Streaming 200 KB through the window (ScriptedModel, {CHUNK}-character "
            f"chunks every {DELAY * 1000:.0f} ms)"
        )
        print("  " + line("one 200 KB code block", code))
        print("  " + line("200 KB of prose", prose))
        print(
            f"  code / prose GUI time: {code['gui'] / prose['gui']:.2f}× (target <= 2); "
            f"longest stall {max(code['stall'], prose['stall']) * 1000:.1f} ms (target <= 50 ms)"
        )
    print("One code block at the sizes of issue 12 (was 1.2 / 4.2 / 17.7 s GUI time)")
    previous = None
    for size in sizes:
        r = results[f"code{size}"]
        growth = f" ({r['gui'] / previous:.2f}× the size before)" if previous else ""
        print("  " + line(f"{size} KB code block", r) + growth)
        previous = r["gui"]


if __name__ == "__main__":
    main()
