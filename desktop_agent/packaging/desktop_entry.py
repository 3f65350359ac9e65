"""`desktop-agent install-desktop-entry [--uninstall]`: put the app in the Linux
application menu, for this user only (freedesktop.org desktop entry + hicolor icons).

Writes into the user's data folder ($XDG_DATA_HOME, else ~/.local/share):
applications/desktop-agent.desktop and icons/hicolor/{scalable,NxN}/apps/desktop-agent.*
The entry starts this installation: the frozen app's executable, or the
`desktop-agent` script of the environment it runs from.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..app.paths import resource_path

__all__ = ["desktop_entry_files", "exec_command", "install", "main", "uninstall"]

APP_ID = "desktop-agent"
_PNG = re.compile(rf"{APP_ID}-(\d+)\.png")


def _user_data() -> Path:
    import platformdirs

    return platformdirs.user_data_path()  # honours $XDG_DATA_HOME


def exec_command() -> list[str]:
    """The command that starts this installation of the app."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = Path(sys.argv[0])
    if script.name == APP_ID and script.exists():
        return [str(script.resolve())]
    found = shutil.which(APP_ID)
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", "desktop_agent"]


def _quote(arg: str) -> str:
    """An Exec argument, quoted as the Desktop Entry Specification asks: reserved
    characters backslash-escaped inside double quotes, then every backslash doubled
    (the value is also a string, whose own escaping is undone first)."""
    if re.fullmatch(r"[\w@%+=:,./-]+", arg):
        return arg
    escaped = re.sub(r'(["`$\\])', r"\\\1", arg).replace("\\", "\\\\")
    return f'"{escaped}"'


def desktop_entry_files(data: Path | None = None) -> dict[Path, Path | None]:
    """Where each file goes → the resource it is copied from (None: the entry itself)."""
    data = data or _user_data()
    files: dict[Path, Path | None] = {data / "applications" / f"{APP_ID}.desktop": None}
    icons = resource_path("icons")
    hicolor = data / "icons" / "hicolor"
    files[hicolor / "scalable" / "apps" / f"{APP_ID}.svg"] = icons / f"{APP_ID}.svg"
    for png in sorted(icons.glob(f"{APP_ID}-*.png")):
        match = _PNG.fullmatch(png.name)
        if match:
            size = match.group(1)
            files[hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"] = png
    return files


def _entry_text() -> str:
    command = exec_command()
    text = resource_path("linux", f"{APP_ID}.desktop").read_text(encoding="utf-8")
    exec_line = " ".join(_quote(arg) for arg in command)
    text = re.sub(r"(?m)^Exec=.*$", lambda _m: f"Exec={exec_line}", text)
    return re.sub(r"(?m)^TryExec=.*$", lambda _m: f"TryExec={command[0]}", text)


def _refresh_icon_cache(data: Path) -> None:
    """Update the user's hicolor icon cache if they have one (a stale cache would hide
    the new icons); none is created: without one, desktops read the folders."""
    hicolor = data / "icons" / "hicolor"
    tool = shutil.which("gtk-update-icon-cache")
    if tool and (hicolor / "icon-theme.cache").exists():
        subprocess.run([tool, "-q", "-t", str(hicolor)], check=False, capture_output=True)


def install(data: Path | None = None) -> list[Path]:
    data = data or _user_data()
    written = []
    for target, source in desktop_entry_files(data).items():
        target.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            target.write_text(_entry_text(), encoding="utf-8")
        else:
            shutil.copyfile(source, target)
        written.append(target)
    _refresh_icon_cache(data)
    return written


def uninstall(data: Path | None = None) -> list[Path]:
    data = data or _user_data()
    removed = []
    for target in desktop_entry_files(data):
        if target.exists():
            target.unlink()
            removed.append(target)
    _refresh_icon_cache(data)
    return removed


def main(*, remove: bool = False) -> int:
    if not sys.platform.startswith("linux"):
        sys.stderr.write(
            "error: install-desktop-entry is for Linux desktops; on Windows and macOS "
            "use the packaged app (see the README)\n"
        )
        return 2
    try:
        paths = uninstall() if remove else install()
    except OSError as exc:
        sys.stderr.write(f"error: could not {'remove' if remove else 'install'} the entry: {exc}\n")
        return 1
    if remove:
        print(f"removed {len(paths)} files" if paths else "nothing to remove")
    else:
        print(f"installed desktop-agent in the application menu ({paths[0]})")
        print(f"  starts: {' '.join(exec_command())}")
        print(f"  icons: {len(paths) - 1} files under {paths[1].parents[2]}")
    for path in paths:
        print(f"  {path}")
    return 0
