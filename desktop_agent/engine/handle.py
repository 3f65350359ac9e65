"""A run you hold: `RunHandle`.

`Orchestrator.submit()` and `Agent.start()` hand back one handle per run. It owns
the run's task and the run itself, so it is the one place to watch the run
(`events(mode)`), answer its approval requests (`approve`), stop it (`cancel`) and
get its final state (`wait`). A watcher that goes away stops watching; stopping
the run is an explicit `cancel()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import replace

from .dispatcher import EventDispatcher
from .model import ContentPart
from .run import Run
from .state import AgentState, AgentStatus
from .stream import StreamEngine, StreamItem, StreamMode

__all__ = ["RunHandle"]


class RunHandle:
    """One run, queued or running or finished.

    Attributes:
        run_id, tenant_id: which run, of which conversation.
        message: the user's message it answers (None: the history as it stands).
        task: the task that executes the run; its result is the final state.
    """

    task: asyncio.Task[AgentState]

    def __init__(
        self, run_id: str, tenant_id: str, message: str | None, dispatcher: EventDispatcher
    ) -> None:
        self.run_id = run_id
        self.tenant_id = tenant_id
        self.message = message
        #: The content parts of the message's attachments (see `Orchestrator.submit`).
        self.parts: tuple[ContentPart, ...] = ()
        self._dispatcher = dispatcher
        self._run: Run | None = None
        self._dropped: AgentState | None = None

    def __repr__(self) -> str:
        state = "done" if self.done else "running" if self.started else "queued"
        return f"<RunHandle {self.run_id} of {self.tenant_id!r}: {state}>"

    def attach(self, run: Run) -> None:
        """The run has started (called by whoever starts it)."""
        self._run = run

    def dropped(self, state: AgentState) -> None:
        """The run was cancelled before it started; `state` is its conversation's."""
        self._dropped = replace(state, status=AgentStatus.CANCELLED, run_id=self.run_id)

    @property
    def started(self) -> bool:
        return self._run is not None

    @property
    def done(self) -> bool:
        return self.task.done()

    @property
    def initial(self) -> AgentState | None:
        """The state the run started from, once it has started."""
        return self._run.initial if self._run is not None else None

    def events(
        self, mode: StreamMode | str = StreamMode.EVENTS
    ) -> AsyncGenerator[StreamItem, None]:
        """The run's stream in `mode`, from its first event to its `DONE`.

        Subscribes now: call it before the run publishes anything (right after
        `submit()`/`start()`, before awaiting), else it raises `RuntimeError`.
        Leaving the loop stops watching; the run goes on.
        """
        run = self._run
        if self.done or (run is not None and run.published):
            raise RuntimeError(
                f"run {self.run_id} has already published events: call events() "
                "right after submitting it"
            )
        sub = self._dispatcher.subscribe(run_id=self.run_id)

        def initial() -> AgentState:
            assert self._run is not None, "the run has not started"
            return self._run.initial

        async def watch() -> AsyncGenerator[StreamItem, None]:
            with sub:
                async for item in StreamEngine(mode).view(sub, initial):
                    yield item

        return watch()

    def approve(self, call_id: str, decision: str) -> bool:
        """Answer the run's `TOOL_APPROVAL_REQUEST` for `call_id`: "allow", "always"
        or "deny". False if no call of this run waits under that id."""
        run = self._run
        return run is not None and not self.done and run.answer(call_id, decision)

    def cancel(self) -> bool:
        """Stop the run (or drop it from the queue); it ends with `DONE` "cancelled".
        False if it had already finished."""
        if self.done:
            return False
        if self._run is not None:
            self._run.cancel()
        else:
            self.task.cancel()
        return True

    async def wait(self) -> AgentState:
        """The final state (waiting does not tie the run to the waiter: cancelling
        the waiter does not cancel the run)."""
        try:
            return await asyncio.shield(self.task)
        except asyncio.CancelledError:
            if self.task.cancelled() and self._dropped is not None:
                return self._dropped
            raise
