"""Packaged-app benchmark: one-folder size, and start-up of the frozen app vs the
same app from Python, measured in the same run.

1. Size of dist/desktop-agent/ without the embedded engine (target ≤ 180 MB) and
   with it (llama.cpp + SmolLM2's GGUF file).
2. Start-up: launch to window shown (the app's own "shown" probe, printed after
   the first paint) for the frozen executable vs `python -m desktop_agent`,
   alternating, median of 7 each (target ≤ 1.2×).

    python tests/bench/bench_package.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.package import build_app, folder_size  # noqa: E402

RUNS = 7


def time_to_window(cmd: list[str], home: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(
        QT_QPA_PLATFORM="offscreen", DESKTOP_AGENT_HOME=home, DESKTOP_AGENT_EXIT_AFTER_SHOW="1"
    )
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.wait(30)
    assert line.strip() == "shown", line
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="da-bench-package-") as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        lean = build_app(out / "lean", bundle_local=False)
        build_s = time.perf_counter() - start
        full = build_app(out / "full", bundle_local=True)
        lean_mb = folder_size(lean.parent) / 1e6
        full_mb = folder_size(full.parent) / 1e6
        home = str(out / "home")
        frozen: list[float] = []
        python: list[float] = []
        time_to_window([str(lean)], home)  # first launches warm the page cache for both
        time_to_window([sys.executable, "-m", "desktop_agent"], home)
        for _ in range(RUNS):
            frozen.append(time_to_window([str(lean)], home))
            python.append(time_to_window([sys.executable, "-m", "desktop_agent"], home))
    frozen_s, python_s = statistics.median(frozen), statistics.median(python)
    print(f"build (PyInstaller, without engine): {build_s:.0f} s")
    print(f"one-folder size without the engine: {lean_mb:.0f} MB (target <= 180)")
    print(f"one-folder size with the engine and model: {full_mb:.0f} MB")
    print(
        f"start-up to window: frozen {frozen_s * 1000:.0f} ms vs python -m desktop_agent "
        f"{python_s * 1000:.0f} ms, ratio {frozen_s / python_s:.2f} (target <= 1.2)"
    )


if __name__ == "__main__":
    main()
