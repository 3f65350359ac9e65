"""The context budget: count what a request will send and fit it into the model's window.

Stdlib only. `TokenCounter` counts messages (a tokenizer's count when one is given, else
a calibrated estimate that errs high) and caches each message's count, so fitting a long
conversation before every request costs a dictionary look-up per message. `fit()` keeps
the system prompt, pinned messages and the current turn (the latest user message and
everything after it), then the newest older turns that fit; older ones are left out
oldest-first, never splitting an assistant's tool calls from their results. Only what is
sent changes: the history keeps everything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .model import Message

__all__ = [
    "DROP_OLDEST",
    "OFF",
    "STRATEGIES",
    "SUMMARISE",
    "ContextPolicy",
    "Fit",
    "TokenCounter",
    "estimate_tokens",
    "fit",
]

SUMMARISE = "summarise"
DROP_OLDEST = "drop_oldest"
OFF = "off"
STRATEGIES = (SUMMARISE, DROP_OLDEST, OFF)

#: Tokens a chat template adds around each message (role markers, separators).
MESSAGE_OVERHEAD = 6


def estimate_tokens(text: str) -> int:
    """A token count that errs high: ~3 ASCII characters a token (BPE tokenizers average
    about 4 on English), and 1.5 tokens for every other character (CJK, emoji)."""
    if not text:
        return 0
    if text.isascii():
        return math.ceil(len(text) / 3)
    other = sum(1 for ch in text if ord(ch) > 127)
    return math.ceil((len(text) - other) / 3 + other * 1.5)


@dataclass(frozen=True, slots=True)
class ContextPolicy:
    """How a conversation is fitted into the model's context.

    * `window`: the model's context length in tokens (None: unknown, nothing is fitted).
    * `reserve`: tokens kept free for the answer.
    * `strategy`: "summarise" (older turns replaced by a summary the model writes),
      "drop_oldest" (left out, with a marker saying how many) or "off".
    """

    window: int | None = None
    reserve: int = 1024
    strategy: str = SUMMARISE

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, not {self.strategy!r}")
        if self.reserve < 0:
            raise ValueError("reserve must not be negative")

    def budget(self, harder: bool = False) -> int | None:
        """Tokens the prompt may take (window minus reserve); `harder` after the server
        said no: a quarter less. None: nothing is fitted (window unknown, or "off")."""
        if self.window is None or self.strategy == OFF:
            return None
        reserve = min(self.reserve, self.window // 2)
        room = self.window - reserve
        return int(room * 0.75) if harder else room


class TokenCounter:
    """Token counts of texts and messages, each message counted once.

    `count_text` is a tokenizer (e.g. tiktoken's, or counts the server gave); None
    uses `estimate_tokens`. Counts are cached by message identity (the history's
    messages are never changed in place), bounded to `limit` entries; the last tool
    definitions' count likewise, by the list's identity.
    """

    def __init__(
        self, count_text: Callable[[str], int] | None = None, *, limit: int = 200_000
    ) -> None:
        self.count_text = count_text or estimate_tokens
        self.exact = count_text is not None
        self._cache: dict[int, tuple[Message, int]] = {}
        self._limit = limit
        # The last tool definitions counted, and their count: a run sends the same
        # list with every request (and a request may be fitted up to three times).
        self._last_tools: tuple[Sequence[dict[str, Any]], int] | None = None

    def message(self, message: Message) -> int:
        key = id(message)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is message:
            return hit[1]
        count = self._count(message)
        if len(self._cache) >= self._limit:
            self._cache.clear()
        self._cache[key] = (message, count)
        return count

    def _count(self, message: Message) -> int:
        content = message.get("content")
        if isinstance(content, str):
            n = self.count_text(content)
        elif content:
            n = self.count_text(json.dumps(content, ensure_ascii=False))
        else:
            n = 0
        calls = message.get("tool_calls")
        if calls:
            for call in calls:
                fn = call.get("function") or {}
                n += self.count_text(str(fn.get("name", ""))) + self.count_text(
                    str(fn.get("arguments", ""))
                )
                n += MESSAGE_OVERHEAD
        return n + MESSAGE_OVERHEAD

    def uncounted(self, messages: Sequence[Message]) -> list[Message]:
        """The messages without a cached count (to count them with a server's tokenizer)."""
        cache = self._cache
        return [m for m in messages if (hit := cache.get(id(m))) is None or hit[0] is not m]

    def store(self, message: Message, content_tokens: int) -> None:
        """Cache a message's count from its content's tokens as a tokenizer counted them."""
        extra = self._count({**message, "content": ""})
        if len(self._cache) >= self._limit:
            self._cache.clear()
        self._cache[id(message)] = (message, content_tokens + extra)

    def messages(self, messages: Sequence[Message]) -> int:
        return sum(map(self.message, messages)) + 3  # the reply's priming

    def tools(self, tools: Sequence[dict[str, Any]] | None) -> int:
        if not tools:
            return 0
        last = self._last_tools
        if last is not None and last[0] is tools:
            return last[1]
        count = self.count_text(json.dumps(list(tools), separators=(",", ":"))) + 10
        self._last_tools = (tools, count)
        return count


@dataclass(frozen=True, slots=True)
class Fit:
    """What one request sends, and what was left out of it.

    `messages` is what goes on the wire; `dropped` (a count) are the oldest messages of
    the history that were left out (`dropped_tokens` of them); `tokens` what is sent
    (tool definitions included); `window` the model's context length.
    """

    messages: tuple[Message, ...]
    tokens: int
    window: int | None
    dropped: int = 0
    dropped_tokens: int = 0
    summary: str | None = None
    #: the history's messages that were left out (to summarise them)
    left_out: tuple[Message, ...] = field(default=(), repr=False)
    fits: bool = True


def _units(messages: Sequence[Message], start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut into units that travel together: an assistant message with tool
    calls and the tool results after it; any other message alone."""
    units: list[tuple[int, int]] = []
    i = start
    while i < end:
        j = i + 1
        if messages[i].get("role") == "assistant" and messages[i].get("tool_calls"):
            while j < end and messages[j].get("role") == "tool":
                j += 1
        units.append((i, j))
        i = j
    return units


def _with_note(system: Message | None, note: str) -> Message:
    if system is None:
        return {"role": "system", "content": note}
    content = system.get("content") or ""
    return {**system, "content": f"{content}\n\n{note}" if content else note}


def dropped_note(count: int) -> str:
    return (
        f"[{count} earlier message{'s' if count != 1 else ''} of this conversation "
        "were left out to fit the model's context.]"
    )


def summary_note(summary: str) -> str:
    return f"Summary of the earlier part of this conversation:\n{summary}"


def fit(
    messages: Sequence[Message],
    counter: TokenCounter,
    policy: ContextPolicy,
    tools: Sequence[dict[str, Any]] | None = None,
    *,
    harder: bool = False,
    summary: str | None = None,
    floor: int = 0,
) -> Fit:
    """Fit `messages` (the history, system prompt first) into `policy`'s budget.

    The system prompt, pinned messages (`"pinned": True`) and the current turn always
    stay; older units are kept newest-first while they fit. `summary` (of the left-out
    messages, when the caller has one) replaces the marker. `floor`: the messages before
    this index were left out last time and stay out, so the cut (and its summary) holds
    while the rest fits; when it must move, it moves to leave a third of the room free,
    so it does not move again at the next turn.
    """
    budget = policy.budget(harder)
    tool_tokens = counter.tools(tools)
    if budget is None:
        tokens = counter.messages(messages) + tool_tokens
        return Fit(tuple(messages), tokens, policy.window)
    system = messages[0] if messages and messages[0].get("role") == "system" else None
    first = 1 if system is not None else 0
    current = len(messages)
    for i in range(len(messages) - 1, first - 1, -1):
        if messages[i].get("role") == "user":
            current = i
            break
    counts = list(map(counter.message, messages))  # (cached: a look-up each)
    used = 3 + tool_tokens + sum(counts[:first]) + sum(counts[current:])
    units = _units(messages, first, current)
    pinned = {u for u in units if any(m.get("pinned") for m in messages[u[0] : u[1]])}
    used += sum(sum(counts[a:b]) for a, b in pinned)
    note_room = counter.count_text(dropped_note(len(messages))) + MESSAGE_OVERHEAD
    if summary:
        note_room = max(note_room, counter.count_text(summary_note(summary)) + MESSAGE_OVERHEAD)
    total_old = sum(counts[first:current])
    kept: list[tuple[int, int]]
    after_floor = [u for u in units if u[0] >= floor and u not in pinned]
    if used + total_old <= budget:
        kept = [u for u in units if u not in pinned]
    elif (
        floor > first and used + note_room + sum(sum(counts[a:b]) for a, b in after_floor) <= budget
    ):
        kept = after_floor
    else:
        kept = []
        room = (budget - used - note_room) * 2 // 3
        for unit in reversed(units):
            if unit in pinned:
                continue
            size = sum(counts[unit[0] : unit[1]])
            if size > room:
                break
            room -= size
            kept.append(unit)
        kept.reverse()
        # A conversation starts with the user's turn: an assistant right after the cut
        # would follow the system prompt directly (some templates refuse that).
        while kept and messages[kept[0][0]].get("role") != "user":
            kept.pop(0)
    chosen = sorted([*kept, *pinned])
    keep = [i for a, b in chosen for i in range(a, b)]
    kept_set = set(keep)
    left_idx = [i for i in range(first, current) if i not in kept_set]
    left_out = tuple(messages[i] for i in left_idx)
    out: list[Message] = []
    if left_out:
        note = summary_note(summary) if summary else dropped_note(len(left_out))
        out.append(_with_note(system, note))
    elif system is not None:
        out.append(system)
    out.extend(messages[i] for i in keep)
    out.extend(messages[current:])
    dropped_tokens = sum(counts[i] for i in left_idx)
    tokens = 3 + tool_tokens + sum(map(counter.message, out))
    return Fit(
        tuple(out),
        tokens,
        policy.window,
        dropped=len(left_out),
        dropped_tokens=dropped_tokens,
        summary=summary if left_out else None,
        left_out=left_out,
        fits=tokens <= budget,
    )
