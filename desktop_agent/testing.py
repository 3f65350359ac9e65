"""A deterministic `ChatModel` for tests of your own tools and surfaces.

    model = ScriptedModel([
        Turn(tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 3})]),
        "The sum is 5.",
    ])
    agent = Agent(model=model, tools=[add])
    state = await agent.handle_message("What is 2 + 3?")
    assert model.requests[1][-1]["content"] == "5"   # the tool result went back

Each request to the model plays the next `Turn`; a plain string is a turn that
streams that text. `model.requests` records the messages of every request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .engine.model import (
    ChatChunk,
    Message,
    ModelError,
    ModelRequestError,
    Timeouts,
    ToolCallDelta,
    Usage,
)

__all__ = ["ScriptedModel", "ScriptedToolCall", "Turn"]


@dataclass(frozen=True)
class ScriptedToolCall:
    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_text(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


@dataclass(frozen=True)
class Turn:
    """One scripted answer.

    Args:
        text: the answer, streamed `chunk_size` characters at a time.
        chunks: the exact chunks to stream instead of splitting `text`.
        reasoning: reasoning text streamed before the answer.
        tool_calls: calls the model makes after its text.
        delay: seconds to wait before each chunk (to test cancel and timeouts).
        error: raised instead of answering, or after `error_after` chunks.
        finish_reason: defaults to "tool_calls" with calls, else "stop";
            use "" to end the stream with no finish_reason (a cut stream).
    """

    text: str = ""
    chunks: Sequence[str] | None = None
    reasoning: str = ""
    tool_calls: Sequence[ScriptedToolCall] = ()
    chunk_size: int = 4
    delay: float = 0.0
    error: ModelError | None = None
    error_after: int = 0
    finish_reason: str | None = None
    usage: Usage | None = None

    def text_chunks(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        size = max(1, self.chunk_size)
        return [self.text[i : i + size] for i in range(0, len(self.text), size)]


class ScriptedModel:
    """A `ChatModel` that plays a script of turns, one per request."""

    def __init__(
        self, turns: Iterable[Turn | str] = (), *, model: str = "scripted", loop: bool = False
    ) -> None:
        self.model = model
        self.turns: list[Turn] = [Turn(text=t) if isinstance(t, str) else t for t in turns]
        self.loop = loop
        self.requests: list[list[Message]] = []
        self.tools_seen: list[list[dict[str, Any]] | None] = []
        self._next = 0

    def add(self, *turns: Turn | str) -> None:
        self.turns.extend(Turn(text=t) if isinstance(t, str) else t for t in turns)

    def _take(self) -> Turn:
        if self._next >= len(self.turns):
            if not self.loop or not self.turns:
                raise ModelRequestError("ScriptedModel: the script has no more turns")
            self._next = 0
        turn = self.turns[self._next]
        self._next += 1
        return turn

    async def stream_completion(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        timeouts: Timeouts | None = None,
    ) -> AsyncIterator[ChatChunk]:
        self.requests.append([dict(m) for m in messages])
        self.tools_seen.append(list(tools) if tools is not None else None)
        turn = self._take()
        if turn.error is not None and turn.error_after <= 0:
            raise turn.error
        pieces: list[ChatChunk] = []
        size = max(1, turn.chunk_size)
        for i in range(0, len(turn.reasoning), size):
            pieces.append(ChatChunk(reasoning=turn.reasoning[i : i + size]))
        pieces.extend(ChatChunk(content=c) for c in turn.text_chunks())
        for index, call in enumerate(turn.tool_calls):
            args = call.arguments_text()
            call_id = call.id or f"call_{index}_{len(self.requests)}"
            pieces.append(ChatChunk(tool_calls=(ToolCallDelta(index, call_id, call.name, ""),)))
            for i in range(0, len(args), size):
                pieces.append(
                    ChatChunk(tool_calls=(ToolCallDelta(index, arguments=args[i : i + size]),))
                )
        for sent, piece in enumerate(pieces):
            if turn.error is not None and sent >= turn.error_after:
                raise turn.error
            # Even with no delay, give the loop a turn per piece, as a network
            # stream does: other tasks (and cancellation) get their chance.
            await asyncio.sleep(turn.delay)
            yield piece
        if turn.error is not None:
            raise turn.error
        finish = turn.finish_reason
        if finish is None:
            finish = "tool_calls" if turn.tool_calls else "stop"
        if finish:
            yield ChatChunk(finish_reason=finish, usage=turn.usage)
