"""`OpenAIClient`'s second wire: the Responses API (`POST {base}/responses`).

Requests go through the official SDK (`client.responses.with_streaming_response
.create(..., stream=True)`: its auth, base URL and error types) and the stream is
read line by line (`responses_wire`), as the chat-completions wire is.

Stateless by default: every request carries the whole conversation. With
`previous_response_id=True` (servers that store responses), a request whose history
begins with one already answered sends only what came after that answer, plus the
answer's `previous_response_id`.

`API` says which wire a provider speaks: "chat", "responses" or "auto" (try
Responses once per endpoint; an endpoint that has no `/responses` - 404, 405, 501 -
is remembered as chat-only for the rest of the process).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import OrderedDict
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..engine.model import ChatChunk, Message
from .responses_wire import ResponseStream, input_items, read_response_events, response_tools

if TYPE_CHECKING:
    from .openai import OpenAIClient

__all__ = ["API", "APIS", "NO_RESPONSES", "ResponsesAPI", "probed"]

API = Literal["chat", "responses", "auto"]
APIS: tuple[str, ...] = ("chat", "responses", "auto")
#: Status codes that mean "this endpoint has no Responses API".
NO_RESPONSES = frozenset({404, 405, 501})
#: What "auto" learned, per base URL: "chat" or "responses".
_PROBED: dict[str, str] = {}
_MAX_KEPT = 64


def probed(base_url: str) -> str | None:
    return _PROBED.get(base_url)


def remember(base_url: str, api: str) -> None:
    _PROBED[base_url] = api


def _prefix_keys(messages: Sequence[Message]) -> list[str]:
    """keys[k]: a digest of messages[:k+1]."""
    digest = hashlib.sha256()
    keys = []
    for m in messages:
        digest.update(json.dumps(m, sort_keys=True, default=str).encode())
        keys.append(digest.copy().hexdigest())
    return keys


class ResponsesAPI:
    """Streams answers from `{base}/responses` for an `OpenAIClient`."""

    def __init__(self, owner: OpenAIClient, *, previous_response_id: bool = False) -> None:
        self.owner = owner
        self.previous_response_id = previous_response_id
        #: digest of a request's messages -> the id of the response that answered it
        self._answered: OrderedDict[str, str] = OrderedDict()

    def body(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]] | None
    ) -> tuple[dict[str, Any], str | None]:
        """The request body, and the digest to remember its response under."""
        owner = self.owner
        send = list(messages)
        previous: str | None = None
        key: str | None = None
        if self.previous_response_id:
            keys = _prefix_keys(messages)
            key = keys[-1] if keys else None
            for k in range(len(messages) - 2, -1, -1):
                answer = self._answered.get(keys[k])
                if (
                    answer is not None
                    and messages[k + 1].get("role") == "assistant"
                    and k + 2 < len(messages)
                ):
                    previous, send = answer, list(messages[k + 2 :])
                    break
        body: dict[str, Any] = {"model": owner.model, "input": input_items(send)}
        if previous is not None:
            body["previous_response_id"] = previous
        if tools:
            body["tools"] = response_tools(tools)
        if owner.temperature is not None:
            body["temperature"] = owner.temperature
        return body, key

    async def stream(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None,
        http_timeout: Any,
    ) -> AsyncGenerator[ChatChunk, None]:
        """ChatChunks of one streamed response; the SDK's errors pass through."""
        owner = self.owner
        body, key = self.body(messages, tools)
        state = ResponseStream()
        async with (
            owner._client.responses.with_streaming_response.create(
                **body,
                stream=True,
                extra_body=owner.extra_body or None,
                extra_headers=owner._auth_headers or None,
                timeout=http_timeout,
            ) as response,
            contextlib.aclosing(response.iter_lines()) as lines,
            contextlib.aclosing(read_response_events(lines, state)) as chunks,
        ):
            async for chunk in chunks:
                yield chunk
        if key is not None and state.response_id:
            self._answered[key] = state.response_id
            while len(self._answered) > _MAX_KEPT:
                self._answered.popitem(last=False)
