"""What a user does to conversations, for every surface: send, edit, regenerate
(any answer), switch versions, delete from a message on (and undo), rename, delete
(and undo), export.

`ConversationActions` works on a session's orchestrator and (when history is kept)
its store; it imports no Qt and no aiohttp, so the window, `chat` and `serve` all
call the same code and tests need no widgets. The methods are plain (not
`async`): every step is an in-memory change or one short SQLite write, and a run
they start is returned as its `RunHandle` — call `handle.events(mode)` right
away to watch it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engine.handle import RunHandle
    from ..engine.orchestrator import Orchestrator
    from ..storage import Store
    from ..storage.branches import Cut
    from .attachments import Attachment, AttachmentLimits
    from .projects import Projects
    from .providers import ConnectionConfig

__all__ = ["EXPORT_FORMATS", "ConversationActions", "ConversationBusyError"]

#: `export` formats: Markdown, JSON (the import format).
EXPORT_FORMATS = ("md", "json")


class ConversationBusyError(RuntimeError):
    """The conversation is answering: what was asked would pull the history from
    under the run (stop it first, or wait for the answer)."""


class ConversationActions:
    """Args:
    orchestrator: runs the conversations (each one a tenant).
    store: the history, or None when conversations are not kept (`--no-save`).
    provider_of: the provider a conversation uses (None: the orchestrator's default).
    model_for: the `ChatModel` of a provider other than the default.
    projects: the projects (None without history): a conversation in one gets its
        instructions and the `search_knowledge` tool (or, for a model that cannot call
        tools, the passages matching each message in the system prompt).
    """

    def __init__(
        self,
        orchestrator: Orchestrator,
        store: Store | None,
        *,
        provider_of: Callable[[str], ConnectionConfig | None] | None = None,
        model_for: Callable[[ConnectionConfig], Any] | None = None,
        default_provider: Callable[[], str | None] | None = None,
        projects: Projects | None = None,
    ) -> None:
        self.orchestrator = orchestrator
        self.store = store
        self._provider_of = provider_of
        self._model_for = model_for
        self._default_provider = default_provider
        #: Deleted in this session, most recent last (what `undo_delete` restores).
        self.deleted: list[str] = []
        self.projects = projects
        #: New conversations (not stored yet) that start in a project: id -> project id.
        self.starting_in: dict[str, str] = {}
        self._in_project: set[str] = set()  # configured with a project's tools
        #: Messages cut with `delete_from` in this session, most recent last.
        self.cuts: list[Cut] = []
        #: What `undo` restores, most recent last: "conversation" or "messages".
        self._undo: list[str] = []

    # -- runs -------------------------------------------------------------------------

    def prepare(self, conversation_id: str, message: str | None = None) -> None:
        """Before a run: the stored conversation exists, and the orchestrator has its
        messages (read from the history the first time), its provider and, in a
        project, the project's instructions and search tool (`message`: the user's
        message, for the passages given to a model that cannot call tools)."""
        provider = self._provider_of(conversation_id) if self._provider_of else None
        if self.store is not None:
            if self.store.conversation(conversation_id) is None:
                self.store.ensure_conversation(
                    conversation_id,
                    provider_id=provider.id if provider else None,
                    model=provider.model
                    if provider
                    else getattr(self.orchestrator.model, "model", None),
                    system_prompt=provider.system_prompt
                    if provider
                    else self.orchestrator.config.system_prompt,
                    project_id=self.starting_in.pop(conversation_id, None),
                )
            if conversation_id not in self.orchestrator.tenants():
                self.orchestrator.set_messages(
                    conversation_id, self.store.model_messages(conversation_id)
                )
                self._load_context_settings(conversation_id)
        default = self._default_provider() if self._default_provider else None
        own = not (provider is None or provider.id == default or self._model_for is None)
        model = self._model_for(provider) if own and self._model_for and provider else None
        project = self.projects.project_of(conversation_id) if self.projects else None
        if project is None or self.projects is None:
            if own:
                self.orchestrator.configure(
                    conversation_id,
                    model=model,
                    system_prompt=provider.system_prompt if provider else None,
                )
            else:
                self.orchestrator.configure(conversation_id)
            if conversation_id in self._in_project:  # moved out: the session's tools
                self._in_project.discard(conversation_id)
                self.orchestrator.add_tools(conversation_id, ())
                self.orchestrator.limit_tools(conversation_id, None)
            return
        self._in_project.add(conversation_id)
        self.orchestrator.limit_tools(conversation_id, project.tools)
        base = (
            provider.system_prompt if own and provider else self.orchestrator.config.system_prompt
        )
        prompt = self.projects.system_prompt(base, project)
        if getattr(model or self.orchestrator.model, "supports_tools", True):
            self.orchestrator.add_tools(conversation_id, [self.projects.search_tool(project)])
        else:
            self.orchestrator.add_tools(conversation_id, ())
            context = self.projects.context_for(project, message) if message else ""
            prompt = "\n\n".join(p for p in (prompt, context) if p)
        self.orchestrator.configure(conversation_id, model=model, system_prompt=prompt)

    def _load_context_settings(self, conversation_id: str) -> None:
        """The conversation's own reserve and strategy, if it has them (issue 16)."""
        from ..engine.context import ContextPolicy
        from ..storage.model_requests import context_settings

        assert self.store is not None
        stored = context_settings(self.store, conversation_id)
        if stored is not None:
            try:
                policy = ContextPolicy(
                    reserve=int(stored.get("reserve", 1024)),
                    strategy=str(stored.get("strategy", "summarise")),
                )
            except (TypeError, ValueError):
                return  # a damaged value: the provider's settings apply
            self.orchestrator.context(conversation_id).policy = policy

    def send(
        self,
        conversation_id: str,
        text: str | None,
        attachments: Sequence[Attachment] = (),
        *,
        limits: AttachmentLimits | None = None,
    ) -> RunHandle:
        """Answer `text` (None: answer the conversation as it stands) with its prepared
        `attachments`. Raises `AttachmentError` (too much for one message) or
        `VisionUnsupportedError` (images for a model known to have no vision) before
        anything is sent or stored."""
        parts = []
        if attachments:
            from .attachments import check_message

            check_message(attachments, limits)
            model = self._model_of(conversation_id)
            if any(a.kind == "image" for a in attachments) and (
                getattr(model, "supports_images", True) is False
            ):
                from ..engine.model import VisionUnsupportedError

                raise VisionUnsupportedError(
                    f"The model {getattr(model, 'model', '')!r} cannot see images: send the "
                    "text (and documents) without them, or choose a model with vision."
                )
            for attachment in attachments:
                if self.store is not None:
                    self.store.put_blob(attachment.data, attachment.mime)
                parts.append(attachment.part())
        self.prepare(conversation_id, text or self._last_user_text(conversation_id))
        if parts:
            return self.orchestrator.submit(text or "", tenant_id=conversation_id, parts=parts)
        return self.orchestrator.submit(text, tenant_id=conversation_id)

    def send_without_images(self, conversation_id: str) -> RunHandle | None:
        """After a model refused images: send the last user message again as a new
        version of it, with its text and documents but without its images (the
        refused message stays as the earlier version). None: no user message."""
        messages = list(self.orchestrator.messages(conversation_id))
        if not messages and self.store is not None:
            messages = self.store.model_messages(conversation_id)
        last = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
        if last is None:
            return None
        content = messages[last].get("content")
        text, parts = "", []
        if isinstance(content, list):
            for part in content:
                if part.get("type") == "image_url":
                    continue
                if "attachment" in part:
                    parts.append(part)
                elif part.get("type") == "text":
                    text = str(part.get("text") or "")
        else:
            text = str(content or "")
        stored = None
        if self.store is not None:
            users = [m for m in self.store.path(conversation_id) if m.role == "user"]
            stored = users[-1] if users else None
        if stored is not None:
            self.branch_before(conversation_id, stored.id)
        else:
            self.orchestrator.set_messages(conversation_id, messages[:last])
        self.prepare(conversation_id, text)
        return self.orchestrator.submit(text, tenant_id=conversation_id, parts=parts)

    def _last_user_text(self, conversation_id: str) -> str | None:
        """The text of the conversation's last user message (a regenerated answer
        looks up passages for it)."""
        for message in reversed(self.orchestrator.messages(conversation_id)):
            if message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    return " ".join(
                        str(p.get("text") or "") for p in content if p.get("type") == "text"
                    )
                return str(content or "")
        return None

    def _model_of(self, conversation_id: str) -> Any:
        provider = self._provider_of(conversation_id) if self._provider_of else None
        default = self._default_provider() if self._default_provider else None
        if provider is None or provider.id == default or self._model_for is None:
            return self.orchestrator.model
        return self._model_for(provider)

    def branch_before(self, conversation_id: str, message_id: str) -> bool:
        """Editing the stored user message `message_id`: the conversation continues
        from the message before it, so the next message becomes its new version.
        False when it is not in the history."""
        stored = self.store.message(message_id) if self.store is not None else None
        if self.store is None or stored is None or stored.conversation_id != conversation_id:
            return False
        self.store.set_leaf(conversation_id, stored.parent_id)
        self.orchestrator.set_messages(conversation_id, self.store.model_messages(conversation_id))
        return True

    def edit(self, conversation_id: str, message_id: str, text: str) -> RunHandle:
        """Send `text` as a new version of the user message `message_id`."""
        self.branch_before(conversation_id, message_id)
        return self.send(conversation_id, text)

    def rewind_to(self, conversation_id: str, message_id: str) -> bool:
        """Make the stored user message `message_id` the conversation's last message
        (regenerating its answer adds a new version). False when not stored."""
        stored = self.store.message(message_id) if self.store is not None else None
        if self.store is None or stored is None or stored.conversation_id != conversation_id:
            return False
        self.prepare(conversation_id)
        self.store.set_leaf(conversation_id, stored.id)
        self.orchestrator.set_messages(conversation_id, self.store.model_messages(conversation_id))
        return True

    def regenerate(self, conversation_id: str, message_id: str | None = None) -> RunHandle | None:
        """Answer the last user message again (or the stored one `message_id`); the
        new answer is a new version. None when there is no user message."""
        if message_id is None or not self.rewind_to(conversation_id, message_id):
            messages = list(self.orchestrator.messages(conversation_id))
            last = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
            if last is None:
                return None
            self.orchestrator.set_messages(conversation_id, messages[: last + 1])
        return self.send(conversation_id, None)

    def regenerate_answer(self, conversation_id: str, answer_id: str) -> RunHandle | None:
        """Answer again in place of the stored answer `answer_id` (any answer, not only
        the last): the new answer is a new version under the same parent, and the
        shown path continues with it. None when `answer_id` is not a stored answer
        of this conversation."""
        stored = self.store.message(answer_id) if self.store is not None else None
        if (
            stored is None
            or stored.conversation_id != conversation_id
            or stored.role != "assistant"
            or stored.parent_id is None
        ):
            return None
        if self.orchestrator.busy(conversation_id):
            raise ConversationBusyError("Wait for the answer (or stop it) to regenerate")
        if not self.rewind_to(conversation_id, stored.parent_id):
            return None
        return self.send(conversation_id, None)

    # -- history ----------------------------------------------------------------------

    def delete_from(self, conversation_id: str, message_id: str) -> int:
        """Delete the stored message `message_id` and everything after it (softly:
        `undo` brings them back until the next start). Its other versions stay; the
        conversation then ends at the message before it. Returns how many messages
        went (0: not a stored message of this conversation). Raises
        `ConversationBusyError` while the conversation is answering."""
        from ..storage.branches import cut_from

        stored = self.store.message(message_id) if self.store is not None else None
        if self.store is None or stored is None or stored.conversation_id != conversation_id:
            return 0
        if self.orchestrator.busy(conversation_id):
            raise ConversationBusyError(
                "The conversation is answering: stop it (Esc) before deleting messages"
            )
        cut = cut_from(self.store, message_id)
        if cut is None:
            return 0
        self.cuts.append(cut)
        self._undo.append("messages")
        if conversation_id in self.orchestrator.tenants():  # (else read when it next runs)
            self.orchestrator.set_messages(
                conversation_id, self.store.model_messages(conversation_id)
            )
        return cut.count

    def next_undo(self) -> str | None:
        """What `undo` would restore: "conversation", "messages" or None."""
        return self._undo[-1] if self._undo else None

    def undo(self) -> tuple[str, str] | None:
        """Undo the latest delete (a conversation's or `delete_from`'s): (what,
        conversation id), or None when there is nothing to undo (or it is answering)."""
        what = self.next_undo()
        if what == "conversation":
            restored = self.undo_delete()
            return ("conversation", restored) if restored is not None else None
        if what != "messages" or self.store is None:
            return None
        from ..storage.branches import restore_cut

        cut = self.cuts[-1]
        if self.orchestrator.busy(cut.conversation_id):
            raise ConversationBusyError("Wait for the answer (or stop it) to undo the delete")
        self.cuts.pop()
        self._undo.pop()
        if not restore_cut(self.store, cut):
            return None
        if cut.conversation_id in self.orchestrator.tenants():
            self.orchestrator.set_messages(
                cut.conversation_id, self.store.model_messages(cut.conversation_id)
            )
        return ("messages", cut.conversation_id)

    def switch_version(self, conversation_id: str, message_id: str, step: int) -> bool:
        """Show the previous (-1) or next (+1) version of a message."""
        if self.store is None or self.orchestrator.busy(conversation_id):
            return False
        if self.store.switch_version(message_id, step) is None:
            return False
        self.orchestrator.set_messages(conversation_id, self.store.model_messages(conversation_id))
        return True

    def rename(self, conversation_id: str, title: str) -> None:
        if self.store is not None:
            self.store.rename(conversation_id, title)

    def delete(self, conversation_id: str) -> bool:
        """Delete (hidden at once; `undo_delete` brings it back until the next start);
        a run in it is stopped."""
        if self.store is None:
            return False
        if self.orchestrator.busy(conversation_id):
            self.orchestrator.cancel(conversation_id)
        self.store.delete(conversation_id)
        self.deleted.append(conversation_id)
        self._undo.append("conversation")
        return True

    def undo_delete(self) -> str | None:
        """Restore the conversation deleted last; its id (None: nothing to undo)."""
        if self.store is None or not self.deleted:
            return None
        conversation_id = self.deleted.pop()
        if "conversation" in self._undo:  # (the latest conversation entry)
            del self._undo[len(self._undo) - 1 - self._undo[::-1].index("conversation")]
        self.store.restore(conversation_id)
        return conversation_id

    def export(self, conversation_id: str, fmt: str = "md") -> str:
        """The conversation as Markdown ("md") or JSON ("json", the import format)."""
        from ..storage.export import dumps, to_json, to_markdown

        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"export format must be one of {', '.join(EXPORT_FORMATS)}")
        if self.store is None:
            raise LookupError("conversations are not kept in this session")
        if self.store.conversation(conversation_id) is None:
            raise LookupError(f"no conversation {conversation_id!r}")
        if fmt == "md":
            return to_markdown(self.store, conversation_id)
        return dumps(to_json(self.store, conversation_id)) + "\n"
