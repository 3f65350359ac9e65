"""What the sub-commands share: the one-line error and opening the history."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..printable import printable

if TYPE_CHECKING:
    from ..storage import Store

__all__ = ["fail", "open_store"]


def fail(message: str) -> int:
    """`error: MESSAGE` on stderr (no control codes); the exit status 1."""
    sys.stderr.write(f"error: {printable(message)}\n")
    return 1


def open_store() -> Store | None:
    """The history, for one command (the caller closes it); None, after the error
    line, when it cannot be opened."""
    from ..app.paths import history_path
    from ..storage import Store, StoreError

    try:
        return Store(history_path(), session=False)
    except StoreError as exc:
        fail(str(exc))
        return None
