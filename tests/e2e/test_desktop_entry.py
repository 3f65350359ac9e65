"""`desktop-agent install-desktop-entry [--uninstall]` in a subprocess, into a
temporary $XDG_DATA_HOME, checked with desktop-file-validate (desktop-file-utils)."""

from __future__ import annotations

import os
import shlex
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def validate(entry: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    assert tool, "desktop-file-validate is missing: run tests/support/system-deps.sh"
    result = subprocess.run([tool, str(entry)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def check_installed(share: Path) -> Path:
    """The entry and every icon are where the freedesktop specs look; returns the entry."""
    entry = share / "applications" / "desktop-agent.desktop"
    assert entry.is_file()
    hicolor = share / "icons" / "hicolor"
    assert (hicolor / "scalable" / "apps" / "desktop-agent.svg").read_text().startswith("<svg")
    for size in SIZES:
        assert png_size(hicolor / f"{size}x{size}" / "apps" / "desktop-agent.png") == (size, size)
    return entry


def cli(share: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_DATA_HOME=str(share))
    cmd = [sys.executable, "-m", "desktop_agent", "install-desktop-entry", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_install_writes_a_valid_entry_and_uninstall_removes_it(tmp_path: Path) -> None:
    share = tmp_path / "share"
    theirs = share / "applications" / "someone-else.desktop"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("[Desktop Entry]\nType=Application\nName=x\nExec=x\n")

    result = cli(share)
    assert result.returncode == 0, result.stderr
    entry = check_installed(share)
    validate(entry)
    fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
    assert fields["Icon"] == "desktop-agent"
    assert fields["Terminal"] == "false"
    command = shlex.split(fields["Exec"])
    assert os.access(command[0], os.X_OK), command  # starts this installation
    assert fields["TryExec"] == command[0]

    again = cli(share)  # idempotent
    assert again.returncode == 0, again.stderr

    removed = cli(share, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert "removed 10 files" in removed.stdout
    left = sorted(p.relative_to(share) for p in share.rglob("*") if p.is_file())
    assert left == [Path("applications/someone-else.desktop")]
    assert cli(share, "--uninstall").stdout.startswith("nothing to remove")


def test_exec_line_quotes_paths_with_spaces() -> None:
    from desktop_agent.packaging.desktop_entry import _quote

    assert _quote("/opt/desktop-agent/desktop-agent") == "/opt/desktop-agent/desktop-agent"
    assert _quote("/home/a b/$x/run") == r'"/home/a b/\\$x/run"'
