"""The double-click app: build it with the project's PyInstaller spec, then run the
frozen executable (`--version`, `--self-test`, a windowed start with no stdout, the
bundled engine and model) and install its desktop entry."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from desktop_agent import __version__
from tests.e2e.test_desktop_entry import check_installed, validate
from tests.support.package import build_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The local extra is installed for the test suite: the engine and model go in.
    return build_app(tmp_path_factory.mktemp("package"), bundle_local=True)


def frozen_env(home: Path, **extra: str) -> dict[str, str]:
    # (no SSL_CERT_*: as on a machine that does not point OpenSSL anywhere itself)
    skip = ("OPENAI_", "DESKTOP_AGENT_", "SSL_CERT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(QT_QPA_PLATFORM="offscreen", DESKTOP_AGENT_HOME=str(home), **extra)
    return env


def run(cmd: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, **kw)  # type: ignore[call-overload, no-any-return]


def _no_std_streams() -> None:
    # As when double-clicked on Windows/macOS: fds 1 and 2 are not open, so Python
    # starts with sys.stdout and sys.stderr set to None.
    os.close(1)
    os.close(2)


@pytest.mark.timeout(900)
def test_version(frozen: Path, tmp_path: Path) -> None:
    result = run([str(frozen), "--version"], frozen_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"desktop-agent {__version__}"


def test_self_test_passes(frozen: Path, tmp_path: Path) -> None:
    result = run([str(frozen), "--self-test"], frozen_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "self-test: ok", result.stdout
    assert any("window streamed a conversation with a tool call" in line for line in lines)
    # HTTPS: the bundled certifi file is what OpenSSL trusts in the frozen app.
    [tls] = [line for line in lines if "TLS trusts" in line]
    assert f"(from {frozen.parent}/" in tls and tls.endswith("cacert.pem)"), tls
    assert not list(tmp_path.iterdir()), "the self-test wrote into the data folder"


def test_self_test_fails_with_a_reason(frozen: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-certificates.pem"
    empty.write_text("")
    home = tmp_path / "home"
    result = run([str(frozen), "--self-test"], frozen_env(home, SSL_CERT_FILE=str(empty)))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "self-test: FAILED: no TLS certificate authorities are trusted" in result.stderr


@pytest.mark.parametrize("args", [["--version"], ["--self-test"]], ids=["version", "self-test"])
def test_runs_without_stdout_like_a_double_click(
    frozen: Path, tmp_path: Path, args: list[str]
) -> None:
    proc = subprocess.run(
        [str(frozen), *args],
        env=frozen_env(tmp_path),
        stdin=subprocess.DEVNULL,
        preexec_fn=_no_std_streams,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0


def test_window_starts(frozen: Path, tmp_path: Path) -> None:
    # The real start-up path to a painted window (the start-up benchmark's probe).
    result = run([str(frozen)], frozen_env(tmp_path, DESKTOP_AGENT_EXIT_AFTER_SHOW="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "shown"


def engine_children_of(executable: Path) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd[:2] == [str(executable).encode(), b"--engine-child"]:
            found.append(entry.name)
    return found


def test_bundled_engine_and_model_answer(frozen: Path, tmp_path: Path) -> None:
    result = run(
        [str(frozen), "chat", "--local", "Say hello in three words."], frozen_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), result.stderr
    assert "SmolLM2-135M-Instruct" in result.stderr  # the model found inside the bundle
    assert engine_children_of(frozen) == []


def test_frozen_desktop_entry_starts_the_executable(frozen: Path, tmp_path: Path) -> None:
    env = frozen_env(tmp_path / "home", XDG_DATA_HOME=str(tmp_path / "share"))
    result = run([str(frozen), "install-desktop-entry"], env)
    assert result.returncode == 0, result.stderr
    entry = check_installed(tmp_path / "share")
    validate(entry)
    assert f"Exec={frozen}\n" in entry.read_text()
