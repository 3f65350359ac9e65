"""Protocol overhead, each pair measured in one run, interleaved, medians of --repeats:

1. AG-UI encoding: one answer of --chunks text pieces streamed through `serve`'s
   `POST /agui` vs the same answer through `POST /api/chat/stream` (our SSE). The
   server (`ChatServer` + a `ScriptedModel` that yields as fast as it can) runs in its
   own process; the client reads the whole body with aiohttp. Figures: model chunks
   per second (answer length / time to the end of the stream) and wire events per
   second; the ratio AG-UI / SSE (target >= 0.8).
2. Responses vs Chat Completions: `OpenAIClient.stream_completion` reading one answer
   of --chunks pieces from the scripted server (its own process) with api="responses"
   vs api="chat"; chunks per second and the ratio (target >= 0.9).

    python tests/bench/bench_protocols.py [--chunks 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def serve(chunks: int) -> None:
    from aiohttp import web

    from desktop_agent import Orchestrator
    from desktop_agent.testing import ScriptedModel, Turn
    from desktop_agent.web.server import ChatServer

    async def run() -> None:
        model = ScriptedModel([Turn(chunks=["tok "] * chunks)], loop=True)
        server = ChatServer(Orchestrator(model), max_conversations=1000)
        runner = web.AppRunner(server.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


def started(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


async def one_stream(http: object, url: str, body: dict[str, object]) -> tuple[float, int, int]:
    """(seconds, wire events, text characters) of one run."""
    begin = time.perf_counter()
    events = 0
    text = 0
    async with http.post(url, json=body) as response:  # type: ignore[attr-defined]
        assert response.status == 200, await response.text()
        async for line in response.content:
            if not line.startswith(b"data: "):
                continue
            events += 1
            raw = json.loads(line[6:])
            if raw.get("type") == "TEXT_MESSAGE_CONTENT":
                text += len(raw["delta"])
            elif raw.get("type") == "message_chunk":
                text += len(raw["data"]["chunk"])
    return time.perf_counter() - begin, events, text


async def bench_agui(chunks: int, repeats: int) -> float:
    import aiohttp

    process, port = started([__file__, "--serve", str(chunks)])
    base = f"http://127.0.0.1:{port}"
    results: dict[str, list[tuple[float, int]]] = {"sse": [], "agui": []}
    try:
        async with aiohttp.ClientSession() as http:
            for i in range(repeats + 1):  # the first round warms up
                for kind in ("sse", "agui"):
                    if kind == "sse":
                        body: dict[str, object] = {"message": "go", "conversation_id": f"s{i}"}
                        url = f"{base}/api/chat/stream"
                    else:
                        user = {"id": "u", "role": "user", "content": "go"}
                        body = {"threadId": f"a{i}", "runId": f"r{i}", "messages": [user]}
                        url = f"{base}/agui"
                    seconds, events, text = await one_stream(http, url, body)
                    assert text == 4 * chunks, (kind, text)
                    if i:
                        results[kind].append((seconds, events))
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    rates = {}
    for kind, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        events = statistics.median(e for _, e in runs)
        rates[kind] = chunks / seconds
        print(
            f"{kind:5s} /{'agui' if kind == 'agui' else 'api/chat/stream':16s} "
            f"{chunks / seconds:10,.0f} model chunks/s  {events / seconds:10,.0f} wire events/s "
            f"({events:,.0f} events, median of {len(runs)})"
        )
    ratio = rates["agui"] / rates["sse"]
    print(f"AG-UI / SSE: {ratio:.2f}x (target >= 0.8x)")
    return ratio


async def bench_responses(chunks: int, repeats: int) -> float:
    import aiohttp

    from desktop_agent.providers.openai import OpenAIClient
    from tests.support.scripted_server import Reply, reply_dict

    process, base_url = started(["-m", "tests.support.scripted_server"])
    reply = reply_dict(Reply(text="tok " * chunks, chunk_size=4))
    times: dict[str, list[float]] = {"chat": [], "responses": []}
    try:
        async with aiohttp.ClientSession() as http:
            script_url = base_url.removesuffix("/v1") + "/_script"
            for i in range(repeats + 1):
                for api in ("chat", "responses"):
                    async with http.post(script_url, json=[reply]) as response:
                        assert response.status == 200
                    client = OpenAIClient(api_key="", base_url=base_url, model="m", api=api)
                    begin = time.perf_counter()
                    got = 0
                    async for chunk in client.stream_completion(
                        [{"role": "user", "content": "go"}]
                    ):
                        got += 1 if chunk.content else 0
                    elapsed = time.perf_counter() - begin
                    await client.aclose()
                    assert got == chunks, (api, got)
                    if i:
                        times[api].append(elapsed)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    rates = {api: chunks / statistics.median(t) for api, t in times.items()}
    for api, rate in rates.items():
        print(f"{api:9s} {rate:10,.0f} chunks/s (median of {len(times[api])})")
    ratio = rates["responses"] / rates["chat"]
    print(f"Responses / Chat Completions: {ratio:.2f}x (target >= 0.9x)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    print(f"one answer of {args.chunks:,} pieces; medians of {args.repeats} interleaved runs")
    asyncio.run(bench_agui(args.chunks, args.repeats))
    asyncio.run(bench_responses(args.chunks, args.repeats))


if __name__ == "__main__":
    main()
