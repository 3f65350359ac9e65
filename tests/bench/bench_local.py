"""The embedded model: tokens/s through the app vs llama.cpp's server read directly.

One engine (llama.cpp's OpenAI-compatible server with SmolLM2-135M, started the
app's way); the same prompt, greedy decoding and `max_tokens` for both sides:

  (a) the raw openai SDK streaming from the engine's server;
  (b) Agent -> LocalModel (OpenAIClient) -> EventDispatcher -> one subscriber.

Tokens/s is counted from the first to the last streamed piece. Then the time from
launching `desktop-agent chat --local` to its first token on stdout: the first
launch of this run ("cold": engine start and model load included) and the median
of three more ("warm": the model file in the page cache).

    python tests/bench/bench_local.py [--rounds 3] [--tokens 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PROMPT = "Write a long story about a lighthouse keeper and a cat."
SETTINGS = {"temperature": 0, "seed": 1, "top_k": 1}


async def direct(base_url: str, model: str, tokens: int, key: str) -> tuple[int, float]:
    import openai

    # (the engine refuses requests without the key it was started with)
    client = openai.AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0)
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        stream=True,
        max_tokens=tokens,
        extra_body=SETTINGS,
    )
    times = []
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            times.append(time.perf_counter())
    await client.close()
    return len(times), times[-1] - times[0]


async def through_app(model: object, tokens: int) -> tuple[int, float]:
    from desktop_agent import Agent, EventType

    agent = Agent(model=model)  # type: ignore[arg-type]
    sub = agent.dispatcher.subscribe()
    times = []

    async def read() -> None:
        async for event in sub:
            if event.type is EventType.MESSAGE_CHUNK:
                times.append(time.perf_counter())
            elif event.type is EventType.DONE:
                return

    reader = asyncio.ensure_future(read())
    state = await agent.handle_message(PROMPT)
    await reader
    assert state.status.value == "done", state.error
    return len(times), times[-1] - times[0]


def launch_to_first_token() -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env["DESKTOP_AGENT_HOME"] = "/tmp/desktop-agent-bench-local"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_agent", "chat", "--local", "Say hello."],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    first = proc.stdout.read(1)
    elapsed = time.perf_counter() - start
    proc.communicate(timeout=300)
    assert first, "no token"
    return elapsed


async def measure(rounds: int, tokens: int) -> dict[str, list[tuple[int, float]]]:
    from desktop_agent.providers.local import EmbeddedEngine, LocalModel

    engine = EmbeddedEngine()
    model = LocalModel(engine, extra_body={**SETTINGS, "max_tokens": tokens})
    results: dict[str, list[tuple[int, float]]] = {"direct": [], "app": []}
    try:
        url = await engine.ensure_running()
        await direct(url, engine.label, 20, engine.api_key)  # warm-up
        for _ in range(rounds):
            results["direct"].append(await direct(url, engine.label, tokens, engine.api_key))
            results["app"].append(await through_app(model, tokens))
    finally:
        await model.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    results = asyncio.run(measure(args.rounds, args.tokens))
    rates = {}
    for name, rows in results.items():
        rates[name] = statistics.median(n / seconds for n, seconds in rows)
        counts = sorted({n for n, _ in rows})
        label = (
            "(a) llama.cpp server, raw openai SDK" if name == "direct" else "(b) through the app"
        )
        print(f"  {label:38s} {rates[name]:6.1f} tokens/s  ({counts} pieces per answer)")
    print(f"  ratio b/a: {rates['app'] / rates['direct']:.2f}  (target >= 0.9)")
    cold = launch_to_first_token()
    warm = statistics.median(launch_to_first_token() for _ in range(3))
    print(
        f"launch `desktop-agent chat --local` to first token: first launch {cold:.2f} s, "
        f"warm {warm:.2f} s"
    )


if __name__ == "__main__":
    main()
