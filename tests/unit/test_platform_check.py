"""The X11 library check that runs before QApplication (no Qt involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_agent.gui.platform_check import (
    debian_package,
    find_xcb_plugin,
    missing_by_ldd,
    missing_libraries,
    missing_message,
    uses_xcb,
    xcb_problem,
)


@pytest.mark.parametrize(
    ("environ", "platform", "xcb"),
    [
        ({"DISPLAY": ":0"}, "linux", True),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"WAYLAND_DISPLAY": "w", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb:nograb"}, "linux", True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "darwin", False),
    ],
)
def test_only_an_x11_start_is_checked(environ: dict[str, str], platform: str, xcb: bool) -> None:
    assert uses_xcb(environ, platform) is xcb


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
        ("libxcb-newthing.so.2", "libxcb-newthing2"),  # Debian's naming rule
        ("libfoo2.so.0.1", "libfoo2-0"),
    ],
)
def test_a_library_maps_to_its_debian_package(soname: str, package: str) -> None:
    assert debian_package(soname) == package


def test_the_message_names_the_libraries_and_the_command(tmp_path: Path) -> None:
    plugin_dir = tmp_path / "platforms"
    plugin_dir.mkdir()
    (plugin_dir / "libqxcb.so").write_bytes(b"")
    environ = {"DISPLAY": ":0", "QT_QPA_PLATFORM_PLUGIN_PATH": str(plugin_dir)}
    assert find_xcb_plugin(environ) == plugin_dir / "libqxcb.so"
    seen: list[Path] = []

    def probe(plugin: Path) -> list[str]:
        seen.append(plugin)
        return ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxkbcommon-x11.so.0"]

    line = xcb_problem(environ, missing=probe)
    assert seen == [plugin_dir / "libqxcb.so"]
    assert line == (
        "error: cannot open a window on X11: Qt's xcb platform plugin needs "
        "libxcb-cursor.so.0, libxcb-icccm.so.4, libxkbcommon-x11.so.0, not installed on this "
        "system. On Debian/Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 "
        "libxkbcommon-x11-0 (or use `desktop-agent chat` in a terminal)"
    )
    assert "\n" not in line
    assert xcb_problem(environ, missing=lambda plugin: []) is None  # all there
    assert xcb_problem({**environ, "QT_QPA_PLATFORM": "offscreen"}, missing=probe) is None
    assert missing_message(["libxcb-shape.so.0"]).endswith(
        "sudo apt install libxcb-shape0 (or use `desktop-agent chat` in a terminal)"
    )


def test_ldd_is_asked_only_when_the_plugin_does_not_load() -> None:
    plugin = Path("/nonexistent/libqxcb.so")

    def never(*args: object) -> list[str]:
        raise AssertionError("not asked when the plugin loads")

    assert missing_libraries(plugin, opens=lambda p: True, ldd=never, load=never) == []
    found = missing_libraries(
        plugin, opens=lambda p: False, ldd=lambda p: ["libxcb-icccm.so.4"], load=never
    )
    assert found == ["libxcb-icccm.so.4"]
    # Without ldd: the libraries the plugin is known to need, tried one by one.
    without_ldd = missing_libraries(
        plugin, opens=lambda p: False, ldd=lambda p: None, load=lambda: ["libxcb-cursor.so.0"]
    )
    assert without_ldd == ["libxcb-cursor.so.0"]


def test_ldd_cannot_tell_about_a_file_that_is_no_library(tmp_path: Path) -> None:
    text = tmp_path / "libqxcb.so"
    text.write_text("not an ELF file")
    assert missing_by_ldd(text) in (None, [])  # never a false alarm


def test_the_packaged_app_checks_its_bundled_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PyInstaller unpacks PySide6's plugins under sys._MEIPASS: that one is loaded.
    bundled = tmp_path / "PySide6" / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    bundled.parent.mkdir(parents=True)
    bundled.write_bytes(b"")
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    assert find_xcb_plugin({"DISPLAY": ":0"}) == bundled
