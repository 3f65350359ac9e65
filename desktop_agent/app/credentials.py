"""API keys: in the OS keyring (`keyring`), or, where there is none, in a file only
the user can read (mode 0600). Never in the settings file, the history, logs,
exports or error messages.

    keys = Credentials(data_dir())
    keys.set("openai", "sk-...")
    keys.get("openai")      # "sk-..."
    keys.where              # "the system keyring (SecretService Keyring)" / "a private file ..."
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from ..private_files import private_dir, write_private

__all__ = ["SERVICE", "Credentials"]

_log = logging.getLogger(__name__)

SERVICE = "desktop-agent"
FILE_NAME = "credentials.json"


def _usable_keyring() -> Any | None:
    """The keyring backend, if a real one exists here (not keyring's "fail" stub)."""
    if os.environ.get("DESKTOP_AGENT_NO_KEYRING"):  # tests, or users who want the file
        return None
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring installation: use the file
        _log.warning("keyring unavailable: %s", exc)
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return backend


class Credentials:
    """Where API keys are kept, per provider id."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / FILE_NAME
        self._backend = _usable_keyring()
        #: Set when the keyring failed at use and the file took over (the reason).
        self.fallback_reason: str | None = None

    @property
    def secure_store(self) -> bool:
        """True when keys go to the OS keyring."""
        return self._backend is not None

    @property
    def where(self) -> str:
        if self._backend is not None:
            name = getattr(self._backend, "name", type(self._backend).__name__)
            return f"the system keyring ({name})"
        return f"a private file readable only by you ({self.file})"

    def get(self, provider_id: str) -> str:
        if self._backend is not None:
            try:
                found = self._backend.get_password(SERVICE, provider_id)
            except Exception as exc:
                self._fall_back(exc)
            else:
                if found:
                    return str(found)
        # (also with a keyring: a key saved while it was failing is in the file)
        return str(self._read().get(provider_id, ""))

    def set(self, provider_id: str, key: str) -> None:
        """Keep `key` for the provider ("" forgets it)."""
        if not key:
            self.delete(provider_id)
            return
        if self._backend is not None:
            try:
                self._backend.set_password(SERVICE, provider_id, key)
            except Exception as exc:
                self._fall_back(exc)
            else:
                data = self._read()
                if data.pop(provider_id, None) is not None:  # an older copy in the file
                    self._write(data)
                return
        data = self._read()
        data[provider_id] = key
        self._write(data)

    def delete(self, provider_id: str) -> None:
        if self._backend is not None:
            try:
                self._backend.delete_password(SERVICE, provider_id)
            except Exception:  # not there: fine
                pass
        data = self._read()
        if provider_id in data:
            del data[provider_id]
            self._write(data)

    def _fall_back(self, exc: Exception) -> None:
        _log.warning("the keyring failed (%s); keys go to %s", type(exc).__name__, self.file)
        self.fallback_reason = f"the system keyring failed ({type(exc).__name__})"
        self._backend = None

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            _log.warning("ignoring unreadable credentials file %s: %s", self.file, exc)
            return {}
        keys = data.get("keys") if isinstance(data, dict) else None
        return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}

    def _write(self, keys: dict[str, str]) -> None:
        # 0600 from a unique temporary file, fsync'd, replaced atomically.
        write_private(private_dir(self.file.parent) / self.file.name, json.dumps({"keys": keys}))
