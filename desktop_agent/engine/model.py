"""What the agent needs from a language model, and the errors a model may raise.

The engine defines the `ChatModel` protocol; `providers/` implement it (the OpenAI
compatible HTTP client, the embedded local engine) and so does
`desktop_agent.testing.ScriptedModel`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "CONTEXT_PHRASES",
    "AuthenticationError",
    "BadResponseError",
    "ChatChunk",
    "ChatModel",
    "Completion",
    "ContentPart",
    "ContextLengthError",
    "Message",
    "ModelConnectionError",
    "ModelError",
    "ModelRequestError",
    "ModelTimeoutError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "Timeouts",
    "ToolCallDelta",
    "Usage",
    "VisionUnsupportedError",
    "close_model",
    "has_images",
    "is_context_error",
    "user_content",
]

#: A chat message in the OpenAI wire shape: {"role": ..., "content": ..., ...}. A user
#: message with attachments has a list of content parts as its content.
Message = dict[str, Any]

#: One part of a message's content, OpenAI shape: {"type": "text", "text": ...} or
#: {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}. The app may
#: add its own "attachment" key (name, sha256...), which is not sent.
ContentPart = dict[str, Any]


def user_content(text: str, parts: Sequence[ContentPart] = ()) -> str | list[ContentPart]:
    """A user message's content: the text alone, or the text then the parts."""
    if not parts:
        return text
    head: list[ContentPart] = [{"type": "text", "text": text}] if text else []
    return [*head, *parts]


def has_images(messages: Sequence[Message]) -> bool:
    """Whether any message carries an image part."""
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    return True
    return False


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of one tool call as the model writes it.

    The first delta of an `index` carries `id` and `name`; later ones add to
    `arguments` (a JSON text split anywhere).
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


_EMPTY: tuple[ToolCallDelta, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One streamed piece of a model's answer."""

    content: str | None = None
    reasoning: str | None = None
    tool_calls: tuple[ToolCallDelta, ...] = _EMPTY
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole (non-streamed) answer."""

    content: str
    reasoning: str | None = None
    tool_calls: tuple[ToolCallDelta, ...] = _EMPTY
    finish_reason: str | None = "stop"
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Every time limit of a run, in seconds, in one place (None: no limit).

    * `connect`: opening the connection to the endpoint (applied by the provider).
    * `first_token`: from sending a request to the first streamed piece.
    * `idle`: between two streamed pieces.
    * `total`: the whole run, all steps and tools included.
    * `tool`: one tool call, unless the tool sets its own.
    """

    connect: float | None = 10.0
    first_token: float | None = 120.0
    idle: float | None = 60.0
    total: float | None = 900.0
    tool: float | None = 120.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of a model request that failed before any text reached subscribers.

    Delays grow as `base_delay * 2**attempt` up to `max_delay`; a server's
    `Retry-After` is honoured when it is not longer than `max_retry_after`.
    """

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None and 0 <= retry_after <= self.max_retry_after:
            return retry_after
        return float(min(self.max_delay, self.base_delay * (2**attempt)))


class ModelError(Exception):
    """A model request failed. `str(error)` is a message fit to show a user.

    `error_type` is the wire name used in `ERROR` events; `retryable` says whether
    asking again may help; `retry_after` is the server's hint in seconds.
    """

    error_type = "model_error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


class ModelConnectionError(ModelError):
    """The endpoint could not be reached, or the connection broke."""

    error_type = "connection"
    retryable = True


class ModelTimeoutError(ModelError):
    """A time limit passed (connect, first token, idle, total)."""

    error_type = "timeout"
    retryable = False


class AuthenticationError(ModelError):
    """401/403: the key is missing, wrong or lacks permission."""

    error_type = "auth"


class RateLimitError(ModelError):
    """429: too many requests (or quota exhausted)."""

    error_type = "rate_limit"
    retryable = True


class ServerError(ModelError):
    """5xx from the endpoint."""

    error_type = "server"
    retryable = True


class ModelRequestError(ModelError):
    """The endpoint rejected the request (400, 404, 422...)."""

    error_type = "bad_request"


class VisionUnsupportedError(ModelRequestError):
    """The model cannot take images (the endpoint said so, or it is known to have no
    vision): the message can be sent again without them."""

    error_type = "vision_unsupported"


class ContextLengthError(ModelRequestError):
    """The request does not fit the model's context (OpenAI's `context_length_exceeded`,
    llama.cpp's "exceeds the available context size", ...)."""

    error_type = "context_length"


#: Phrases endpoints use when a request is longer than the model's context.
CONTEXT_PHRASES = (
    "context_length_exceeded",
    "maximum context length",
    "context length",
    "context window",
    "exceeds the available context size",
    "exceed context window",
    "too many tokens",
    "prompt is too long",
    "input is too long",
    "reduce the length",
    "tokens exceeds",
)


def is_context_error(text: str) -> bool:
    """True when an endpoint's error text says the request is longer than the context."""
    low = text.lower()
    return any(phrase in low for phrase in CONTEXT_PHRASES)


class BadResponseError(ModelError):
    """The endpoint answered with something that is not a valid completion stream."""

    error_type = "bad_response"


async def close_model(model: object) -> None:
    """Release a model's connections or processes (its `aclose()`, when it has one).

    A failure here is logged, not raised: closing happens on the way out.
    """
    aclose = getattr(model, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except Exception:
        logging.getLogger(__name__).exception("closing the model %r failed", model)


@runtime_checkable
class ChatModel(Protocol):
    """A model the agent can talk to.

    `stream_completion` yields `ChatChunk`s and raises `ModelError` subclasses (any
    other exception is reported as an internal error). Cancelling the iterating task
    must release the connection.

    Optional: `remote_result(provider_call_id) -> str | None` for a model that is a
    remote agent running its own tools (AG-UI): a call it already ran is shown with
    that result and not run here.
    """

    #: Shown to users: which model this is ("gpt-4o-mini").
    model: str

    def stream_completion(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        timeouts: Timeouts | None = None,
    ) -> AsyncIterator[ChatChunk]: ...
