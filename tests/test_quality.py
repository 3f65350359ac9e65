"""The project's own checks, run by the test command: ruff (lint and format),
mypy (strict on the engine) and the import-linter contracts from DESIGN.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(
    "cmd",
    [
        (sys.executable, "-m", "ruff", "check", "."),
        (sys.executable, "-m", "ruff", "format", "--check", "."),
        (sys.executable, "-m", "mypy", "desktop_agent"),
        ("lint-imports",),
    ],
    ids=["ruff-lint", "ruff-format", "mypy", "import-linter"],
)
def test_check_passes(cmd: tuple[str, ...]) -> None:
    if cmd[0] == "lint-imports":
        cmd = (str(Path(sys.executable).with_name("lint-imports")),)
    result = _run(*cmd)
    assert result.returncode == 0, result.stdout + result.stderr


def test_engine_imports_without_heavy_dependencies() -> None:
    code = (
        "import sys, desktop_agent; "
        "names = ('openai', 'PySide6', 'aiohttp', 'sqlite3', 'httpx2'); "
        "heavy = [m for m in names if m in sys.modules]; "
        "print(heavy)"
    )
    result = _run(sys.executable, "-c", code)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
