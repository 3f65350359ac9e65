"""The entry point of the PyInstaller-built app (`resources/pyinstaller/`).

A frozen app differs from `pip install` in three ways handled here, before
anything else is imported: a windowed build has no `sys.stdout`/`sys.stderr`
(None: every unguarded print would raise), OpenSSL does not know where the
bundled certificates are, and there is no `python -m` for the embedded engine's
child process, so the executable runs it when given `--engine-child`.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main", "prepare"]


def prepare() -> None:
    """Make the frozen process look like an installed one to the rest of the app."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:  # windowed build, started by double-click
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    if "SSL_CERT_FILE" not in os.environ:
        try:
            import certifi
        except ImportError:
            return
        os.environ["SSL_CERT_FILE"] = certifi.where()


def main() -> int:
    prepare()
    from ..providers.engine_child import FROZEN_FLAG

    if sys.argv[1:2] == [FROZEN_FLAG]:
        from ..providers import engine_child

        del sys.argv[1]
        engine_child.main()
        return 0
    from ..cli import main as cli_main

    return cli_main()
