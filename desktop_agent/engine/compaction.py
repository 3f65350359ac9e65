"""Before each request: count, fit, and (strategy "summarise") summarise what is left out.

A `ContextKeeper` is shared by the runs of one conversation's configuration (like
`Approvals`): it holds the policy, the token counter with its cached counts, and the
summaries the model wrote, so a summary is asked for once and extended as the
conversation grows, not rewritten before every request. Summarising is a separate
request to the same model; it runs inside the run's task, so stopping the run stops it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .context import DROP_OLDEST, SUMMARISE, ContextPolicy, Fit, TokenCounter, fit
from .model import ChatModel, Message, ModelError, Timeouts

__all__ = ["SUMMARY_PROMPT", "ContextKeeper", "Prices", "render_for_summary"]

_log = logging.getLogger(__name__)

SUMMARY_PROMPT = (
    "Summarise the conversation below for yourself, to continue it later: the user's "
    "goals, facts and decisions, names, numbers and open questions. Be brief (at most "
    "200 words), write plain sentences, and do not address the user."
)

#: Below this window a model is too small to summarise usefully (and a summary would
#: take a large share of its context): what does not fit is left out instead.
MIN_SUMMARY_WINDOW = 4096


@dataclass(frozen=True, slots=True)
class Prices:
    """US dollars per million tokens, in and out."""

    prompt: float
    completion: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1_000_000


@dataclass
class _Summary:
    covers: tuple[int, ...]  # fingerprints of the messages it covers, in order
    text: str = ""


def _fingerprint(message: Message) -> int:
    return hash((message.get("role"), str(message.get("content")), message.get("tool_call_id")))


def render_for_summary(messages: Sequence[Message], limit_chars: int) -> str:
    """The messages as plain text for the summariser, the newest kept within the limit."""
    lines: list[str] = []
    for m in messages:
        role = m.get("role", "")
        content = m.get("content") or ""
        if not isinstance(content, str):
            content = str(content)
        if m.get("tool_calls"):
            names = ", ".join(
                str((c.get("function") or {}).get("name", "")) for c in m["tool_calls"]
            )
            content = f"{content} [called {names}]".strip()
        lines.append(f"{role}: {content}")
    text = "\n".join(lines)
    return text if len(text) <= limit_chars else "…" + text[-limit_chars:]


SummaryModel = Callable[[Sequence[Message]], Awaitable[str]]


class ContextKeeper:
    """Policy, counts and summaries for the runs of one configuration.

    `window` set here wins over the model's own `context_window`; `prices` (per million
    tokens) give the cost of each answer.
    """

    def __init__(
        self,
        policy: ContextPolicy | None = None,
        *,
        counter: TokenCounter | None = None,
        prices: Prices | None = None,
        parent: ContextKeeper | None = None,
    ) -> None:
        #: A conversation's keeper follows its parent's (the app's) policy and prices
        #: unless it has its own, and shares its counter (counts are per message).
        self.parent = parent
        self._policy = policy
        self.counter: TokenCounter = counter or (
            parent.counter if parent is not None else TokenCounter()
        )
        self._prices = prices
        self._model_prices: Prices | None = None
        self._summary: _Summary | None = None
        #: Set by `request_compaction()`: the next request is fitted as after an error.
        self.compact_next = False
        self._asked_counter = False
        self._cut: tuple[int, int, int] | None = None  # (first, count, last's fingerprint)
        #: The policy the last request was fitted with (its strategy and reserve).
        self.last_policy: ContextPolicy = policy or ContextPolicy()

    def child(self) -> ContextKeeper:
        """A keeper for one conversation: its own summaries and cut, this one's policy."""
        return ContextKeeper(parent=self)

    @property
    def policy(self) -> ContextPolicy:
        if self._policy is not None:
            return self._policy
        return self.parent.policy if self.parent is not None else ContextPolicy()

    @policy.setter
    def policy(self, policy: ContextPolicy | None) -> None:
        """This keeper's own policy (None: follow the parent's)."""
        self._policy = policy

    @property
    def own_policy(self) -> bool:
        return self._policy is not None

    @property
    def prices(self) -> Prices | None:
        if self._prices is not None:
            return self._prices
        if self.parent is not None and self.parent.prices is not None:
            return self.parent.prices
        return self._model_prices

    @prices.setter
    def prices(self, prices: Prices | None) -> None:
        self._prices = prices

    def policy_for(self, model: object) -> ContextPolicy:
        """The conversation's own policy, else the model's (its provider's settings),
        else the app's."""
        if self._policy is not None:
            return self._policy
        own = getattr(model, "context_policy", None)
        if isinstance(own, ContextPolicy):
            return own
        return self.policy

    def window_for(self, model: object) -> int | None:
        policy = self.policy_for(model)
        if policy.window is not None:
            return policy.window
        window = getattr(model, "context_window", None)
        return window if isinstance(window, int) and window > 0 else None

    def request_compaction(self) -> None:
        """ "Compact now": the next request leaves out (or summarises) more."""
        self.compact_next = True

    async def prime(self, model: object, messages: Sequence[Message]) -> None:
        """Count new messages with the model's tokenizer, where it has one (a server's
        /tokenize): one request per message not counted before."""
        count = getattr(model, "count_tokens", None)
        if count is None:
            return
        todo = [m for m in self.counter.uncounted(messages) if isinstance(m.get("content"), str)]
        if not todo:
            return
        try:
            counts = await count([m["content"] for m in todo])
        except ModelError as exc:
            _log.info("counting tokens with the server failed, estimating: %s", exc)
            return
        for message, n in zip(todo, counts, strict=False):
            self.counter.store(message, n)

    async def prepare(
        self,
        model: ChatModel,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None,
        *,
        harder: bool = False,
        timeouts: Timeouts | None = None,
    ) -> Fit:
        """What to send for `messages`: fitted, and summarised when the policy says so."""
        learn = getattr(model, "learn_context", None)
        if learn is not None and self.policy_for(model).window is None:
            await learn()  # the model asks its endpoint once; later calls return at once
        prices = getattr(model, "prices", None)
        if isinstance(prices, tuple) and len(prices) == 2:
            self._model_prices = Prices(float(prices[0]), float(prices[1]))
        if not self.counter.exact and not self._asked_counter:
            self._asked_counter = True
            make = getattr(model, "text_counter", None)
            count_text = make() if make is not None else None
            if count_text is not None:
                self.counter = TokenCounter(count_text)
                if self.parent is not None and not self.parent.counter.exact:
                    self.parent.counter = self.counter
        await self.prime(model, messages)
        compact_now, self.compact_next = self.compact_next, False
        policy = replace(self.policy_for(model), window=self.window_for(model))
        self.last_policy = full = policy
        if (harder or compact_now) and policy.strategy != "off":
            # After the server said no, or "Compact now": aim at half of the messages
            # (or a quarter under the budget, if that is less); the tools stay.
            room = self.counter.tools(tools) + self.counter.messages(messages) // 2
            if policy.window is not None:
                room = min(room, (policy.window - policy.reserve) * 3 // 4)
            policy = replace(policy, window=max(256, room), reserve=0)
        floor = self._floor(messages)
        result = fit(messages, self.counter, policy, tools, floor=floor)
        self._remember_cut(messages, result.dropped)
        result = replace(result, window=full.window)  # (the model's, for the meter)
        if (
            not result.dropped
            or policy.strategy != SUMMARISE
            or (full.window or MIN_SUMMARY_WINDOW) < MIN_SUMMARY_WINDOW
        ):
            return result
        summary = await self._summarise(model, result.left_out, full, timeouts)
        if summary is None:
            return result
        summarised = fit(messages, self.counter, policy, tools, summary=summary, floor=floor)
        return replace(summarised, window=full.window) if summarised.fits else result

    def _floor(self, messages: Sequence[Message]) -> int:
        """Where the last cut was, if the history still starts the same way."""
        cut = self._cut
        if cut is None:
            return 0
        start, count, last = cut
        end = start + count
        if count and end <= len(messages) and _fingerprint(messages[end - 1]) == last:
            return end
        return 0

    def _remember_cut(self, messages: Sequence[Message], dropped: int) -> None:
        start = 1 if messages and messages[0].get("role") == "system" else 0
        if dropped and start + dropped <= len(messages):
            self._cut = (start, dropped, _fingerprint(messages[start + dropped - 1]))
        else:
            self._cut = None

    async def _summarise(
        self,
        model: ChatModel,
        left_out: Sequence[Message],
        policy: ContextPolicy,
        timeouts: Timeouts | None,
    ) -> str | None:
        ids = tuple(map(_fingerprint, left_out))
        known = self._summary
        if known is not None and known.covers == ids:
            return known.text
        earlier = ""
        todo: Sequence[Message] = left_out
        if known is not None and ids[: len(known.covers)] == known.covers:
            earlier, todo = known.text, left_out[len(known.covers) :]
        window = policy.window or MIN_SUMMARY_WINDOW
        room = max(200, (window - policy.reserve - 400) * 3)  # characters, at ~3 a token
        text = render_for_summary(todo, room - len(earlier))
        if earlier:
            text = f"(Summary so far: {earlier})\n{text}"
        request: list[Message] = [
            {"role": "system", "content": SUMMARY_PROMPT},
            {"role": "user", "content": text},
        ]
        try:
            summary = await _complete(model, request, timeouts)
        except ModelError as exc:
            _log.info("summarising failed, leaving older messages out: %s", exc)
            return None
        summary = summary.strip()
        if not summary:
            return None
        self._summary = _Summary(ids, summary)
        return summary


async def _complete(
    model: ChatModel, messages: Sequence[Message], timeouts: Timeouts | None
) -> str:
    parts: list[str] = []
    stream = model.stream_completion(messages, None, timeouts=timeouts)
    try:
        async for chunk in stream:
            if chunk.content:
                parts.append(chunk.content)
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
    return "".join(parts)


#: For settings: the strategies users choose from, with their labels.
STRATEGY_LABELS = {
    SUMMARISE: "Summarise older messages",
    DROP_OLDEST: "Leave out oldest messages",
    "off": "Off (send everything)",
}
