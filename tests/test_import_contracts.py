"""The import contracts deny by default: a module nobody listed that imports what it
must not breaks them. Each case writes an offending module into a copy of the
package and runs lint-imports there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(
    tmp_path: Path, offender: tuple[str, str] | None
) -> subprocess.CompletedProcess[str]:
    shutil.copytree(
        ROOT / "desktop_agent",
        tmp_path / "desktop_agent",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if offender is not None:
        path, source = offender
        (tmp_path / "desktop_agent" / path).write_text(source, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_copy_keeps_the_contracts(tmp_path: Path) -> None:
    result = lint_imports(tmp_path, None)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("path", "source", "broken"),
    [
        ("engine/_offender.py", "import PySide6\n", "Only gui/ imports Qt"),
        ("app/_offender.py", "import aiohttp\n", "Only web/ imports aiohttp"),
        ("tools/_offender.py", "import aiohttp\n", "Only web/ imports aiohttp"),
        ("packaging/_offender.py", "import PySide6\n", "Only gui/ imports Qt"),
        ("storage/_offender.py", "import openai\n", "Only providers/ imports openai"),
        ("app/_offender.py", "import mcp\n", "Only tools.mcp imports mcp"),
        ("engine/_offender.py", "from ..app import settings\n", "Layers"),
        ("web/_offender.py", "from ..gui import theme\n", "Layers"),
    ],
    ids=[
        "qt-in-engine",
        "aiohttp-in-app",
        "aiohttp-in-tools",
        "qt-in-packaging",
        "openai-in-storage",
        "mcp-in-app",
        "engine-up",
        "web-gui",
    ],
)
def test_a_new_offending_module_breaks_a_contract(
    tmp_path: Path, path: str, source: str, broken: str
) -> None:
    result = lint_imports(tmp_path, (path, source))
    assert result.returncode != 0, result.stdout
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout, result.stdout
