"""A reference AG-UI agent on 127.0.0.1, written with the official `ag-ui-protocol`
package (its event types and `EventEncoder`), for tests of the "AG-UI agent" provider.

What it does depends on the last user message:

* "tools": a tool call it runs itself (TOOL_CALL_START/ARGS/END + TOOL_CALL_RESULT),
  then text; a STATE_SNAPSHOT on the way.
* "think": reasoning, then text.
* "error": some text, then RUN_ERROR.
* "cut": some text, then the stream ends without RUN_FINISHED.
* "frontend": calls the client's first tool and finishes (the client runs it).
* anything else: "You said: <message>".

Every request body is recorded (validated as a `RunAgentInput`). In another process:
`python -m tests.support.agui_server` prints the URL of its /agent route.
"""

from __future__ import annotations

import argparse
import asyncio

from ag_ui.core import (
    BaseEvent,
    ReasoningEndEvent,
    ReasoningMessageContentEvent,
    ReasoningMessageEndEvent,
    ReasoningMessageStartEvent,
    ReasoningStartEvent,
    RunAgentInput,
    RunErrorEvent,
    RunFinishedEvent,
    RunStartedEvent,
    StateDeltaEvent,
    StateSnapshotEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
    UserMessage,
)
from ag_ui.encoder import EventEncoder
from aiohttp import web

__all__ = ["ReferenceAgent"]


def _text(mid: str, *pieces: str) -> list[BaseEvent]:
    return [
        TextMessageStartEvent(message_id=mid, role="assistant"),
        *(TextMessageContentEvent(message_id=mid, delta=p) for p in pieces),
        TextMessageEndEvent(message_id=mid),
    ]


class ReferenceAgent:
    def __init__(self) -> None:
        self.inputs: list[RunAgentInput] = []
        self.headers: list[dict[str, str]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/agent", self.run)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/agent"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> ReferenceAgent:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def script(self, given: RunAgentInput) -> tuple[list[BaseEvent], bool]:
        """(events after RUN_STARTED, whether RUN_FINISHED follows)."""
        users = [m for m in given.messages if isinstance(m, UserMessage)]
        said = users[-1].content if users and isinstance(users[-1].content, str) else ""
        answered = given.messages and given.messages[-1].role == "tool"
        if said == "tools" and not answered:
            return [
                StateSnapshotEvent(snapshot={"step": "looking up", "city": "Oslo"}),
                *_text("m1", "Let me check. "),
                ToolCallStartEvent(
                    tool_call_id="agent-call-1", tool_call_name="lookup", parent_message_id="m1"
                ),
                ToolCallArgsEvent(tool_call_id="agent-call-1", delta='{"city": '),
                ToolCallArgsEvent(tool_call_id="agent-call-1", delta='"Oslo"}'),
                ToolCallEndEvent(tool_call_id="agent-call-1"),
                ToolCallResultEvent(
                    message_id="r1", tool_call_id="agent-call-1", content="sunny", role="tool"
                ),
                StateDeltaEvent(delta=[{"op": "replace", "path": "/step", "value": "done"}]),
                *_text("m2", "It is sunny ", "in Oslo."),
            ], True
        if said == "think":
            return [
                ReasoningStartEvent(message_id="t1"),
                ReasoningMessageStartEvent(message_id="t1", role="reasoning"),
                ReasoningMessageContentEvent(message_id="t1", delta="Hmm, "),
                ReasoningMessageContentEvent(message_id="t1", delta="a greeting."),
                ReasoningMessageEndEvent(message_id="t1"),
                ReasoningEndEvent(message_id="t1"),
                *_text("m1", "Hello!"),
            ], True
        if said == "error":
            return [
                *_text("m1", "Starting... "),
                RunErrorEvent(message="the agent fell over"),
            ], False
        if said == "cut":
            return [
                TextMessageStartEvent(message_id="m1", role="assistant"),
                TextMessageContentEvent(message_id="m1", delta="half an ans"),
            ], False
        if said == "frontend" and given.tools and not answered:
            name = given.tools[0].name
            return [
                ToolCallStartEvent(tool_call_id="fe-1", tool_call_name=name),
                ToolCallArgsEvent(tool_call_id="fe-1", delta="{}"),
                ToolCallEndEvent(tool_call_id="fe-1"),
            ], True
        if answered:
            last = given.messages[-1]
            return _text("m9", f"The tool said: {last.content}"), True
        return _text("m1", "You said: ", said), True

    async def run(self, request: web.Request) -> web.StreamResponse:
        given = RunAgentInput.model_validate(await request.json())
        self.inputs.append(given)
        self.headers.append(dict(request.headers))
        encoder = EventEncoder(accept=request.headers.get("Accept", ""))
        response = web.StreamResponse(headers={"Content-Type": encoder.get_content_type()})
        await response.prepare(request)
        events, finish = self.script(given)
        out: list[BaseEvent] = [
            RunStartedEvent(thread_id=given.thread_id, run_id=given.run_id),
            *events,
        ]
        if finish:
            out.append(RunFinishedEvent(thread_id=given.thread_id, run_id=given.run_id))
        for event in out:
            await response.write(encoder.encode(event).encode())
        await response.write_eof()
        return response


async def _serve() -> None:
    agent = ReferenceAgent()
    print(await agent.start(), flush=True)
    await asyncio.Event().wait()


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    asyncio.run(_serve())


if __name__ == "__main__":
    main()
