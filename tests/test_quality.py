"""The project's own checks, run by the test command: ruff (lint and format),
mypy (strict on the engine) and the import-linter contracts from DESIGN.md."""

from __future__ import annotations

import ast
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


def _wall_clock_sleeps(source: str) -> list[int]:
    """Lines of `time.sleep(n)` / `asyncio.sleep(n)` (or a bare imported `sleep(n)`)
    with a non-zero number literal."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        named = (
            isinstance(func, ast.Attribute)
            and func.attr == "sleep"
            and isinstance(func.value, ast.Name)
            and func.value.id in ("time", "asyncio")
        ) or (isinstance(func, ast.Name) and func.id == "sleep")
        delay = node.args[0]
        if isinstance(delay, ast.UnaryOp) and isinstance(delay.op, ast.USub):
            delay = delay.operand
        literal = isinstance(delay, ast.Constant) and isinstance(delay.value, (int, float))
        if named and literal and delay.value != 0:  # type: ignore[attr-defined]
            found.append(node.lineno)
    return sorted(found)


def test_the_scan_finds_wall_clock_sleeps() -> None:
    source = (
        "import asyncio, time\nfrom time import sleep\n"
        "async def f():\n"
        "    await asyncio.sleep(0)\n    await asyncio.sleep(0.1)\n"
        "    time.sleep(2)\n    sleep(1)\n    await asyncio.sleep(delay)\n"
    )
    assert _wall_clock_sleeps(source) == [5, 6, 7]


def test_no_unit_test_sleeps_on_the_wall_clock() -> None:
    """Unit tests wait on the thing (events, `tests.support.clock.until`) or on the
    virtual clock (`@pytest.mark.virtual_clock` + `elapse`), never for a while."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "tests" / "unit").rglob("*.py"))
        for line in _wall_clock_sleeps(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"sleeps on the wall clock in unit tests: {offenders}"
