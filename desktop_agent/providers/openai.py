"""`OpenAIClient`: any OpenAI-compatible endpoint, on the official `openai` package.

Streams are read through the SDK's raw streaming response (`with_streaming_response`
plus `iter_lines()` and `json.loads`), which keeps the SDK's auth, base URL and
error types while skipping its per-chunk pydantic objects: about 6x faster than
iterating `AsyncOpenAI`'s stream (measured in KNOWLEDGE.md and tests/bench).

Handles the wire shapes of OpenAI, Ollama, vLLM, LM Studio and llama.cpp:
interleaved tool-call deltas, `reasoning_content` / `reasoning`, the usage-only
final chunk, servers that reject `stream_options` and servers that refuse to
stream (asked again without streaming; the answer arrives as one chunk).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import os
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai

from ..engine.model import (
    AuthenticationError,
    BadResponseError,
    ChatChunk,
    Completion,
    ContextLengthError,
    Message,
    ModelConnectionError,
    ModelError,
    ModelRequestError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
    Timeouts,
    VisionUnsupportedError,
    is_context_error,
)
from .env_key import environment_key, environment_key_endpoint
from .openai_wire import completion_chunk, parse_completion, read_sse, wire_messages
from .responses import APIS, NO_RESPONSES, ResponsesAPI, probed, remember

__all__ = ["DEFAULT_MODEL", "OpenAIClient"]

DEFAULT_MODEL = "gpt-4o-mini"
_NO_KEY = "no-key-configured"


class OpenAIClient:
    """A `ChatModel` for any OpenAI-compatible chat-completions endpoint.

    Args:
        api_key: None: `OPENAI_API_KEY`, if `base_url` is the endpoint it was given
            for (OpenAI's API, or `OPENAI_BASE_URL`); "" or no key: no
            `Authorization` header. Local servers need none.
        model: defaults to `DESKTOP_AGENT_MODEL`, else "gpt-4o-mini".
        base_url: defaults to `OPENAI_BASE_URL`, else the OpenAI API.
        timeouts: `connect` applies to every request; the agent enforces the rest.
        temperature: sent when set.
        extra_body: more fields for every chat request (e.g. {"top_p": 0.9}).
    """

    def __init__(
        self,
        api_key: str | None = None,
        model: str | None = None,
        base_url: str | None = None,
        *,
        timeouts: Timeouts | None = None,
        temperature: float | None = None,
        extra_body: dict[str, Any] | None = None,
        default_headers: dict[str, str] | None = None,
        api: str = "chat",
        previous_response_id: bool = False,
    ) -> None:
        url = base_url or environment_key_endpoint()
        # The environment's key only for the endpoint it was given for (`env_key`).
        key = api_key if api_key is not None else environment_key(url)
        self._has_key = bool(key)
        self._key = key or ""
        #: Per request: with no key, no `Authorization` header at all. (The SDK needs
        #: some key, or it reads OPENAI_API_KEY itself; the explicit Omit wins.)
        self._auth_headers: dict[str, Any] = {} if key else {"Authorization": openai.Omit()}
        self.model = model or os.environ.get("DESKTOP_AGENT_MODEL") or DEFAULT_MODEL
        self.timeouts = timeouts or Timeouts()
        self.temperature = temperature
        self.extra_body = dict(extra_body or {})
        self._client = openai.AsyncOpenAI(
            api_key=key or _NO_KEY,
            base_url=url,
            max_retries=0,  # the agent retries, and only before text was shown
            timeout=self._http_timeout(self.timeouts),
            default_headers=default_headers,
        )
        self.base_url = str(self._client.base_url).rstrip("/")
        if api not in APIS:
            raise ValueError(f"api must be one of {', '.join(APIS)}, not {api!r}")
        #: Which wire: "chat" (Chat Completions), "responses" or "auto" (`responses.py`).
        self.api = api
        self.responses = ResponsesAPI(self, previous_response_id=previous_response_id)
        #: The model's context length and prices ($ per million tokens in, out), when
        #: known (set, or learned from the endpoint by `learn_context`).
        self.context_window: int | None = None
        self.prices: tuple[float, float] | None = None
        #: The endpoint counts tokens for us (llama.cpp's server: `/tokenize`).
        self.server_tokenizer = False
        self._learned = False
        #: Learned per endpoint: does it accept stream_options / streaming at all?
        self.supports_stream_options = True
        self.supports_streaming = True

    @property
    def host(self) -> str:
        """Where requests go ("api.openai.com", "127.0.0.1:11434")."""
        return urlsplit(self.base_url).netloc or self.base_url

    def __repr__(self) -> str:
        return f"OpenAIClient(model={self.model!r}, base_url={self.base_url!r})"

    async def aclose(self) -> None:
        await self._client.close()

    @staticmethod
    def _http_timeout(t: Timeouts) -> httpx2.Timeout:
        # Read limits are the agent's (first token / idle); only connecting is ours.
        return httpx2.Timeout(connect=t.connect, read=None, write=t.connect, pool=t.connect)

    async def learn_context(self) -> None:
        """Ask the endpoint for the model's context length and prices (once)."""
        if self._learned:
            return
        self._learned = True
        from .context_window import model_facts

        facts = await model_facts(self.base_url, self.model, api_key=self._key)
        self.server_tokenizer = facts.source == "llama.cpp /props"
        if self.context_window is None:
            self.context_window = facts.window
        if self.prices is None and facts.prompt_price is not None:
            self.prices = (facts.prompt_price, facts.completion_price or 0.0)

    def text_counter(self) -> Any:
        """A tokenizer's count for this model (tiktoken, for OpenAI's models, when its
        encoding is available offline), else None."""
        from .tokens import openai_counter

        return openai_counter(self.model)

    async def embed(self, texts: Sequence[str], model: str) -> list[list[float]]:
        """The endpoint's `/v1/embeddings` of `texts` with `model`, in order; raises
        `ModelRequestError` (no such endpoint or model) or `ModelConnectionError`."""
        try:
            answer = await self._client.embeddings.create(
                model=model, input=list(texts), extra_headers=self._auth_headers
            )
        except openai.APIError as exc:
            raise self._error(exc) from None
        return [list(d.embedding) for d in sorted(answer.data, key=lambda d: d.index)]

    async def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts by the server's tokenizer (llama.cpp's); raises `ModelRequestError`
        where the endpoint has none."""
        if not self.server_tokenizer:
            raise ModelRequestError(f"{self.host} does not count tokens")
        return [await self.server_count_tokens(text) for text in texts]

    async def server_count_tokens(self, text: str) -> int:
        """`text`'s tokens by the server's tokenizer: llama-cpp-python's
        `/extras/tokenize/count`, else llama.cpp's `/tokenize`."""
        from .context_window import server_token_count

        return await server_token_count(self.base_url, self.model, text, api_key=self._key)

    # -- requests -----------------------------------------------------------------

    def _body(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]] | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": wire_messages(messages)}
        if tools:
            body["tools"] = list(tools)
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body

    async def stream_completion(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        timeouts: Timeouts | None = None,
        extra_body: dict[str, Any] | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """Stream an answer as `ChatChunk`s; raises `ModelError` subclasses.
        `extra_body`: more fields for this request only (over the client's own)."""
        extra = {**self.extra_body, **extra_body} if extra_body else self.extra_body
        timeout = self._http_timeout(timeouts or self.timeouts)
        if self.api == "responses" or (self.api == "auto" and probed(self.base_url) != "chat"):
            try:
                async with contextlib.aclosing(
                    self.responses.stream(messages, tools, timeout)
                ) as answer:
                    async for chunk in answer:
                        yield chunk
                remember(self.base_url, "responses")
                return
            except openai.APIStatusError as exc:
                if not (self.api == "auto" and exc.status_code in NO_RESPONSES):
                    raise self._error(exc) from None
                remember(self.base_url, "chat")  # no /responses here: chat from now on
            except (openai.APIError, httpx2.HTTPError) as exc:
                raise self._error(exc) from None
        body = self._body(messages, tools)
        for _attempt in range(3):
            if not self.supports_streaming:
                completion = await self._complete(body, timeout)
                yield completion_chunk(completion)
                return
            options: Any = {"include_usage": True} if self.supports_stream_options else None
            try:
                async with self._client.chat.completions.with_streaming_response.create(
                    **body,
                    stream=True,
                    stream_options=options if options else openai.omit,
                    extra_body=extra or None,
                    extra_headers=self._auth_headers or None,
                    timeout=timeout,
                ) as response:
                    ctype = response.headers.get("content-type", "")
                    if "json" in ctype and "event-stream" not in ctype:
                        # A server that ignored stream=true: one whole answer.
                        yield completion_chunk(parse_completion(await self._json(response)))
                        return
                    # Close every generator here, on the loop, not at garbage collection.
                    async with (
                        contextlib.aclosing(response.iter_lines()) as lines,
                        contextlib.aclosing(read_sse(lines)) as chunks,
                    ):
                        async for chunk in chunks:
                            yield chunk
                    return
            except openai.APIStatusError as exc:
                if exc.status_code in (400, 422) and self._adapt_to(exc):
                    continue
                raise self._error(exc) from None
            except (openai.APIError, httpx2.HTTPError) as exc:
                raise self._error(exc) from None
        raise ModelRequestError(f"{self.host} rejected every form of the request")

    def _adapt_to(self, exc: openai.APIStatusError) -> bool:
        """Learn from a 400 that names stream_options or streaming; True to ask again."""
        detail = _detail(exc).lower()
        if "stream_options" in detail or "include_usage" in detail:
            if self.supports_stream_options:
                self.supports_stream_options = False
                return True
            return False
        if "stream" in detail and self.supports_streaming:
            self.supports_streaming = False
            return True
        return False

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]] | None = None
    ) -> Completion:
        """A whole answer without streaming."""
        return await self._complete(self._body(messages, tools), self._http_timeout(self.timeouts))

    async def _complete(self, body: dict[str, Any], http_timeout: httpx2.Timeout) -> Completion:
        try:
            async with self._client.chat.completions.with_streaming_response.create(
                **body,
                extra_body=self.extra_body or None,
                extra_headers=self._auth_headers or None,
                timeout=http_timeout,
            ) as response:
                return parse_completion(await self._json(response))
        except (openai.APIError, httpx2.HTTPError) as exc:
            raise self._error(exc) from None

    @staticmethod
    async def _json(response: Any) -> Any:
        text = await response.text()
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise BadResponseError(f"The server's answer is not JSON: {text[:120]!r}") from None

    async def list_models(self) -> list[str]:
        """The ids the endpoint's `/models` lists, sorted."""
        try:
            page = await self._client.models.list(
                extra_headers=self._auth_headers or None,
                timeout=self._http_timeout(self.timeouts),
            )
        except (openai.APIError, httpx2.HTTPError) as exc:
            raise self._error(exc) from None
        return sorted(m.id for m in page.data)

    # -- errors -------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        if self._key and len(self._key) >= 6:
            text = text.replace(self._key, "[redacted]")
        return text

    def _error(self, exc: BaseException) -> ModelError:
        where = self.host
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            detail = self._redact(_detail(exc))
            if status not in (401, 403, 429) and (
                is_context_error(detail) or is_context_error(str(exc.body))
            ):
                return ContextLengthError(
                    f"The conversation is longer than {self.model!r} can take at {where} "
                    f"({status}): {detail}",
                    status_code=status,
                )
            if status in (401, 403):
                if not self._has_key:
                    msg = (
                        f"{where} needs an API key ({status}): set OPENAI_API_KEY or add "
                        "a key in Settings."
                    )
                else:
                    msg = f"{where} rejected the API key ({status}): {detail}"
                return AuthenticationError(msg, status_code=status)
            if status == 429:
                after = _retry_after(exc.response.headers)
                hint = f"; retry after {after:g} s" if after is not None else ""
                return RateLimitError(
                    f"Rate limited by {where} (429){hint}: {detail}",
                    status_code=status,
                    retry_after=after,
                )
            if status >= 500:
                return ServerError(
                    f"{where} had a server error ({status}): {detail}",
                    status_code=status,
                    retry_after=_retry_after(exc.response.headers),
                )
            if status == 404:
                return ModelRequestError(
                    f"Not found at {where} (404): is the model {self.model!r} available there? "
                    f"{detail}",
                    status_code=status,
                )
            if status in (400, 415, 422) and _about_images(detail):
                return VisionUnsupportedError(
                    f"The model {self.model!r} at {where} does not take images ({status}): "
                    f"{detail}",
                    status_code=status,
                )
            return ModelRequestError(
                f"{where} rejected the request ({status}): {detail}", status_code=status
            )
        if isinstance(exc, (openai.APITimeoutError, httpx2.TimeoutException)):
            return ModelTimeoutError(f"Timed out talking to {where}.")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            reason = _reason(cause) if cause else "connection failed"
            return ModelConnectionError(f"Cannot reach {where}: {reason}.")
        if isinstance(exc, httpx2.HTTPError):
            return ModelConnectionError(
                f"The connection to {where} broke during the answer: {_reason(exc)}."
            )
        if isinstance(exc, ModelError):
            return exc
        return BadResponseError(self._redact(f"Unexpected answer from {where}: {exc}"))


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
        if body.get("message"):
            return str(body["message"])
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return exc.message


def _reason(exc: BaseException) -> str:
    if isinstance(exc, httpx2.ConnectError):
        return "could not connect (is the server running, and the address right?)"
    return str(exc) or type(exc).__name__


def _retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return float(raw_ms) / 1000
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_IMAGE_WORDS = ("image", "vision", "multimodal", "multi-modal", "image_url")


def _about_images(detail: str) -> bool:
    """Whether a rejection is about image input ("image input is not supported",
    "this model does not support vision", "Invalid content type. image_url is only
    supported by certain models"...)."""
    lowered = detail.lower()
    return any(word in lowered for word in _IMAGE_WORDS)
