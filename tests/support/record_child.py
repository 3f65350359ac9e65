"""A process that streams a long answer into a history store until it is killed.

    python -m tests.support.record_child HISTORY.db

Prints "<monotonic time> <characters streamed so far>" for every chunk it sees,
so the parent knows what had arrived when it sent SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
import time

from desktop_agent import Orchestrator
from desktop_agent.engine.events import EventType
from desktop_agent.storage import Recorder, Store
from desktop_agent.testing import ScriptedModel, Turn

STORY = "".join(f"Sentence number {i} of a story that goes on. " for i in range(5000))


async def main(path: str) -> None:
    store = Store(path)
    orchestrator = Orchestrator(ScriptedModel([Turn(text=STORY, chunk_size=8, delay=0.005)]))
    Recorder(store, orchestrator.dispatcher).start()
    sub = orchestrator.dispatcher.subscribe()
    orchestrator.submit("Tell me a long story.", tenant_id="story")
    streamed = 0
    async for event in sub:
        if event.type is EventType.MESSAGE_CHUNK:
            streamed += len(event.chunk)
            print(f"{time.monotonic():.4f} {streamed}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
