"""API keys: the OS keyring when there is one, else a 0600 file; never the settings."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from desktop_agent.app.credentials import SERVICE, Credentials
from desktop_agent.app.providers import ConnectionConfig, Providers, with_stored_key
from desktop_agent.app.settings import save_settings


class MemoryKeyring(KeyringBackend):
    """A keyring backend (keyring's own plugin interface) that keeps keys in a dict:
    what a desktop's Secret Service / Keychain / Credential Locker does for real."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.saved.pop((service, username), None)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv("DESKTOP_AGENT_NO_KEYRING", raising=False)
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_without_a_keyring_keys_go_to_a_file_only_the_user_can_read(tmp_path: Path) -> None:
    keys = Credentials(tmp_path)
    assert not keys.secure_store
    assert "private file" in keys.where
    keys.set("openai", "sk-one")
    keys.set("router", "sk-two")
    assert stat.S_IMODE((tmp_path / "credentials.json").stat().st_mode) == 0o600
    again = Credentials(tmp_path)
    assert (again.get("openai"), again.get("router"), again.get("none")) == ("sk-one", "sk-two", "")
    again.set("openai", "")  # forgetting a key
    assert Credentials(tmp_path).get("openai") == ""
    assert json.loads((tmp_path / "credentials.json").read_text()) == {"keys": {"router": "sk-two"}}


def test_the_file_is_made_private_even_if_it_existed_readable(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text('{"keys": {}}')
    path.chmod(0o644)
    Credentials(tmp_path).set("p", "sk-x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_with_a_keyring_keys_go_there_and_nowhere_else(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    keys = Credentials(tmp_path)
    assert keys.secure_store and "system keyring" in keys.where
    keys.set("openai", "sk-in-keyring")
    assert memory_keyring.saved == {(SERVICE, "openai"): "sk-in-keyring"}
    assert not (tmp_path / "credentials.json").exists()
    assert Credentials(tmp_path).get("openai") == "sk-in-keyring"
    keys.delete("openai")
    assert memory_keyring.saved == {}


def test_a_keyring_that_fails_falls_back_to_the_file_and_says_why(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*_args: object) -> None:
        raise keyring.errors.KeyringLocked("the keyring is locked")

    monkeypatch.setattr(memory_keyring, "set_password", locked)
    keys = Credentials(tmp_path)
    keys.set("openai", "sk-fallback")
    assert not keys.secure_store
    assert "KeyringLocked" in (keys.fallback_reason or "")
    assert Credentials(tmp_path).get("openai") == "sk-fallback"  # (the file, 0600)


def test_stored_keys_reach_the_connection_but_never_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path))
    keys = Credentials(tmp_path)
    keys.set("p-1", "sk-stored")
    config = ConnectionConfig(kind="openai", id="p-1")
    assert with_stored_key(config, keys).api_key == "sk-stored"
    assert (
        with_stored_key(ConnectionConfig(kind="openai", id="p-1", api_key="sk-env"), keys).api_key
        == "sk-env"
    )
    providers = Providers([ConnectionConfig(kind="openai", id="p-1", api_key="sk-stored")], "p-1")
    save_settings({**providers.to_settings(), "api_key": "sk-stored", "nested": [{"key": "x"}]})
    text = (tmp_path / "settings.json").read_text()
    assert "sk-stored" not in text and '"key"' not in text


def test_providers_read_both_settings_shapes() -> None:
    legacy = Providers.from_settings({"kind": "local", "n_ctx": 4096})
    assert [(c.id, c.kind, c.n_ctx) for c in legacy.items] == [("default", "local", 4096)]
    two = Providers.from_settings(
        {
            "providers": [
                {"id": "a", "kind": "openai", "name": "OpenAI"},
                {"id": "b", "kind": "bogus"},
                {"id": "a", "kind": "local"},  # a duplicate id is ignored
            ],
            "default_provider": "b",
        }
    )
    assert [(c.id, c.kind) for c in two.items] == [("a", "openai"), ("b", "auto")]
    assert two.default.id == "b"
    assert Providers.from_settings(two.to_settings()) == two
    assert Providers.from_settings({}).default == ConnectionConfig()
    resolved = ConnectionConfig.resolve(saved=two.to_settings())
    assert resolved.id == "b"
