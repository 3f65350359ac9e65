"""Before Qt opens a window on X11: are the libraries of its xcb plugin installed?

Without them (Ubuntu desktops often lack `libxcb-cursor0`; bare Debian lacks
several) Qt aborts with "could not load the Qt platform plugin xcb", which names
nothing. This finds the plugin Qt will load (PySide6's, or the bundled one in the
packaged app, or the folder `QT_QPA_PLATFORM_PLUGIN_PATH` names, as Qt does),
loads it as Qt would (the usual case: it loads, and costs nothing more, since Qt
loads the same libraries right after). Only when that fails, `ldd` names every
library that is "not found" (without `ldd`: the libraries the plugin is known to
need are tried one by one), and one line names them with the `apt install` that
brings them. No Qt import: it runs before QApplication.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = [
    "KNOWN_LIBRARIES",
    "debian_package",
    "find_xcb_plugin",
    "missing_libraries",
    "missing_message",
    "uses_xcb",
    "xcb_problem",
]

PLUGIN = "libqxcb.so"

#: What Qt 6's xcb plugin links against beyond Qt and the C runtime, with the
#: Debian/Ubuntu package of each (the first seven are the ones desktops lack).
KNOWN_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}

# (patterns compiled where used: this module runs before the window's first paint)
_NOT_FOUND = r"^\s*(\S+)\s+=>\s+not found\s*$"
_SONAME = r"^(lib[^/\s]+?)\.so\.([0-9][0-9.]*)$"


def uses_xcb(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    """Whether Qt will pick its xcb (X11) platform plugin."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:  # "xcb", "xcb:option", "wayland;xcb" (the first that loads)
        return chosen.split(";")[0].split(":")[0].strip() == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def _plugin_folders(environ: Mapping[str, str]) -> list[Path]:
    if environ.get("QT_QPA_PLATFORM_PLUGIN_PATH"):  # Qt looks there first, so do we
        return [Path(environ["QT_QPA_PLATFORM_PLUGIN_PATH"])]
    roots: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)  # the packaged app (PyInstaller)
    if bundle:
        roots.append(Path(bundle) / "PySide6")
    spec = importlib.util.find_spec("PySide6")
    if spec is not None and spec.submodule_search_locations:
        roots += [Path(p) for p in spec.submodule_search_locations]
    return [root / sub / "platforms" for root in roots for sub in ("Qt/plugins", "plugins")]


def find_xcb_plugin(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The xcb plugin Qt would load, if there is one."""
    for folder in _plugin_folders(environ):
        if (folder / PLUGIN).is_file():
            return folder / PLUGIN
    return None


def missing_by_ldd(plugin: Path) -> list[str] | None:
    """The libraries `ldd` reports "not found" for the plugin (and what it loads);
    None when there is no `ldd` or it cannot tell."""
    import shutil  # only on the way to an error message
    import subprocess

    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        done = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.findall(_NOT_FOUND, done.stdout, re.MULTILINE)
    if done.returncode != 0 and not found:
        return None
    return list(dict.fromkeys(found))  # in order, once each


def loads(plugin: Path) -> bool:
    """Whether the dynamic loader can load the plugin and everything it needs."""
    try:
        import ctypes

        ctypes.CDLL(str(plugin))
    except OSError:
        return False
    return True


def missing_by_loading(names: Sequence[str] = tuple(KNOWN_LIBRARIES)) -> list[str]:
    """Those of `names` the dynamic loader cannot load (Qt would load them anyway)."""
    missing = []
    for name in names:
        try:
            import ctypes

            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def missing_libraries(
    plugin: Path,
    *,
    opens: Callable[[Path], bool] = loads,
    ldd: Callable[[Path], list[str] | None] = missing_by_ldd,
    load: Callable[[], list[str]] = missing_by_loading,
) -> list[str]:
    """The libraries the plugin needs that cannot be loaded ([] when it loads)."""
    if opens(plugin):
        return []
    found = ldd(plugin)
    return load() if found is None else found


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships a library: the known ones from the
    table, others by Debian's naming rule (libfoo.so.1 -> libfoo1, libfoo2.so.0 ->
    libfoo2-0, lower case)."""
    if soname in KNOWN_LIBRARIES:
        return KNOWN_LIBRARIES[soname]
    match = re.match(_SONAME, soname)
    if match is None:
        return soname
    name, version = match.group(1).lower(), match.group(2).split(".")[0]
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def missing_message(missing: Sequence[str]) -> str:
    """One line: what is missing and the command that installs it."""
    packages = " ".join(dict.fromkeys(debian_package(name) for name in missing))
    return (
        f"error: cannot open a window on X11: Qt's xcb platform plugin needs "
        f"{', '.join(missing)}, not installed on this system. "
        f"On Debian/Ubuntu: sudo apt install {packages} "
        "(or use `desktop-agent chat` in a terminal)"
    )


def xcb_problem(
    environ: Mapping[str, str] = os.environ,
    *,
    missing: Callable[[Path], list[str]] = missing_libraries,
) -> str | None:
    """The line to print when Qt would fail to load its xcb plugin; None when the
    window can open (or the platform is not xcb, or the plugin is not found: then
    Qt has its own say)."""
    if not uses_xcb(environ):
        return None
    plugin = find_xcb_plugin(environ)
    if plugin is None:
        return None
    names = missing(plugin)
    return missing_message(names) if names else None
