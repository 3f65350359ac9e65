"""Context fitting benchmark, with a baseline measured in the same run.

Fitting a 10,000-message conversation (with tool calls and results) into a 128k-token
budget before a request: the time the app adds before sending, with the token counts
cached (every request after the first), and once cold (every message counted).
Baseline: the request itself - the fitted messages sent to the scripted server on
127.0.0.1 through the real openai client, until its (short) answer has streamed in.

    python tests/bench/bench_context.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from desktop_agent.engine.compaction import ContextKeeper  # noqa: E402
from desktop_agent.engine.context import ContextPolicy, TokenCounter, fit  # noqa: E402
from desktop_agent.providers.openai import OpenAIClient  # noqa: E402
from tests.support.scripted_server import Reply, ScriptedServer  # noqa: E402

MESSAGES = 10_000
WINDOW = 128_000
RUNS = 21

PARAGRAPH = (
    "Here is what I found about {topic}: the first step is to check the config file, "
    "then restart the service and watch the log for errors. "
)


def conversation(count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": "You are a helpful assistant."}]
    i = 0
    while len(out) < count:
        topic = f"topic{i}"
        out.append({"role": "user", "content": f"Question {i} about {topic}? " * 3})
        if i % 10 == 5:
            out.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": f"call_{i}",
                            "type": "function",
                            "function": {"name": "search", "arguments": f'{{"q": "{topic}"}}'},
                        }
                    ],
                }
            )
            out.append({"role": "tool", "tool_call_id": f"call_{i}", "content": topic * 40})
        out.append({"role": "assistant", "content": PARAGRAPH.format(topic=topic) * 3})
        i += 1
    out.append({"role": "user", "content": "And now?"})
    return out


class Offline:
    """A model with nothing to learn (the fitting alone is measured)."""

    model = "bench"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def main() -> None:
    history = conversation(MESSAGES)
    policy = ContextPolicy(window=WINDOW, reserve=4096, strategy="drop_oldest")

    cold: list[float] = []
    for _ in range(5):
        counter = TokenCounter()
        started = time.perf_counter()
        fit(history, counter, policy)
        cold.append(time.perf_counter() - started)

    keeper = ContextKeeper(policy)
    fitted = await keeper.prepare(Offline(), history, None)  # type: ignore[arg-type]
    warm: list[float] = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fitted = await keeper.prepare(Offline(), history, None)  # type: ignore[arg-type]
        warm.append(time.perf_counter() - started)
    # a new turn: two messages more, the rest counted already
    grown = [*history, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "go"}]
    started = time.perf_counter()
    await keeper.prepare(Offline(), grown, None)  # type: ignore[arg-type]
    new_turn = time.perf_counter() - started

    requests: list[float] = []
    async with ScriptedServer() as server:
        server.default = Reply(text="A short answer.")
        client = OpenAIClient(api_key="", model="bench", base_url=server.base_url)
        for _ in range(7):
            started = time.perf_counter()
            async for _chunk in client.stream_completion(list(fitted.messages)):
                pass
            requests.append(time.perf_counter() - started)
        await client.aclose()

    fit_ms, request_ms = median_ms(warm), median_ms(requests)
    print(f"conversation: {len(history):,} messages; fitted into {WINDOW:,} tokens")
    print(
        f"  sent {len(fitted.messages):,} messages, {fitted.tokens:,} tokens; "
        f"left out {fitted.dropped:,} ({fitted.dropped_tokens:,} tokens)"
    )
    print(f"fit, counts cached (median of {RUNS}):  {fit_ms:8.2f} ms   (target <= 20 ms)")
    print(f"fit, a new turn (2 new messages):       {new_turn * 1000:8.2f} ms")
    print(f"fit, cold (every message counted):      {median_ms(cold):8.2f} ms")
    print(f"baseline: the request itself (median):  {request_ms:8.2f} ms")
    print(f"fit / request: {fit_ms / request_ms:.3f}x")


if __name__ == "__main__":
    asyncio.run(main())
