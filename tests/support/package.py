"""Build the one-folder app with the project's PyInstaller spec (tests and benchmark)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "resources" / "pyinstaller" / "desktop-agent.spec"


def build_app(out: Path, *, bundle_local: bool = True) -> Path:
    """Build into `out`/dist/desktop-agent; returns the executable's path."""
    env = dict(os.environ, DESKTOP_AGENT_BUNDLE_LOCAL="1" if bundle_local else "0")
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "ERROR"]
    cmd += ["--distpath", str(out / "dist"), "--workpath", str(out / "build"), str(SPEC)]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"PyInstaller failed:\n{result.stdout}\n{result.stderr[-4000:]}")
    exe = (
        out
        / "dist"
        / "desktop-agent"
        / ("desktop-agent.exe" if os.name == "nt" else "desktop-agent")
    )
    assert exe.exists(), f"no executable at {exe}"
    return exe


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
