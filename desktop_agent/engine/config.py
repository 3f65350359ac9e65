"""What a run is configured with: `AgentConfig`, one frozen value.

A run takes the configuration it starts with and keeps it to its end: replacing a
conversation's configuration (another model, prompt or tool set) affects the next
run only, and the running one stays fully controllable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .approval import Approvals
from .compaction import ContextKeeper
from .model import ChatModel, ContentPart, RetryPolicy, Timeouts
from .state import AgentState
from .tools import Tool, ToolRegistry

__all__ = ["AgentConfig"]


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """Model, prompt, tools and limits of the runs that start with it.

    Args:
        model: any `ChatModel` (`OpenAIClient`, `ScriptedModel`, ...).
        system_prompt: the system message put first in every conversation.
        tools: the tools runs may call (a `ToolRegistry`; `create` takes any iterable).
        max_steps: how many model requests one run may make.
        timeouts: connect / first token / idle / total / tool limits.
        retry: how requests that failed before any text are retried.
        approvals: which tool calls wait for the user. Shared, not copied: the
            tools a user "always" allows stay allowed for every later run.
        context: the context budget (window, reserve, strategy), token counts and
            summaries. Shared, like approvals: counts and summaries outlive a run.
    """

    model: ChatModel
    system_prompt: str = ""
    tools: ToolRegistry = field(default_factory=ToolRegistry)
    max_steps: int = 10
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    approvals: Approvals = field(default_factory=Approvals)
    context: ContextKeeper = field(default_factory=ContextKeeper)

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ValueError("max_steps must be at least 1")

    @classmethod
    def create(
        cls,
        model: ChatModel,
        *,
        system_prompt: str = "",
        tools: Iterable[Tool | Callable[..., Any]] = (),
        max_steps: int = 10,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        approvals: Approvals | None = None,
        context: ContextKeeper | None = None,
    ) -> AgentConfig:
        """A configuration from plain arguments (`@tool` functions, None for defaults)."""
        return cls(
            model=model,
            system_prompt=system_prompt,
            tools=tools if isinstance(tools, ToolRegistry) else ToolRegistry(tools),
            max_steps=max_steps,
            timeouts=timeouts or Timeouts(),
            retry=retry or RetryPolicy(),
            approvals=approvals or Approvals(),
            context=context or ContextKeeper(),
        )

    def with_tools(self, tools: Iterable[Tool | Callable[..., Any]]) -> AgentConfig:
        registry = tools if isinstance(tools, ToolRegistry) else ToolRegistry(tools)
        return replace(self, tools=registry)

    def begin(
        self,
        message: str | None,
        state: AgentState,
        *,
        run_id: str,
        tenant_id: str,
        parts: Sequence[ContentPart] = (),
    ) -> AgentState:
        """The state a run starts from: `state` with this prompt, plus `message` (and
        its attachments' content `parts`)."""
        return state.with_system_prompt(self.system_prompt).begin_run(
            run_id, tenant_id, message, parts
        )
