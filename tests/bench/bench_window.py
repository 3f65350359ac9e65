"""Window benchmarks, each against a baseline measured in the same run.

1. Render throughput: 20,000 chunks into the window as fast as the engine
   delivers them, from ScriptedModel and from the scripted server over HTTP
   (its own process). Reports chunks/s, the longest event-loop stall, whether
   the final text is identical, the window's rate relative to the engine alone,
   and the baseline: per-token `QTextBrowser.insertPlainText`.
2. Scaling: one streamed update with 10 KB vs 5 MB of transcript shown (ratio).
3. Start-up: launch to window shown, vs a bare PySide6 window (ratio).
4. Memory: RSS idle and after a 1,000-message conversation.

    QT_QPA_PLATFORM=offscreen python tests/bench/bench_window.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication, QTextBrowser  # noqa: E402

from tests.bench.bench_engine import queue_reply, start_server  # noqa: E402

CHUNKS = 20_000


def _bench_config():  # type: ignore[no-untyped-def]
    from desktop_agent.app.providers import ConnectionConfig

    return ConnectionConfig(kind="openai", model="bench")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class StallMeter:
    """Largest gap between wake-ups of a task that asks to wake every 2 ms."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - 0.002)
            last = now

    def __enter__(self) -> StallMeter:
        self._task = asyncio.ensure_future(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def chunk_texts(n: int) -> list[str]:
    return [f"t{i % 10} " + ("\n\n" if i % 50 == 49 else "") for i in range(n)]


async def engine_alone(make_model) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from desktop_agent import Agent, EventType

    agent = Agent(model=make_model())
    sub = agent.dispatcher.subscribe(maxsize=1_000_000)
    with StallMeter() as stalls:  # the same background ticking as in the window's run
        start = time.perf_counter()
        await agent.handle_message("go")
        elapsed = time.perf_counter() - start
    assert any(e.type is EventType.DONE for e in sub.drain_nowait())
    return CHUNKS / elapsed, stalls.worst


async def through_window(make_model) -> tuple[float, float, bool, int]:  # type: ignore[no-untyped-def]
    from desktop_agent.gui.app import settle_heap
    from desktop_agent.gui.window import MainWindow

    window = MainWindow(_bench_config(), model_factory=lambda _c: make_model())
    window.resize(900, 700)
    window.show()
    await window.start()
    settle_heap()  # as run_app does after start()
    assert window.bridge is not None
    got: list[str] = []
    window.bridge.chunk_received.connect(lambda event: got.append(event.chunk))
    await asyncio.sleep(0.1)
    done = asyncio.get_running_loop().create_future()
    window.bridge.run_done.connect(lambda _d: done.done() or done.set_result(None))
    with StallMeter() as stalls:
        start = time.perf_counter()
        window.send("go")
        await done
        elapsed = time.perf_counter() - start
    identical = "".join(got) == "".join(chunk_texts(CHUNKS)) == window.transcript.last_answer()
    frames = window.bridge.frames
    await window.shutdown()
    window.deleteLater()
    return CHUNKS / elapsed, stalls.worst, identical, frames


async def esc_latency() -> float:
    """From Esc (window.stop) mid-stream to the run's DONE reaching the window."""
    from desktop_agent.gui.window import MainWindow
    from desktop_agent.testing import ScriptedModel, Turn

    model = ScriptedModel([Turn(text="y" * 5000, chunk_size=2, delay=0.002)])
    window = MainWindow(_bench_config(), model_factory=lambda _c: model)
    window.show()
    await window.start()
    assert window.bridge is not None
    done = asyncio.get_running_loop().create_future()
    window.bridge.run_done.connect(lambda d: done.done() or done.set_result(d))
    window.send("go")
    await asyncio.sleep(0.3)
    pressed = time.perf_counter()
    window.stop()
    data = await done
    latency = time.perf_counter() - pressed
    assert data.status == "cancelled"
    await window.shutdown()
    return latency


async def insert_plain_baseline(n: int) -> float:
    browser = QTextBrowser()
    browser.resize(900, 700)
    browser.show()
    texts = chunk_texts(n)
    start = time.perf_counter()
    for i, text in enumerate(texts):
        browser.insertPlainText(text)
        if i % 20 == 19:
            browser.viewport().repaint()
    elapsed = time.perf_counter() - start
    browser.deleteLater()
    return n / elapsed


async def scaling() -> tuple[float, float]:
    from desktop_agent.gui.transcript import Transcript

    def cost_with(history_bytes: int) -> float:
        t = Transcript()
        t.resize(900, 700)
        t.show()
        para = "Some earlier answer text with **bold** and `code`, long enough to wrap. " * 10
        per_message = len(para) + 20
        for i in range(max(1, history_bytes // per_message // 2)):
            t.add_user(f"question {i}")
            t.complete_assistant(f"m{i}", para, "stop")
        t.begin_assistant("live")
        QApplication.processEvents()
        samples = []
        for i in range(200):
            start = time.perf_counter()
            t.append_chunk("live", f"word{i} ")
            t.viewport().repaint()
            samples.append(time.perf_counter() - start)
        t.deleteLater()
        return statistics.median(samples)

    small = cost_with(10_000)
    large = cost_with(5_000_000)
    return small, large


def startup() -> tuple[float, float]:
    probe = (
        "import time, sys; t0 = time.perf_counter();"
        "from PySide6.QtWidgets import QApplication, QMainWindow;"
        "from PySide6.QtCore import QTimer;"
        "app = QApplication([]); w = QMainWindow(); w.resize(900, 700); w.show();"
        "QTimer.singleShot(0, app.quit); app.exec(); print('shown', flush=True)"
    )
    env = dict(os.environ, DESKTOP_AGENT_EXIT_AFTER_SHOW="1", DESKTOP_AGENT_HOME="/tmp/da-bench")
    # As installed (pip and PyInstaller write bytecode): these machines set
    # PYTHONDONTWRITEBYTECODE, which would make every start compile our sources.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    import compileall

    compileall.compile_dir(str(ROOT / "desktop_agent"), quiet=1)
    times: dict[str, list[float]] = {"bare": [], "app": []}
    for _ in range(5):
        for name, cmd in (
            ("bare", [sys.executable, "-c", probe]),
            ("app", [sys.executable, "-m", "desktop_agent"]),
        ):
            # Time to the "shown" line (printed once the window has painted), not to
            # the process's exit: tearing Qt down is not start-up.
            start = time.perf_counter()
            proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
            )
            assert proc.stdout is not None
            line = proc.stdout.readline()
            times[name].append(time.perf_counter() - start)
            proc.wait(30)
            assert line.strip() == "shown", line
    return statistics.median(times["bare"]), statistics.median(times["app"])


def memory_in_fresh_process() -> tuple[float, float]:
    """Measured in a new process, so earlier benchmarks' heap does not count."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    return float(out[-2]), float(out[-1])


async def memory() -> tuple[float, float]:
    from desktop_agent.gui.window import MainWindow
    from desktop_agent.testing import ScriptedModel

    window = MainWindow(_bench_config(), model_factory=lambda _c: ScriptedModel())
    window.show()
    await window.start()
    await asyncio.sleep(0.2)
    idle = rss_mb()
    answer = "An answer of a typical length, with a little **Markdown** in it. " * 6
    for i in range(500):
        window.transcript.add_user(f"Question number {i}: what about this?")
        window.transcript.complete_assistant(f"m{i}", answer, "stop")
    await asyncio.sleep(0.2)
    full = rss_mb()
    await window.shutdown()
    return idle, full


def main() -> None:
    import qasync

    from desktop_agent.providers.openai import OpenAIClient
    from desktop_agent.testing import ScriptedModel, Turn

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    proc, base_url = start_server()
    results: dict[str, object] = {}

    def scripted():  # type: ignore[no-untyped-def]
        return ScriptedModel([Turn(chunks=chunk_texts(CHUNKS))])

    def over_http():  # type: ignore[no-untyped-def]
        queue_reply(base_url, chunk_texts(CHUNKS))
        return OpenAIClient(api_key="bench", model="bench", base_url=base_url)

    async def run_all() -> None:
        results["baseline"] = await insert_plain_baseline(CHUNKS)
        results["engine_scripted"] = await engine_alone(scripted)
        results["window_scripted"] = await through_window(scripted)
        results["engine_http"] = await engine_alone(over_http)
        results["window_http"] = await through_window(over_http)
        results["scaling"] = await scaling()
        results["esc"] = [await esc_latency() for _ in range(5)]

    try:
        qasync.run(run_all())
    finally:
        proc.terminate()
        proc.wait(10)
    results["startup"] = startup()
    results["memory"] = memory_in_fresh_process()

    base = results["baseline"]
    print(f"1. Render throughput, {CHUNKS:,} chunks")
    print(f"   baseline: per-token QTextBrowser.insertPlainText  {base:9,.0f} chunks/s")
    for kind in ("scripted", "http"):
        engine, engine_stall = results[f"engine_{kind}"]  # type: ignore[misc]
        rate, stall, identical, frames = results[f"window_{kind}"]  # type: ignore[misc]
        print(
            f"   {kind:8s}: engine alone {engine:9,.0f} chunks/s (longest stall "
            f"{engine_stall * 1000:.0f} ms) | window {rate:9,.0f} chunks/s ({rate / engine:.2f}× "
            f"engine, window cost {100 * (1 - rate / engine):.0f}%), {frames} frames, longest "
            f"stall {stall * 1000:.0f} ms, text identical: {identical}"
        )
    small, large = results["scaling"]  # type: ignore[misc]
    print(
        f"2. One streamed update: {small * 1000:.2f} ms with 10 KB shown, "
        f"{large * 1000:.2f} ms with 5 MB shown: ratio {large / small:.2f} (target <= 1.5)"
    )
    esc = results["esc"]
    print(
        f"   Esc mid-stream -> run stopped in the window: median "
        f"{statistics.median(esc) * 1000:.0f} ms, worst {max(esc) * 1000:.0f} ms (target 200 ms)"  # type: ignore[arg-type]
    )
    bare, app_t = results["startup"]  # type: ignore[misc]
    print(
        f"3. Start-up to window shown: bare PySide6 {bare:.2f} s, desktop-agent {app_t:.2f} s: "
        f"ratio {app_t / bare:.2f} (target <= 1.5)"
    )
    idle, full = results["memory"]  # type: ignore[misc]
    print(f"4. RSS: idle {idle:.0f} MB, after 1,000 messages {full:.0f} MB")


def memory_main() -> None:
    import qasync

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    result: list[float] = []

    async def run() -> None:
        result.extend(await memory())

    qasync.run(run())
    print(result[0], result[1])


if __name__ == "__main__":
    if "--memory" in sys.argv:
        memory_main()
    else:
        main()
