"""Server load: 100 concurrent SSE streams, then 1,000 sequential runs.

The server (`ChatServer` + `ScriptedModel`, 40 chunks an answer, a few ms apart)
runs in its own process, with a token as `serve` has by default (and its default cap
of 100 kept conversations, raised to --streams if that is more); the clients are
aiohttp in this one. Prints p50/p99 time to first event and to `done`, errors, and
the server's RSS before and after 1,000 sequential runs (1,000 conversations: the
idle ones beyond the cap are forgotten).

    python tests/bench/bench_server.py [--streams 100] [--runs 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve(streams: int) -> None:
    from aiohttp import web

    from desktop_agent import Orchestrator
    from desktop_agent.testing import ScriptedModel, Turn
    from desktop_agent.web.server import MAX_CONVERSATIONS, ChatServer

    async def run() -> None:
        model = ScriptedModel([Turn(text="word " * 40, chunk_size=5, delay=0.002)], loop=True)
        server = ChatServer(
            Orchestrator(model),
            token=os.environ["DESKTOP_AGENT_TOKEN"],
            max_conversations=max(MAX_CONVERSATIONS, streams),
        )
        runner = web.AppRunner(server.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


async def one_stream(http: object, url: str, conversation: str) -> tuple[float, float, bool]:
    import aiohttp

    assert isinstance(http, aiohttp.ClientSession)
    start = time.perf_counter()
    first = None
    ok = False
    async with http.post(url, json={"message": "go", "conversation_id": conversation}) as resp:
        if resp.status != 200:
            return float("nan"), float("nan"), False
        async for line in resp.content:
            if first is None and line.startswith(b"event:"):
                first = time.perf_counter() - start
            if line.startswith(b"data:") and b'"type": "done"' in line:
                ok = b'"status": "completed"' in line
    return first or float("nan"), time.perf_counter() - start, ok


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def load(port: int, pid: int, token: str, streams: int, runs: int) -> None:
    import aiohttp

    url = f"http://127.0.0.1:{port}/api/chat/stream"
    connector = aiohttp.TCPConnector(limit=0)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:
        await one_stream(http, url, "warm-up")
        results = await asyncio.gather(*(one_stream(http, url, f"c{i}") for i in range(streams)))
        firsts = [r[0] * 1000 for r in results]
        totals = [r[1] * 1000 for r in results]
        completed = sum(1 for r in results if r[2])
        print(
            f"{streams} concurrent SSE streams: {completed} completed, {streams - completed} errors"
        )
        print(
            f"  time to first event: p50 {statistics.median(firsts):.0f} ms, "
            f"p99 {pct(firsts, 99):.0f} ms"
        )
        print(
            f"  time to done:        p50 {statistics.median(totals):.0f} ms, "
            f"p99 {pct(totals, 99):.0f} ms"
        )
        await asyncio.sleep(0.5)
        before = rss_mb(pid)
        failures = 0
        for i in range(runs):
            *_, ok = await one_stream(http, url, f"s{i}")
            failures += not ok
        await asyncio.sleep(0.5)
        after = rss_mb(pid)
        print(
            f"{runs} sequential runs ({failures} failed): server RSS {before:.1f} MB -> "
            f"{after:.1f} MB ({after - before:+.1f} MB; idle conversations beyond the cap "
            "are forgotten)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.streams)
        return
    token = secrets.token_urlsafe(32)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--streams", str(args.streams)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DESKTOP_AGENT_TOKEN": token},
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        asyncio.run(load(port, proc.pid, token, args.streams, args.runs))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
