"""Our engine events as AG-UI events (the official `ag-ui-protocol` types).

`AguiTranslator` turns one run's engine events into the AG-UI events of one AG-UI
run (`RUN_STARTED` ... `RUN_FINISHED` | `RUN_ERROR`):

=====================  ==========================================================
engine event           AG-UI events
=====================  ==========================================================
(run begins)           RUN_STARTED (the input's threadId and runId)
StateChange            STATE_SNAPSHOT {...client state, "agentStatus": status}
ReasoningChunk         REASONING_START + REASONING_MESSAGE_START (first piece),
                       REASONING_MESSAGE_CONTENT; REASONING_MESSAGE_END +
                       REASONING_END when the text or a tool call begins
MessageChunk           TEXT_MESSAGE_START (first piece), TEXT_MESSAGE_CONTENT
ToolCallArgs           TOOL_CALL_START (first piece, parentMessageId), TOOL_CALL_ARGS
MessageComplete        TEXT_MESSAGE_END, TOOL_CALL_END for each call
ToolCallEnd            TOOL_CALL_RESULT (same toolCallId; "Error: ..." on failure)
ToolApprovalRequest    RUN_FINISHED outcome "interrupt" (interrupt id = toolCallId)
frontend ToolCallStart RUN_FINISHED outcome "success" with pendingToolCallIds
Done completed         RUN_FINISHED (usage)
Done cancelled         RUN_FINISHED outcome "cancelled"
ErrorReport + Done     RUN_ERROR (message, code = error_type)
UserMessage, Usage     nothing of their own (usage rides on RUN_FINISHED)
=====================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ag_ui.core import (
    BaseEvent,
    Interrupt,
    ReasoningEndEvent,
    ReasoningMessageContentEvent,
    ReasoningMessageEndEvent,
    ReasoningMessageStartEvent,
    ReasoningStartEvent,
    RunErrorEvent,
    RunFinishedCancelledOutcome,
    RunFinishedEvent,
    RunFinishedInterruptOutcome,
    RunFinishedSuccessOutcome,
    RunStartedEvent,
    StateSnapshotEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    TokenUsage,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)

from ..engine import Event
from ..engine.events import (
    Done,
    ErrorReport,
    MessageChunk,
    MessageComplete,
    ReasoningChunk,
    StateChange,
    ToolApprovalRequest,
    ToolCallArgs,
    ToolCallEnd,
    ToolCallStart,
)
from ..engine.status import RunOutcome

__all__ = ["APPROVAL_REASON", "AguiTranslator", "Step"]

#: The `reason` of the interrupt a tool approval ends a run with.
APPROVAL_REASON = "tool_approval"

#: What an approval interrupt's `resume` payload may be (`responseSchema`).
APPROVAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"decision": {"type": "string", "enum": ["allow", "always", "deny"]}},
    "required": ["decision"],
}


@dataclass
class Step:
    """What one engine event became: AG-UI events, and whether the AG-UI run ended."""

    events: list[BaseEvent]
    ended: bool = False


class AguiTranslator:
    """One AG-UI run's worth of translation.

    Args:
        thread_id, run_id: the input's ids (carried by RUN_STARTED / RUN_FINISHED).
        state: the client's state (a dict is kept and given `agentStatus`).
        frontend: names of the client's tools (a call to one ends the run).
    """

    def __init__(
        self,
        thread_id: str,
        run_id: str,
        *,
        state: Any = None,
        frontend: Collection[str] = (),
    ) -> None:
        self.thread_id = thread_id
        self.run_id = run_id
        self.state: dict[str, Any] = dict(state) if isinstance(state, dict) else {}
        self.frontend = frozenset(frontend)
        self._text: str | None = None  # the open text message
        self._reasoning: str | None = None  # the open reasoning message
        self._calls: dict[str, str] = {}  # open calls: id -> parent message
        self._announced: set[str] = set()  # calls with a TOOL_CALL_START
        self._error: ErrorReport | None = None
        #: Frontend calls the client has to run (ids), once the run ended for them.
        self.pending: list[str] = []

    def started(self) -> BaseEvent:
        return RunStartedEvent(thread_id=self.thread_id, run_id=self.run_id)

    def feed(self, event: Event) -> Step:
        out: list[BaseEvent] = []
        match event:
            case MessageChunk(chunk=text, message_id=mid) if text:
                self._close_reasoning(out)
                if self._text != mid:
                    self._text = mid
                    out.append(TextMessageStartEvent(message_id=mid, role="assistant"))
                out.append(TextMessageContentEvent(message_id=mid, delta=text))
            case ReasoningChunk(chunk=text, message_id=mid) if text:
                rid = f"{mid}:reasoning"
                if self._reasoning != rid:
                    self._close_reasoning(out)
                    self._reasoning = rid
                    out.append(ReasoningStartEvent(message_id=rid))
                    out.append(ReasoningMessageStartEvent(message_id=rid, role="reasoning"))
                out.append(ReasoningMessageContentEvent(message_id=rid, delta=text))
            case ToolCallArgs(call_id=cid, tool_name=name, delta=delta):
                self._close_reasoning(out)
                parent = self._text or self._message_of(event)
                self._close_text(out)
                self._announce(out, cid, name, parent)
                if delta:
                    out.append(ToolCallArgsEvent(tool_call_id=cid, delta=delta))
            case MessageComplete() as done:
                self._close_reasoning(out)
                self._close_text(out)
                for call in done.tool_calls:
                    if call.id not in self._announced:
                        self._announce(out, call.id, call.name, done.message_id)
                        if call.arguments:
                            out.append(
                                ToolCallArgsEvent(tool_call_id=call.id, delta=call.arguments)
                            )
                for cid in list(self._calls):
                    out.append(ToolCallEndEvent(tool_call_id=cid))
                self._calls.clear()
            case ToolCallStart(call_id=cid, tool_name=name) if name in self.frontend:
                self.pending.append(cid)
                out.append(self._finished(RunFinishedSuccessOutcome(pending_tool_call_ids=[cid])))
                return Step(out, ended=True)
            case ToolCallEnd(call_id=cid, tool_name=name) as end if name not in self.frontend:
                out.append(
                    ToolCallResultEvent(
                        message_id=f"{cid}:result",
                        tool_call_id=cid,
                        content=end.content,
                        role="tool",
                    )
                )
            case ToolApprovalRequest(call_id=cid, tool_name=name, arguments=args):
                interrupt = Interrupt(
                    id=cid,
                    reason=APPROVAL_REASON,
                    message=f"Run the tool {name!r}?",
                    tool_call_id=cid,
                    response_schema=APPROVAL_SCHEMA,
                    metadata={"toolName": name, "arguments": args},
                )
                outcome = RunFinishedInterruptOutcome(interrupts=[interrupt])
                out.append(self._finished(outcome))
                return Step(out, ended=True)
            case StateChange(new_status=status):
                self.state["agentStatus"] = status.value
                out.append(StateSnapshotEvent(snapshot=dict(self.state)))
            case ErrorReport() as error:
                self._error = error
            case Done(status=outcome, usage=usage):
                self._close_reasoning(out)
                if outcome is RunOutcome.FAILED:
                    report = self._error
                    message = report.error if report else "the run failed"
                    code = report.error_type if report else "failed"
                    out.append(RunErrorEvent(message=message, code=code))
                elif outcome is RunOutcome.CANCELLED:
                    out.append(self._finished(RunFinishedCancelledOutcome()))
                else:
                    tokens = None
                    if usage.total_tokens:
                        tokens = [
                            TokenUsage(
                                input_tokens=usage.prompt_tokens,
                                output_tokens=usage.completion_tokens,
                                total_tokens=usage.total_tokens,
                            )
                        ]
                    out.append(
                        RunFinishedEvent(
                            thread_id=self.thread_id,
                            run_id=self.run_id,
                            outcome=RunFinishedSuccessOutcome(),
                            usage=tokens,
                        )
                    )
                return Step(out, ended=True)
        return Step(out)

    @staticmethod
    def _message_of(event: Event) -> str:
        return f"{event.run_id}:tools"

    def _finished(self, outcome: Any) -> BaseEvent:
        return RunFinishedEvent(thread_id=self.thread_id, run_id=self.run_id, outcome=outcome)

    def _announce(self, out: list[BaseEvent], cid: str, name: str, parent: str) -> None:
        if cid in self._announced:
            return
        self._announced.add(cid)
        self._calls[cid] = parent
        out.append(
            ToolCallStartEvent(tool_call_id=cid, tool_call_name=name, parent_message_id=parent)
        )

    def _close_text(self, out: list[BaseEvent]) -> None:
        if self._text is not None:
            out.append(TextMessageEndEvent(message_id=self._text))
            self._text = None

    def _close_reasoning(self, out: list[BaseEvent]) -> None:
        if self._reasoning is not None:
            out.append(ReasoningMessageEndEvent(message_id=self._reasoning))
            out.append(ReasoningEndEvent(message_id=self._reasoning))
            self._reasoning = None
