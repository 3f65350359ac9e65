"""One run of an agent: the model <-> tools loop, told as events.

A `Run` executes one answer with the `AgentConfig` it was started with: it
streams the model's answer (with first-token/idle watchdog and retries before
any text reached subscribers), runs the step's tool calls concurrently, and
always ends with exactly one `DONE` - after an `ERROR` when it failed, after
completing the partial message and closing every started tool call when it was
cancelled or failed.

The tool-call half (approval, starting and ending calls, remote results) is
`ToolCalls` in calls.py, which `Run` mixes in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from .calls import ToolCalls, _CallBuilder
from .config import AgentConfig
from .context import OFF
from .events import (
    Done,
    ErrorReport,
    Event,
    EventMeta,
    MessageChunk,
    MessageComplete,
    ReasoningChunk,
    StateChange,
    ToolCallArgs,
    ToolCallRequest,
    UserMessage,
    user_message_id,
)
from .meter import context_report, too_long, usage_report
from .model import (
    BadResponseError,
    ChatChunk,
    ContextLengthError,
    ModelError,
    ModelTimeoutError,
    Usage,
)
from .state import AgentState
from .status import AgentStatus, RunOutcome
from .text import scrub
from .watchdog import StallWatch

__all__ = ["MaxStepsExceeded", "Publish", "Run", "new_id", "publish_unstarted"]

#: Where a run's events go (an `EventDispatcher.publish`).
Publish = Callable[[Event], None]

_log = logging.getLogger(__name__)


class MaxStepsExceeded(Exception):
    error_type = "max_steps"
    retryable = False


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def publish_unstarted(publish: Publish, run_id: str, tenant_id: str) -> None:
    """End a run that was cancelled before it started: a lone `DONE` cancelled."""
    publish(Done(RunOutcome.CANCELLED, 0.0, Usage(), meta=EventMeta(run_id, tenant_id, 0)))


class Run(ToolCalls):
    """One run: its configuration, state, seq counter and partial work.

    `initial` is the state it started from (the history plus the user's message);
    `message` is that message (None: the run answers the history as it stands).
    """

    def __init__(
        self,
        config: AgentConfig,
        publish: Publish,
        initial: AgentState,
        message: str | None = None,
    ) -> None:
        self.config = config
        self.message = message
        #: The references of the message's attachments (told in its `UserMessage`).
        self.attachments: tuple[dict[str, Any], ...] = ()
        self.initial = initial
        self.state = initial
        assert initial.run_id is not None
        self.run_id: str = initial.run_id
        self.tenant_id = initial.tenant_id
        self._seq = 0
        self._publish = publish
        self.task: asyncio.Task[Any] | None = None
        self._cancel_requested = False
        # The message being streamed, so a stop can still complete it.
        self._message_id: str | None = None
        self._parts: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, _CallBuilder] = {}
        self._open_calls: dict[str, str] = {}  # call_id -> tool name, started not ended
        # call_id -> (tool name, the user's answer): calls waiting for approval
        self._approvals: dict[str, tuple[str, asyncio.Future[str]]] = {}
        self._deadline: asyncio.Timeout | None = None  # the run's total limit
        self._paused_left: float | None = None  # its time left while paused
        self._text_emitted = False  # any text of the current step reached subscribers
        self.usage = Usage()

    @property
    def published(self) -> int:
        """How many events the run has published so far."""
        return self._seq

    # -- emitting ---------------------------------------------------------------

    def meta(self) -> EventMeta:
        """The next event's meta (and count it)."""
        seq = self._seq
        self._seq = seq + 1
        return EventMeta(self.run_id, self.tenant_id, seq)

    def emit(self, event: Event) -> None:
        """Publish a structural event (text goes to `_publish` directly: it does
        not change the run's state)."""
        self.state = self.state.apply(event)
        self._publish(event)

    def set_status(self, status: AgentStatus) -> None:
        old = self.state.status
        if old is not status:
            self.emit(StateChange(old, status, meta=self.meta()))

    # -- the run ----------------------------------------------------------------

    def cancel(self) -> None:
        self._cancel_requested = True
        if self.task is not None:
            self.task.cancel()

    async def execute(self) -> AgentState:
        self.task = asyncio.current_task()
        started = time.monotonic()
        if self.message is not None:
            # The run's first event says what it answers: every surface (and the
            # recorder) shows the user's message from the stream, like the answer.
            message_id = user_message_id(self.run_id)
            self.emit(
                UserMessage(
                    self.message, message_id, attachments=self.attachments, meta=self.meta()
                )
            )
        total = self.config.timeouts.total
        outcome = RunOutcome.COMPLETED
        error: tuple[str, str, bool] | None = None
        cancelled_from_outside = False
        try:
            try:
                async with asyncio.timeout(total) as deadline:
                    self._deadline = deadline
                    if self._cancel_requested:  # cancelled before it began
                        raise asyncio.CancelledError
                    await self._loop()
            except TimeoutError:
                raise ModelTimeoutError(
                    f"Timed out: the run took longer than {total:g} s."
                ) from None
        except asyncio.CancelledError:
            outcome = RunOutcome.CANCELLED
            cancelled_from_outside = not self._cancel_requested
            if self._cancel_requested and self.task is not None:
                self.task.uncancel()
        except ModelError as exc:
            outcome = RunOutcome.FAILED
            recoverable = exc.retryable or isinstance(exc, ModelTimeoutError)
            error = (exc.message, exc.error_type, recoverable)
        except MaxStepsExceeded as exc:
            outcome = RunOutcome.FAILED
            error = (str(exc), exc.error_type, False)
        except Exception as exc:
            _log.exception("run %s failed with an internal error", self.run_id)
            outcome = RunOutcome.FAILED
            error = (f"Internal error: {type(exc).__name__}: {exc}", "internal", False)
        self._finish(outcome, error, started)
        if cancelled_from_outside:
            raise asyncio.CancelledError()
        return self.state

    def _finish(
        self, outcome: RunOutcome, error: tuple[str, str, bool] | None, started: float
    ) -> None:
        """Close what is open, then ERROR (if failed), the final state and DONE."""
        reason = "cancelled" if outcome is RunOutcome.CANCELLED else "error"
        if self._message_id is not None:
            self._complete_message(reason)
        for call_id, (name, _answer) in list(self._approvals.items()):
            self._end_tool(
                call_id,
                name,
                None,
                "cancelled while waiting for approval"
                if reason == "cancelled"
                else "the run ended while waiting for approval",
                0.0,
            )
        self._approvals.clear()
        for call_id, name in list(self._open_calls.items()):
            self._end_tool(
                call_id,
                name,
                None,
                "cancelled" if reason == "cancelled" else "the run ended before the tool finished",
                0.0,
            )
        if error is not None:
            message, error_type, recoverable = error
            self.emit(ErrorReport(message, error_type, recoverable, meta=self.meta()))
        self.set_status(outcome.final_status)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        self.emit(Done(outcome, duration_ms, self.usage, meta=self.meta()))

    async def _loop(self) -> None:
        tool_schemas = self.config.tools.schemas() or None
        for _step in range(self.config.max_steps):
            self.set_status(AgentStatus.THINKING)
            calls = await self._model_step(tool_schemas)
            if not calls:
                return
            self.set_status(AgentStatus.CALLING_TOOL)
            async with asyncio.TaskGroup() as group:
                for call in calls:
                    group.create_task(self._call_tool(call))
        raise MaxStepsExceeded(
            f"Stopped after {self.config.max_steps} steps: the model kept asking for tools "
            f"(max_steps={self.config.max_steps})."
        )

    async def _model_step(self, tool_schemas: list[dict[str, Any]] | None) -> list[_CallBuilder]:
        policy = self.config.retry
        attempt = 0
        harder = False  # fitted harder after the server said the request was too long
        while True:
            self._text_emitted = False
            try:
                return await self._stream_once(tool_schemas, harder)
            except ContextLengthError as exc:
                if self._text_emitted or harder or self.config.context.last_policy.strategy == OFF:
                    exc.message = too_long(exc.message, self.config.context, retried=harder)
                    raise
                _log.info("the request was too long; fitting harder: %s", exc.message)
                harder = True
                self._discard_message()
            except ModelError as exc:
                attempt += 1
                if not exc.retryable or self._text_emitted or attempt >= policy.max_attempts:
                    if attempt > 1:
                        exc.message = f"{exc.message} (after {attempt} attempts)"
                    raise
                delay = policy.delay(attempt - 1, exc.retry_after)
                _log.info("retrying in %.2fs after: %s", delay, exc.message)
                self._discard_message()
                await asyncio.sleep(delay)

    def _discard_message(self) -> None:
        """Forget a message that failed before any of its text was sent."""
        self._message_id = None
        self._parts = []
        self._reasoning = []
        self._calls = {}

    async def _stream_once(
        self, tool_schemas: list[dict[str, Any]] | None, harder: bool = False
    ) -> list[_CallBuilder]:
        config = self.config
        timeouts = config.timeouts
        keeper = config.context
        fitted = await keeper.prepare(
            config.model, self.state.messages, tool_schemas, harder=harder, timeouts=timeouts
        )
        if fitted.window is not None or fitted.dropped:
            self.emit(context_report(fitted, keeper, harder, meta=self.meta()))
        message_id = self._message_id = new_id("msg")
        parts: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, _CallBuilder] = {}
        self._parts, self._reasoning, self._calls = parts, reasoning, calls
        publish = self._publish
        run_id, tenant_id = self.run_id, self.tenant_id
        finish: str | None = None
        usage: Usage | None = None
        stream = config.model.stream_completion(fitted.messages, tool_schemas, timeouts=timeouts)
        sent_at = time.monotonic()
        first_at: float | None = None
        with StallWatch(timeouts.first_token, timeouts.idle) as watch:
            async with _aclosing(stream):
                async for chunk in stream:
                    watch.progress()
                    if first_at is None and (chunk.content or chunk.reasoning or chunk.tool_calls):
                        first_at = time.monotonic()
                    if chunk.reasoning:
                        if not reasoning:
                            self.set_status(AgentStatus.STREAMING)
                        seq = self._seq
                        self._seq = seq + 1
                        publish(
                            ReasoningChunk(
                                chunk.reasoning,
                                message_id,
                                len(reasoning),
                                meta=EventMeta(run_id, tenant_id, seq),
                            )
                        )
                        reasoning.append(chunk.reasoning)
                        self._text_emitted = True
                    if chunk.content:
                        if not parts and not reasoning:
                            self.set_status(AgentStatus.STREAMING)
                        seq = self._seq
                        self._seq = seq + 1
                        publish(
                            MessageChunk(
                                chunk.content,
                                message_id,
                                len(parts),
                                meta=EventMeta(run_id, tenant_id, seq),
                            )
                        )
                        parts.append(chunk.content)
                        self._text_emitted = True
                    if chunk.tool_calls:
                        self._on_tool_deltas(chunk)
                    if chunk.usage is not None:
                        usage = chunk.usage
                    if chunk.finish_reason:
                        finish = chunk.finish_reason
        if finish is None:
            raise BadResponseError(
                "The model's stream ended before the answer was finished "
                "(no finish_reason): the connection may have been cut."
            )
        builders = list(calls.values())
        self._complete_message(finish)
        written = "".join(parts) + "".join(reasoning) + "".join(c.arguments for c in builders)
        report = usage_report(
            usage, fitted, keeper, written, sent_at, first_at, time.monotonic(), meta=self.meta()
        )
        self.usage = self.usage + report.usage
        self.emit(report)
        return builders

    def _on_tool_deltas(self, chunk: ChatChunk) -> None:
        for delta in chunk.tool_calls:
            call = self._calls.get(delta.index)
            if call is None:
                name = scrub(delta.name or "")
                call = _CallBuilder(new_id("call"), name, provider_id=delta.id)
                self._calls[delta.index] = call
                if not self._parts and not self._reasoning and len(self._calls) == 1:
                    self.set_status(AgentStatus.STREAMING)
            elif delta.name and not call.name:
                call.name = scrub(delta.name)
            if delta.arguments:
                call.arguments += delta.arguments
                self._publish(ToolCallArgs(call.id, call.name, delta.arguments, meta=self.meta()))
                self._text_emitted = True

    def _complete_message(self, finish_reason: str) -> None:
        assert self._message_id is not None
        calls: tuple[ToolCallRequest, ...] = ()
        if self._calls and finish_reason not in ("cancelled", "error"):
            calls = tuple(c.request() for c in self._calls.values())
        event = MessageComplete(
            self._message_id,
            "".join(self._parts),
            finish_reason,
            "".join(self._reasoning),
            calls,
            meta=self.meta(),
        )
        self._message_id = None
        self._calls = {}
        self.emit(event)


@contextlib.asynccontextmanager
async def _aclosing(stream: AsyncIterator[ChatChunk]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
