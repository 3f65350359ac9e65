"""Where the app's files are: the data folder (settings, logs, keys without a
keyring, the conversation history), and the resources shipped with the package.

`DESKTOP_AGENT_HOME` overrides the data folder (else platformdirs' user data folder).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..private_files import private_dir, tighten_data_dir

__all__ = ["data_dir", "history_path", "models_dir", "resource_path"]


def resource_path(*parts: str) -> Path:
    """A file of `resources/`: installed as the `desktop_agent/resources` folder,
    or the source checkout's top-level folder when running from it."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "resources"
    root = installed if installed.is_dir() else here.parent / "resources"
    return root.joinpath(*parts)


def data_dir() -> Path:
    """The folder for settings, logs, keys (without a keyring) and the history: only
    the user can enter it (0700) or read its files (0600), see `private_files`."""
    home = os.environ.get("DESKTOP_AGENT_HOME")
    if home:
        path = Path(home).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("desktop-agent", appauthor=False))
    if path not in _tightened:  # once per folder and process: 0700, files 0600
        tighten_data_dir(path)
        _tightened.add(path)
    else:
        private_dir(path)
    return path


_tightened: set[Path] = set()


def history_path() -> Path:
    """The conversation store (SQLite) in the data folder."""
    return data_dir() / "history.db"


def models_dir() -> Path:
    """Downloaded and imported GGUF models (see `providers.models`)."""
    return data_dir() / "models"
