"""`OPENAI_API_KEY` goes only to the endpoint it was given for: OpenAI's API, or
`OPENAI_BASE_URL` when that is set. A saved provider elsewhere (Ollama, LM Studio,
a discovered server) with no key of its own gets no key at all: no `Authorization`
header, in chat requests and in Test connection's model listing alike.

Real openai client against the scripted server on 127.0.0.1; the server records
every request's headers."""

from __future__ import annotations

import pytest

from desktop_agent.app.credentials import Credentials
from desktop_agent.app.providers import ConnectionConfig, model_from_config, with_stored_key
from desktop_agent.engine import Agent, EventType, StreamEngine
from tests.support.scripted_server import Recorded, Reply, ScriptedServer

SECRET = "sk-secret-from-the-environment"


def _headers_text(requests: list[Recorded]) -> str:
    return "\n".join(f"{k}: {v}" for r in requests for k, v in r.headers.items())


async def _chat(model: object) -> str:
    agent = Agent(model=model)  # type: ignore[arg-type]
    text = ""
    async for event in StreamEngine().stream(agent, "hello"):
        if event.type is EventType.MESSAGE_CHUNK:
            text += event.chunk
        if event.type is EventType.ERROR:
            raise AssertionError(event.error)
    return text


async def test_environment_key_is_not_sent_to_another_provider(
    server: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    saved = {
        "providers": [
            {"id": "ollama", "kind": "openai", "name": "Ollama", "base_url": server.base_url}
        ],
        "default_provider": "ollama",
    }
    config = ConnectionConfig.resolve(saved=saved)
    assert config.kind == "openai" and config.base_url == server.base_url
    assert config.api_key == ""  # the environment's key is not this provider's
    keys = Credentials(tmp_path_factory.mktemp("keys"))
    model = model_from_config(with_stored_key(config, keys))
    server.add(Reply(text="hi there"))
    try:
        assert await _chat(model) == "hi there"
        # Test connection (Settings) and the model lists: a client with no key given.
        from desktop_agent.providers.openai import OpenAIClient

        probe = OpenAIClient(api_key=None, model=config.model, base_url=config.base_url)
        assert await probe.list_models() == ["scripted-large", "scripted-small"]
        await probe.aclose()
    finally:
        await model.aclose()
    # /models: the probe's, and the chat's look-up of the model's context length
    assert len(server.requests) == 1 and len(server.model_requests) == 2
    sent = _headers_text(server.requests + server.model_requests)
    assert SECRET not in sent
    assert "authorization" not in sent.lower()  # no placeholder "Bearer ..." either


async def test_environment_key_goes_to_its_own_endpoint(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    config = ConnectionConfig.resolve(saved={})
    assert (config.kind, config.base_url, config.api_key) == ("openai", server.base_url, SECRET)
    model = model_from_config(config)
    server.add(Reply(text="ok"))
    server.require_key = SECRET
    try:
        assert await _chat(model) == "ok"
        from desktop_agent.providers.openai import OpenAIClient

        probe = OpenAIClient(api_key=None, base_url=server.base_url.rstrip("/") + "/")
        assert await probe.list_models()
        await probe.aclose()
    finally:
        await model.aclose()
    for request in server.requests + server.model_requests:
        assert request.headers.get("Authorization") == f"Bearer {SECRET}"
