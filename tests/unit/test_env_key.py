"""Which addresses `OPENAI_API_KEY` is sent to (by origin: scheme, host, port)."""

from __future__ import annotations

import pytest

from desktop_agent.providers.env_key import environment_key


@pytest.mark.parametrize(
    ("base_url", "gets_key"),
    [
        (None, True),
        ("https://api.openai.com/v1", True),
        ("https://API.openai.com:443/v1/", True),
        ("http://api.openai.com/v1", False),  # never in clear text
        ("https://api.openai.com.evil.example/v1", False),
        ("http://127.0.0.1:11434/v1", False),  # Ollama
        ("http://localhost:1234/v1", False),  # LM Studio
        ("not a url", False),
    ],
)
def test_only_openai_without_base_url(
    monkeypatch: pytest.MonkeyPatch, base_url: str | None, gets_key: bool
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert environment_key(base_url) == ("sk-env" if gets_key else "")


def test_only_the_base_url_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    assert environment_key(None) == "sk-env"
    assert environment_key("http://127.0.0.1:8000/other") == "sk-env"  # same server
    assert environment_key("http://127.0.0.1:8001/v1") == ""
    assert environment_key("https://api.openai.com/v1") == ""


def test_no_key_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert environment_key(None) == ""
