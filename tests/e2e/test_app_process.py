"""The real app as a subprocess: it starts, streams, and exits cleanly mid-stream."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.scripted_server import Reply
from tests.support.threaded_server import threaded_server

pytestmark = pytest.mark.slow


def app_env(home: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        DESKTOP_AGENT_HOME=str(home),
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY="sk-e2e-secret-key",
        PYTHONFAULTHANDLER="1",
    )
    return env


def wait(predicate, what: str, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_closing_mid_stream_exits_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    with threaded_server() as server:
        server.add(Reply(text="word " * 400, chunk_size=5, delay=0.02))
        proc = subprocess.Popen(
            [sys.executable, "-m", "desktop_agent", "--model", "m", "--prompt", "talk"],
            env=app_env(tmp_path, server.base_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait(lambda: server.requests or proc.poll() is not None, "the app's request")
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.5)  # let some of the answer stream in
            proc.send_signal(sig)
            _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
        assert "Error" not in err, err
        wait(lambda: bool(server.disconnects), "the server to see the stream closed", 5)
    assert server.requests[0].body["messages"][-1] == {"role": "user", "content": "talk"}
    log = (tmp_path / "logs" / "desktop-agent.log").read_text()
    assert " ERROR " not in log, log
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "sk-e2e-secret-key" not in path.read_text(errors="replace"), path


def test_version() -> None:
    cmd = [sys.executable, "-m", "desktop_agent", "--version"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.strip().startswith("desktop-agent 0.")


def test_no_display_is_a_clear_error(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["DESKTOP_AGENT_HOME"] = str(tmp_path)
    cmd = [sys.executable, "-m", "desktop_agent"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no display to open the window on")


def fake_xcb_plugin(folder: Path, needs: str) -> Path:
    """A shared library named like Qt's xcb plugin that needs `needs`, a library
    that is not installed (built against a stub that is then removed)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a stand-in plugin")
    stub_dir = folder / "stub"
    stub_dir.mkdir(parents=True)
    source = folder / "empty.c"
    source.write_text("int desktop_agent_fake(void) { return 0; }\n")
    name = needs.split(".so")[0].removeprefix("lib")
    stub = stub_dir / f"lib{name}.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", f"-Wl,-soname,{needs}", "-o", str(stub), str(source)],
        check=True,
    )
    platforms = folder / "platforms"
    platforms.mkdir()
    plugin = platforms / "libqxcb.so"
    subprocess.run(
        [
            compiler,
            "-shared",
            "-fPIC",
            "-Wl,--no-as-needed",
            "-o",
            str(plugin),
            str(source),
            f"-L{stub_dir}",
            f"-l{name}",
        ],
        check=True,
    )
    shutil.rmtree(stub_dir)
    return platforms


def test_missing_x11_libraries_are_named_with_the_install_command(tmp_path: Path) -> None:
    # Qt loads its platform plugin from QT_QPA_PLATFORM_PLUGIN_PATH; here the "xcb
    # plugin" needs a library that is not installed, as Qt's own needs libxcb-cursor0
    # on a desktop without it. No X server: the check must come before Qt uses :99.
    platforms = fake_xcb_plugin(tmp_path / "qt", "libxcb-desktop-agent-test.so.0")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "WAYLAND_"))}
    env.update(
        DISPLAY=":99",
        QT_QPA_PLATFORM_PLUGIN_PATH=str(platforms),
        DESKTOP_AGENT_HOME=str(tmp_path / "home"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "desktop_agent"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "error: cannot open a window on X11: Qt's xcb platform plugin needs "
        "libxcb-desktop-agent-test.so.0, not installed on this system. On Debian/Ubuntu: "
        "sudo apt install libxcb-desktop-agent-test0 (or use `desktop-agent chat` in a terminal)"
    ]
