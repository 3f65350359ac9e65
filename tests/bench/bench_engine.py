"""Engine throughput: the whole pipeline vs the raw openai SDK, in one run.

Streams N chunks (default 20,000) from the scripted OpenAI-compatible server,
which runs in its own process on 127.0.0.1, and measures:

  (a) the raw openai SDK iterating the stream (`AsyncOpenAI(...).chat.completions
      .create(stream=True)`), doing nothing with the chunks but keeping the text;
  (b) OpenAIClient -> Agent -> EventDispatcher -> one subscriber reading every event.

Prints chunks/s and CPU microseconds per chunk for both, and the ratio b/a of the
throughputs (target >= 2.0). Rounds alternate a and b; the median round counts.

    python tests/bench/bench_engine.py [--chunks 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.scripted_server import Reply  # noqa: E402


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.scripted_server"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    return proc, base_url


def post_script(base_url: str, *replies: Reply) -> None:
    """Queue replies on the server in the other process."""
    body = json.dumps([asdict(r) for r in replies]).encode()
    root = base_url.rsplit("/v1", 1)[0]
    req = urllib.request.Request(
        f"{root}/_script", data=body, headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(req, timeout=30).read()


def queue_reply(base_url: str, chunks: int | list[str]) -> None:
    texts = [f"t{i % 10} " for i in range(chunks)] if isinstance(chunks, int) else chunks
    post_script(base_url, Reply(chunks=texts))


async def raw_sdk(base_url: str, chunks: int) -> tuple[float, float, int]:
    import openai

    client = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
    queue_reply(base_url, chunks)
    parts: list[str] = []
    wall, cpu = time.perf_counter(), time.process_time()
    stream = await client.chat.completions.create(
        model="bench", messages=[{"role": "user", "content": "go"}], stream=True
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await client.close()
    return wall, cpu, len(parts)


async def pipeline(base_url: str, chunks: int) -> tuple[float, float, int]:
    from desktop_agent import Agent, EventType
    from desktop_agent.providers.openai import OpenAIClient

    client = OpenAIClient(api_key="bench", model="bench", base_url=base_url)
    agent = Agent(model=client)
    sub = agent.dispatcher.subscribe()
    queue_reply(base_url, chunks)
    received = 0
    parts: list[str] = []

    async def reader() -> None:
        nonlocal received
        async for event in sub:
            received += 1
            if event.type is EventType.MESSAGE_CHUNK:
                parts.append(event.chunk)
            elif event.type is EventType.DONE:
                return

    wall, cpu = time.perf_counter(), time.process_time()
    read = asyncio.ensure_future(reader())
    state = await agent.handle_message("go")
    await read
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert state.status.value == "done", state.error
    assert "".join(parts) == state.last_answer
    await client.aclose()
    return wall, cpu, len(parts)


async def cancel_latency(base_url: str) -> float:
    """From `handle.cancel()` mid-stream to the run's DONE (the HTTP stream is
    closed before DONE is published)."""
    from desktop_agent import Agent, EventType
    from desktop_agent.providers.openai import OpenAIClient

    client = OpenAIClient(api_key="bench", model="bench", base_url=base_url)
    agent = Agent(model=client)
    sub = agent.dispatcher.subscribe()
    handle = agent.start("go")
    cancelled_at = 0.0
    async for event in sub:
        if event.type is EventType.MESSAGE_CHUNK and event.index == 50:
            cancelled_at = time.perf_counter()
            handle.cancel()
        if event.type is EventType.DONE:
            assert event.status == "cancelled"
            break
    latency = time.perf_counter() - cancelled_at
    await handle.wait()
    await client.aclose()
    return latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    proc, base_url = start_server()
    try:
        results: dict[str, list[tuple[float, float, int]]] = {"sdk": [], "pipeline": []}
        asyncio.run(raw_sdk(base_url, 500))  # warm-up: imports, connections
        asyncio.run(pipeline(base_url, 500))
        for _ in range(args.rounds):
            results["sdk"].append(asyncio.run(raw_sdk(base_url, args.chunks)))
            results["pipeline"].append(asyncio.run(pipeline(base_url, args.chunks)))
        cancels = []
        for _ in range(5):
            post_script(base_url, Reply(text="x" * 4000, chunk_size=2, delay=0.002))
            cancels.append(asyncio.run(cancel_latency(base_url)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    rates = {}
    print(f"{args.chunks} chunks, {args.rounds} rounds, median round:")
    for name, rows in results.items():
        for _, _, n in rows:
            assert n == args.chunks, f"{name} got {n} chunks"
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        rates[name] = args.chunks / wall
        label = (
            "(a) raw openai SDK" if name == "sdk" else "(b) OpenAIClient->Agent->Dispatcher->sub"
        )
        per_chunk = cpu / args.chunks * 1e6
        print(f"  {label:42s} {rates[name]:9,.0f} chunks/s  {per_chunk:6.1f} CPU µs/chunk")
    print(f"  ratio b/a: {rates['pipeline'] / rates['sdk']:.2f}  (target >= 2.0)")
    print(
        f"cancel mid-stream -> DONE (HTTP stream closed): median "
        f"{statistics.median(cancels) * 1000:.1f} ms, worst {max(cancels) * 1000:.1f} ms "
        "(target 100 ms)"
    )


if __name__ == "__main__":
    main()
