"""The turn engine: one open conversation, every operation on it, and keeping it on disk.

:class:`ConversationController` owns the :class:`~glmtui.domain.Session`: sending a prompt,
stopping, regenerating (retry), editing and resending, deleting, forking, keeping a reply from
a comparison, changing the model or parameters, renaming, opening another session. It runs the
streaming loop (:func:`stream_reply`) and saves at every point where losing the session would
lose words: the prompt before the request goes out, a checkpoint every few seconds while a
reply streams, and the reply when it ends, however it ends. It announces all of it as typed
events (:mod:`glmtui.chat.events`).

Front ends subscribe and draw; they never change the session themselves. The TUI draws the
events into its widgets; ``glmtui ask`` prints them. No Textual here (an import contract says
so), so turns are tested without a screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from glmtui.api.errors import ApiError
from glmtui.api.request import ChatRequest, ProviderOptions, build_request
from glmtui.chat import compaction
from glmtui.chat.compaction import CompactionPlan
from glmtui.chat.events import (
    ChatEvent,
    Compacted,
    CompactionAbandoned,
    CompactionStarted,
    CompactionUndone,
    ContentAdded,
    MessageAdded,
    MessagesRemoved,
    ReasoningAdded,
    RetryingTurn,
    SaveConflict,
    Saved,
    SaveFailed,
    SessionChanged,
    SessionReplaced,
    ToolCallUpdated,
    ToolLimitReached,
    ToolState,
    TurnFailed,
    TurnFinished,
    TurnStarted,
    TurnStopped,
    UsageReported,
)
from glmtui.chat.keeper import Conflict, SessionKeeper
from glmtui.config import CompactionSettings
from glmtui.domain import Message, Parameters, Session, auto_title
from glmtui.domain.stats import TurnStats, estimate_conversation_tokens
from glmtui.domain.tools import ToolCall, ToolOutcome, not_run_text
from glmtui.tools import ApprovalRequest, ToolError, ToolLoopSettings

if TYPE_CHECKING:
    from glmtui.api.client import ChatClient
    from glmtui.api.events import StreamEvent
    from glmtui.api.toolcalls import ToolCallAssembler
    from glmtui.chat.attachments import Loaded
    from glmtui.domain.attachments import Attachment
    from glmtui.domain.tools import ToolSpec
    from glmtui.store import SessionStore
    from glmtui.tools import Approval, ToolBox

Approver = Callable[[ApprovalRequest], Awaitable["Approval"]]
"""Asks the user whether a call may run (the TUI's dialog; ``ask``'s command-line flags)."""

CHECKPOINT_INTERVAL = 3.0
"""Seconds between saves of a streaming reply (a crash loses at most this much)."""
LARGE_REPLY = 1_000_000
"""A finished reply longer than this (characters) is saved in a thread: megabytes take a few
hundred milliseconds to encode and write, which a front end must not wait for."""


class TurnRefused(Exception):
    """The operation cannot run now; ``str(error)`` says why, in one line for the user."""


@dataclass(frozen=True, slots=True)
class CompareBasis:
    """What a comparison answers again: the conversation up to the last prompt, the reply it
    has now (None when there is none), and where a kept reply goes."""

    history: Session
    existing: Message | None
    index: int


def _ignore(event: ChatEvent) -> None:
    """The default subscriber."""


_STATES: dict[ToolOutcome, ToolState] = {
    "ok": "done",
    "error": "failed",
    "denied": "denied",
    "timeout": "timeout",
    "cancelled": "cancelled",
}
"""The state a call's block ends in, by the outcome of the call."""


def _stopped_here() -> None:
    """The cancellation that :meth:`ConversationController.stop` sent has been handled: the
    task goes on (uncancelled) instead of ending."""
    current = asyncio.current_task()
    if current is not None:
        current.uncancel()


def _label(toolbox: ToolBox | None, wire_name: str) -> str:
    """``server.tool`` for a called function name (the name itself for an unknown tool)."""
    spec = toolbox.find(wire_name) if toolbox is not None and wire_name else None
    return spec.label if spec is not None else wire_name


async def stream_reply(
    client: ChatClient,
    request: ChatRequest,
    reply: Message,
    stats: TurnStats,
    emit: Callable[[ChatEvent], object],
    *,
    content: list[str],
    reasoning: list[str],
    calls: ToolCallAssembler | None = None,
    label: Callable[[str], str] = str,
) -> None:
    """Stream one reply: text into ``content``/``reasoning`` (pieces, joined by the caller),
    counts into ``stats``, the finish reason and model into ``reply``, each piece announced.
    Tool calls are assembled into ``calls`` (each piece announced as a call whose arguments
    are streaming; ``label`` names a call's tool for the user).

    Used for the conversation's own turns and for the replies a comparison streams beside it.
    The stream is closed however this ends (cancelling the task closes the connection).

    Raises:
        ApiError: the request failed; what arrived is already in ``content``/``reasoning``.
    """
    from glmtui.api.events import (  # the stream's events, on first use (startup)
        ContentDelta,
        Finished,
        ReasoningDelta,
        Retrying,
        ToolCallDelta,
        UsageReport,
    )

    stream: AsyncGenerator[StreamEvent, None] = client.stream_chat(request)
    async with contextlib.aclosing(stream):
        async for event in stream:
            if isinstance(event, ContentDelta):
                stats.add(event.text)
                content.append(event.text)
                emit(ContentAdded(reply, event.text))
            elif isinstance(event, ReasoningDelta):
                stats.add(event.text, reasoning=True)
                reasoning.append(event.text)
                emit(ReasoningAdded(reply, event.text))
            elif isinstance(event, UsageReport):
                stats.usage = event.usage
                emit(UsageReported(reply, event.usage))
            elif isinstance(event, Retrying):
                emit(RetryingTurn(reply, event.reason, event.delay, event.attempt))
            elif isinstance(event, ToolCallDelta):
                if calls is not None:
                    position = calls.add(event)
                    call = calls.call(position)
                    emit(ToolCallUpdated(reply, position, call, "arguments", label(call.name)))
            elif isinstance(event, Finished):
                reply.finish_reason = event.finish_reason
                reply.model = event.model or reply.model


class ConversationController:
    """One open conversation and every operation on it (see the module docstring).

    Args:
        session: The conversation to start with (a new one, or one loaded from disk).
        client: Gives the API client for the open session's next request (the front end
            decides where a session may send; see :func:`glmtui.chat.endpoints.route_session`).
        thinking_style: Gives the provider's thinking switch for the open session.
        store: Gives the session store, or None: nothing is saved. Called when first needed.
        on_event: Called with every :data:`~glmtui.chat.events.ChatEvent`, in order.
        checkpoint_every: Seconds between saves while a reply streams (default
            :data:`CHECKPOINT_INTERVAL`).
        options: Gives what the open session's provider wants beyond the thinking switch.
        tools: Gives the tools the open session may offer (None: none; the request carries
            no ``tools``).
        approve: Asks whether a call its tool box does not allow may run; None denies them.
        tool_settings: The tool loop's step limit and call timeout.
    """

    def __init__(
        self,
        session: Session,
        *,
        client: Callable[[Session], ChatClient],
        thinking_style: Callable[[Session], str] = lambda session: "none",
        store: Callable[[], SessionStore | None] | None = None,
        on_event: Callable[[ChatEvent], None] = _ignore,
        checkpoint_every: float | None = None,
        options: Callable[[Session], ProviderOptions] = lambda session: ProviderOptions(),
        tools: Callable[[Session], ToolBox | None] = lambda session: None,
        approve: Approver | None = None,
        tool_settings: ToolLoopSettings | None = None,
    ) -> None:
        self._session = session
        self._client = client
        self._thinking_style = thinking_style
        self._options = options
        self._tools = tools
        self._approve = approve
        self.tool_settings = tool_settings or ToolLoopSettings()
        """The tool loop's limits (a front end may change them between turns)."""
        self._emit = on_event
        self._checkpoint_every = checkpoint_every or CHECKPOINT_INTERVAL
        self.keeper = SessionKeeper(
            store or (lambda: None),
            on_error=lambda message: self._emit(SaveFailed(message)),
            on_saved=lambda: self._emit(Saved()),
            on_conflict=lambda conflict: self._emit(SaveConflict(conflict)),
        )
        """Writes the session in order, reports failures, and never overwrites outside
        changes (see :class:`~glmtui.chat.keeper.SessionKeeper`)."""
        if session.messages:  # one with nothing in it was never saved: no file to adopt,
            self.keeper.adopt(session)  # and no store to open before the first frame
        self._task: asyncio.Task[object] | None = None
        self._stopping = False
        self._reply: Message | None = None
        self._stats: TurnStats | None = None
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._looping = False
        """True from a prompt's first request until its tool loop ends."""
        self._blobs: dict[str, bytes] = {}
        """Binary attachments sent in this run, by content hash."""
        self._idle = asyncio.Event()
        """Set while no turn runs."""
        self._idle.set()

    # --- state ---------------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        """The open conversation (read it; change it only through this controller)."""
        return self._session

    @property
    def generating(self) -> bool:
        """True while a turn runs: a reply streams, or its tool calls wait or run."""
        return self._reply is not None or self._looping

    @property
    def stats(self) -> TurnStats | None:
        """The streaming reply's live numbers, while one streams."""
        return self._stats

    @property
    def live_reply(self) -> Message | None:
        """The reply that streams now, if any."""
        return self._reply

    @property
    def unsaved(self) -> bool:
        """True while the latest changes are only in memory (the last save failed)."""
        return self.keeper.unsaved

    @property
    def path(self) -> Path | None:
        """The file the open session was last saved to (None before its first save)."""
        return self.keeper.path_of(self._session.id)

    def request_for(
        self, draft: str = "", files: Sequence[Loaded] = (), *, preview: bool = True
    ) -> ChatRequest:
        """Exactly what sending ``draft`` (with ``files``) now would send (the conversation
        when it is blank): the request preview and the exported cURL/Python are this. With
        ``preview``, binary attachments are placeholders naming the file (nothing is read).

        Raises:
            OSError: (``preview=False``) an attachment's bytes could not be read.
        """
        session = self._session
        messages = list(session.messages)
        if draft.strip() or files:
            messages.append(Message("user", draft, attachments=tuple(f.attachment for f in files)))
        upcoming = replace(session, messages=messages)
        for loaded in files:
            if loaded.data is not None:
                self._blobs[loaded.attachment.sha256] = loaded.data
        return self._request(upcoming, self._tools(session), preview=preview)

    def _request(
        self, history: Session, toolbox: ToolBox | None, *, preview: bool = False
    ) -> ChatRequest:
        offered = tuple(spec.to_wire() for spec in toolbox.tools()) if toolbox else ()
        return build_request(
            history,
            thinking_style=self._thinking_style(history),
            options=self._options(history),
            tools=offered,
            blobs=None if preview else self._blob,
        )

    def _blob(self, attachment: Attachment) -> bytes:
        """A binary attachment's bytes: sent in this run (kept in memory), or from the store.

        Raises:
            OSError: it is in neither (its file under the data folder is gone).
        """
        data = self._blobs.get(attachment.sha256)
        if data is not None:
            return data
        store = self.keeper.store
        if store is None:
            raise FileNotFoundError(f"the content of {attachment.name} is not kept in this mode")
        return store.read_blob(attachment.sha256)

    # --- turns ---------------------------------------------------------------------------------

    def check_can_send(self) -> None:
        """Raise :class:`TurnRefused` (its text says why and what to do) if no turn may start
        now; a front end calls it before it clears the composer, so a refused prompt stays."""
        if self._looping and self._reply is None:
            raise TurnRefused("A tool call is still running. Press Esc to stop it, then send.")
        if self.generating:
            raise TurnRefused("A reply is still streaming. Press Esc to stop it, then send.")
        if self._session.read_only:
            raise TurnRefused(
                "This session is read-only (saved by a newer glmtui). Duplicate it in the "
                "session browser (Ctrl+O, c) to continue it."
            )

    async def send(self, text: str, files: Sequence[Loaded] = ()) -> Message:
        """Add ``text`` (with ``files`` attached) as the next prompt, save, and stream the
        reply to it. Binary attachments are stored by content hash first (the session file
        names them; see :meth:`glmtui.store.SessionStore.put_blob`).

        Returns:
            The reply, however it ended (its ``status`` says how).

        Raises:
            TurnRefused: a reply is streaming already, or the session is read-only.
        """
        self.check_can_send()
        session = self._session
        self._check_blobs(files)
        self._keep_blobs(files)
        message = Message("user", text, attachments=tuple(f.attachment for f in files))
        session.messages.append(message)
        if not session.title:  # a prompt that is only attachments is titled by their names
            names = ", ".join(loaded.attachment.name for loaded in files)
            session.title = auto_title(text if text.strip() else names)
        session.touch()
        self._emit(MessageAdded(message, len(session.messages) - 1))
        self.keeper.save_now(session)  # on disk before the request goes out
        return await self._turn()

    def _check_blobs(self, files: Sequence[Loaded] = ()) -> None:
        """Refuse to send a conversation whose binary attachments are gone (their files under
        the data folder were deleted), earlier ones or ``files`` without their bytes: the
        request could not carry them.

        Raises:
            TurnRefused: naming the missing attachments and what to do.
        """
        store = self.keeper.store
        attached = [a for m in self._session.messages if not m.compacted for a in m.attachments]
        attached += [loaded.attachment for loaded in files if loaded.data is None]
        missing = [
            attachment.name
            for attachment in attached
            if attachment.binary
            and attachment.sha256 not in self._blobs
            and (store is None or not store.has_blob(attachment.sha256))
        ]
        if missing:
            raise TurnRefused(
                f"Cannot send: the content of {', '.join(dict.fromkeys(missing))} (attached "
                "earlier) is no longer in the data folder. Delete or edit the message it came "
                "with, or fork the chat from before it."
            )

    def _keep_blobs(self, files: Sequence[Loaded]) -> None:
        """Binary attachments' bytes: in memory for this run, and in the store (if saving).

        Raises:
            StoreError: the store could not write one (the prompt is not sent).
        """
        store = self.keeper.store
        for loaded in files:
            if loaded.data is None:
                continue
            self._blobs[loaded.attachment.sha256] = loaded.data
            if store is not None:
                store.put_blob(loaded.data)

    async def regenerate(self) -> Message:
        """Drop the last reply and ask again (also: retry after an error).

        Raises:
            TurnRefused: streaming already, read-only, no prompt to answer, or an attachment
                it would resend is gone.
        """
        self.check_can_send()
        self._check_blobs()
        messages = self._session.messages
        if not messages:
            raise TurnRefused("Nothing to regenerate yet.")
        prompts = [i for i, message in enumerate(messages) if message.role == "user"]
        if prompts and messages[-1].role in ("assistant", "tool"):
            self._remove(messages[prompts[-1] + 1 :])  # the reply, with its tool loop
        if not messages or messages[-1].role != "user":
            raise TurnRefused("The last message is not a prompt; send one first.")
        return await self._turn()

    retry = regenerate

    async def edit_and_resend(
        self, message: Message, text: str, files: Sequence[Loaded] = ()
    ) -> Message:
        """Replace the prompt ``message`` and everything after it with ``text``, and send:
        with the prompt's own attachments, then ``files``.

        Raises:
            TurnRefused: streaming already, read-only, or an attachment is gone.
        """
        from glmtui.chat.attachments import Loaded

        self.check_can_send()
        kept = [Loaded(attachment) for attachment in message.attachments]
        self._check_blobs([*kept, *files])
        messages = self._session.messages
        if message in messages:
            self._remove(messages[messages.index(message) :])
        return await self.send(text, [*kept, *files])

    def stop(self) -> None:
        """Stop the turn: a streaming reply keeps what arrived, marked ``interrupted``; a tool
        call that runs is cancelled, and the calls not run yet are answered as not run."""
        if self._task is not None and self.generating:
            self._stopping = True
            self._task.cancel()

    async def _turn(self) -> Message:
        """Ask for a reply; while it calls tools, run them and ask again (the tool loop)."""
        toolbox = self._tools(self._session)
        self._task, self._stopping = asyncio.current_task(), False
        self._looping = True
        self._idle.clear()
        try:
            await self._auto_compact()  # before a request too large for the context window
            steps = 0
            while True:
                reply = await self._step(toolbox)
                if reply.status != "complete" or not reply.tool_calls or toolbox is None:
                    return reply
                if not await self._run_calls(reply, toolbox):
                    return reply  # stopped
                steps += 1
                if steps >= self.tool_settings.max_steps:
                    self._emit(ToolLimitReached(reply, self.tool_settings.max_steps))
                    return reply
        finally:
            self._looping = False
            self._task = None
            self._idle.set()

    async def _step(self, toolbox: ToolBox | None) -> Message:
        """Append a reply to the conversation and stream it, saving as it goes."""
        from glmtui.api.toolcalls import ToolCallAssembler

        session = self._session
        reply = Message("assistant", "", status="streaming", model=session.model)
        history = replace(session, messages=list(session.messages))
        request = self._request(history, toolbox)
        session.messages.append(reply)
        stats = self._begin_stream(reply, history)
        calls = ToolCallAssembler()
        self._emit(TurnStarted(reply, stats, request))
        checkpoints = asyncio.create_task(self._checkpoints(reply))
        error: ApiError | None = None
        ending = False  # cancelled from outside: the program is ending (or Ctrl-C)
        try:
            await stream_reply(
                self._client(session),
                request,
                reply,
                stats,
                self._emit,
                content=self._content,
                reasoning=self._reasoning,
                calls=calls,
                label=lambda name: _label(toolbox, name),
            )
            reply.status = "complete"
        except ApiError as failure:
            error = failure
            reply.status, reply.error = "error", failure.describe()
        except asyncio.CancelledError:
            reply.status = "interrupted"
            ending = not self._stopping
            if ending:
                raise  # finish below (keep and save what arrived), then go on ending
            _stopped_here()  # stopped by stop(): the turn ends here, normally
        finally:
            checkpoints.cancel()
            if reply.status == "streaming":  # some other exception (e.g. a closed pipe)
                reply.status = "interrupted"
            reply.tool_calls = tuple(call for call in calls.calls() if call.name)
            await self._end_turn(reply, stats, error, in_thread=not ending)
        return reply

    async def _end_turn(
        self, reply: Message, stats: TurnStats, error: ApiError | None, *, in_thread: bool
    ) -> None:
        """Keep what arrived, save it, and say how the turn ended."""
        stats.finish()
        self._materialize(reply)
        if stats.first_token_at is not None or stats.usage is not None:
            reply.usage = stats.final_usage()
        self._session.touch()
        self._reply, self._stats = None, None
        if in_thread and len(reply.content) > LARGE_REPLY:
            await self.keeper.save_soon(self._session)
        else:
            self.keeper.save_now(self._session)
        if reply.status == "complete":
            self._emit(TurnFinished(reply, stats))
        elif error is not None:
            self._emit(TurnFailed(reply, stats, error))
        else:
            self._emit(TurnStopped(reply, stats))

    def _begin_stream(
        self, reply: Message, history: Session, stats: TurnStats | None = None
    ) -> TurnStats:
        """``reply`` is the one that streams now (a turn's or a summary's), its numbers
        started from the size of ``history``."""
        stats = stats or TurnStats()
        stats.start(estimate_conversation_tokens(history.messages, history.system_prompt))
        self._reply, self._stats = reply, stats
        self._content, self._reasoning = [], []
        return stats

    def _materialize(self, reply: Message) -> None:
        """The streaming reply's text so far, into the message (joined only when saved)."""
        reply.content = "".join(self._content)
        reply.reasoning = "".join(self._reasoning)

    async def _checkpoints(self, reply: Message) -> None:
        """Save the streaming reply every few seconds (on disk as ``interrupted`` until it
        ends, so a crash keeps it, marked)."""
        while True:
            await asyncio.sleep(self._checkpoint_every)
            if self._reply is not reply:
                return
            self._materialize(reply)
            await self.keeper.save_soon(self._session)

    async def wait(self) -> None:
        """Until no turn runs (e.g. after :meth:`stop`)."""
        await self._idle.wait()

    # --- tool calls ----------------------------------------------------------------------------

    async def _run_calls(self, reply: Message, toolbox: ToolBox) -> bool:
        """Run ``reply``'s calls in order, each answered by a tool message; False if stopped.

        Every call gets an answer, also when the turn is stopped (the rest are answered as
        not run) or the program ends, so the history stays one a server accepts.
        """
        calls = reply.tool_calls
        for index, call in enumerate(calls):
            try:
                await self._run_call(reply, index, call, toolbox)
            except asyncio.CancelledError:
                for later in range(index, len(calls)):
                    self._answer(reply, later, calls[later], "cancelled", not_run_text("cancelled"))
                self.keeper.save_now(self._session)
                if not self._stopping:
                    raise  # the program is ending
                _stopped_here()
                return False
        return True

    async def _run_call(self, reply: Message, index: int, call: ToolCall, toolbox: ToolBox) -> None:
        spec = toolbox.find(call.name)
        if spec is None:
            offered = ", ".join(s.wire_name or s.name for s in toolbox.tools()) or "none"
            text = f"Error: there is no tool named {call.name!r}. Tools available: {offered}."
            self._answer(reply, index, call, "error", text)
            return
        try:
            arguments = call.parsed_arguments()
        except ValueError as problem:
            text = f"Error: {problem}. Call {spec.wire_name or spec.name} again with valid JSON."
            self._answer(reply, index, call, "error", text, spec)
            return
        if not toolbox.is_allowed(spec):
            self._emit(ToolCallUpdated(reply, index, call, "waiting", spec.label))
            decision: Approval = "deny"
            if self._approve is not None:
                decision = await self._approve(ApprovalRequest(spec, call, arguments))
            if decision == "deny":
                self._answer(reply, index, call, "denied", not_run_text("denied"), spec)
                return
            if decision == "always":
                toolbox.allow_always(spec)
        started = time.monotonic()
        self._emit(ToolCallUpdated(reply, index, call, "running", spec.label, started))
        timeout = toolbox.timeout_for(spec) or self.tool_settings.timeout
        try:
            try:
                async with asyncio.timeout(timeout):
                    result = await toolbox.call(spec, arguments)
            except TimeoutError:
                text = not_run_text("timeout", f"{timeout:g} s")
                self._answer(reply, index, call, "timeout", text, spec, started)
                return
            except ToolError as failure:
                self._answer(reply, index, call, "error", f"Error: {failure}", spec, started)
                return
        except asyncio.CancelledError:
            self._answer(reply, index, call, "cancelled", not_run_text("cancelled"), spec, started)
            raise
        outcome: ToolOutcome = "error" if result.is_error else "ok"
        self._answer(reply, index, call, outcome, result.text, spec, started)

    def _answer(
        self,
        reply: Message,
        index: int,
        call: ToolCall,
        outcome: ToolOutcome,
        text: str,
        spec: ToolSpec | None = None,
        started: float | None = None,
    ) -> None:
        """Add the tool message that answers ``call`` (once), save, and announce it."""
        session = self._session
        if any(m.role == "tool" and m.tool_call_id == call.id for m in session.messages):
            return  # answered already (cancelled while its answer was being added)
        label = spec.label if spec is not None else call.name
        duration = round((time.monotonic() - started) * 1000) if started is not None else None
        message = Message(
            "tool",
            text,
            tool_call_id=call.id,
            tool_name=label,
            tool_outcome=outcome,
            duration_ms=duration,
        )
        session.messages.append(message)
        session.touch()
        self.keeper.save_now(session)
        state: ToolState = _STATES[outcome]
        self._emit(ToolCallUpdated(reply, index, call, state, label, started, message))
        self._emit(MessageAdded(message, len(session.messages) - 1))

    # --- the conversation ---------------------------------------------------------------------

    def _remove(self, messages: list[Message]) -> None:
        session = self._session
        gone = tuple(m for m in messages if m in session.messages)
        if not gone:
            return
        session.messages[:] = [m for m in session.messages if m not in gone]
        session.touch()
        self.keeper.save_now(session)
        self._emit(MessagesRemoved(gone))

    async def delete(self, message: Message) -> None:
        """Remove one message (stopping it first if it is the reply that streams)."""
        if message is self._reply:
            self.stop()
            await self.wait()
        self._remove([message])

    def fork(self, message: Message) -> Session:
        """Continue in a copy of the conversation that ends at ``message`` (saved; opened).

        Raises:
            TurnRefused: nothing is saved in this mode, or ``message`` is not in the session.
            StoreError: the copy could not be written.
        """
        store = self.keeper.store
        messages = self._session.messages
        if store is None:
            raise TurnRefused("Sessions are not saved in this mode.")
        if message not in messages:
            raise TurnRefused("That message is not in this conversation.")
        self.keeper.save_now(self._session)
        fork = store.fork(self._session, messages.index(message))
        self._open(fork)
        return fork

    def compare_basis(self) -> CompareBasis:
        """The last prompt, the conversation up to it, and its reply now.

        Raises:
            TurnRefused: a reply streams, or there is no prompt yet.
        """
        if self.generating:
            raise TurnRefused("Wait for the reply to finish (or stop it with Esc).")
        messages = self._session.messages
        prompts = [index for index, message in enumerate(messages) if message.role == "user"]
        if not prompts:
            raise TurnRefused("Send a prompt first; compare answers it again.")
        last = prompts[-1]
        history = replace(self._session, messages=list(messages[: last + 1]))
        following = messages[last + 1] if last + 1 < len(messages) else None
        existing = following if following is not None and following.role == "assistant" else None
        return CompareBasis(history, existing, last + 1)

    def keep_reply(self, basis: CompareBasis, reply: Message) -> None:
        """Make ``reply`` (from a comparison) the answer to the prompt ``basis`` was made for."""
        messages = self._session.messages
        if reply is basis.existing:
            return
        if basis.existing is not None and basis.existing in messages:
            index = messages.index(basis.existing)
            self._remove([basis.existing])
        else:
            index = min(basis.index, len(messages))
        messages.insert(index, reply)
        self._session.touch()
        self.keeper.save_now(self._session)
        self._emit(MessageAdded(reply, index))

    # --- settings of the conversation -----------------------------------------------------------

    def configure(
        self,
        *,
        provider: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        """Change where and how the next request is sent; saved with the session."""
        session = self._session
        old_model = session.model
        changes = {
            "provider": provider,
            "base_url": base_url,
            "model": model,
            "system_prompt": system_prompt,
            "parameters": parameters,
        }
        changed = False
        for name, value in changes.items():
            if value is not None and getattr(session, name) != value:
                setattr(session, name, value)
                changed = True
        if not changed:
            return
        session.touch()
        self.keeper.save_now(session)
        self._emit(SessionChanged(session, model_changed=session.model != old_model))

    def rename(self, title: str) -> None:
        """Give the session a new title."""
        title = " ".join(title.split())
        if not title or title == self._session.title:
            return
        self._session.title = title
        self._session.touch()
        self.keeper.save_now(self._session)
        self._emit(SessionChanged(self._session))

    def save(self) -> bool:
        """Save now (e.g. before the session browser opens); False when it failed."""
        return self.keeper.save_now(self._session)

    async def open(self, session: Session) -> None:
        """Show another conversation here (stopping a turn that runs; this one is saved)."""
        if self.generating:
            self.stop()
            await self.wait()
        self.keeper.save_now(self._session)
        self._open(session)

    def _open(self, session: Session) -> None:
        self._session = session
        self.keeper.adopt(session)  # forgets the file of the session that was open
        self._emit(SessionReplaced(session))

    # --- when another program changed the file --------------------------------------------------

    def use_mine(self, conflict: Conflict) -> bool:
        """Write this conversation over the other version (or again, if it was deleted)."""
        done = self.keeper.use_mine(self._session, conflict)
        if done:
            self._emit(SessionChanged(self._session))
        return done

    def discard_copy(self, conflict: Conflict) -> None:
        """Move the copy made when the conflict was found to the trash."""
        self.keeper.discard_copy(conflict)

    # --- compaction ----------------------------------------------------------------------------
    # Which messages, the request and the summary message: glmtui.chat.compaction. Here: the
    # turn that streams the summary, and what changes (only once it completed).

    compaction_settings: CompactionSettings = CompactionSettings()
    """What a compaction keeps, its instruction, and when one starts by itself before a send
    (a front end sets it from the config; the default never compacts by itself)."""
    context_limit: Callable[[], int | None] | None = None
    """Gives the model's context window in tokens (None: unknown); automatic compaction
    needs it (a front end sets it: it knows the model's card)."""

    def check_can_compact(self) -> None:
        """Raise :class:`TurnRefused` (its text says why) if no compaction (or undo) may
        start now: a turn runs, or the session is read-only."""
        if self._looping and self._reply is None:
            raise TurnRefused("A tool call is still running. Press Esc to stop it first.")
        if self.generating:
            raise TurnRefused("A reply is still streaming. Press Esc to stop it first.")
        if self._session.read_only:
            raise TurnRefused(
                "This session is read-only (saved by a newer glmtui): it cannot be compacted. "
                "Duplicate it in the session browser (Ctrl+O, c) to continue it."
            )

    def compaction_plan(self, keep: int | None = None) -> CompactionPlan:
        """What compacting now would replace, keeping the last ``keep`` exchanges (None: the
        setting's).

        Raises:
            TurnRefused: there is nothing to compact.
        """
        keep = self.compaction_settings.keep if keep is None else keep
        try:
            return compaction.plan_compaction(self._session.messages, keep)
        except compaction.CompactionRefused as refused:
            raise TurnRefused(str(refused)) from None

    async def compact(self, keep: int | None = None) -> Message | None:
        """Summarise the conversation before its last ``keep`` exchanges (None: the setting's)
        into one message that replaces them in requests.

        The summary streams like a reply (same client, model and parameters; no tools). Only
        when it completes are the messages marked ``compacted``, the summary inserted after
        them, the session saved and :class:`~glmtui.chat.events.Compacted` announced; stopped
        (:meth:`stop`), failed, empty or cut short, nothing changes.

        Returns:
            The summary message, or None when it did not complete (the event says why).

        Raises:
            TurnRefused: a turn runs, the session is read-only, there is nothing to compact,
                or an attachment it would summarise is gone.
        """
        self.check_can_compact()
        plan = self.compaction_plan(keep)
        self._check_blobs()
        self._task, self._stopping = asyncio.current_task(), False
        self._idle.clear()
        try:
            return await self._summarise(plan)
        finally:
            self._task = None
            self._idle.set()

    def undo_compaction(self, summary: Message | None = None) -> tuple[Message, ...]:
        """Undo the latest compaction: its summary is removed and the messages it replaced
        are in requests again (the request is exactly the one before it). Saved.

        Only the latest compaction (the summary in requests now) can be undone: a later
        compaction summarised the earlier summary with the rest, so undoing them one at a
        time, newest first, walks back through them.

        Args:
            summary: The summary the user chose (None: the latest); any other than the latest
                is refused.

        Returns:
            The messages brought back.

        Raises:
            TurnRefused: a turn runs, the session is read-only, there is no compaction, or
                ``summary`` is not the latest.
        """
        self.check_can_compact()
        session = self._session
        latest = compaction.live_summary(session.messages)
        if latest is None:
            raise TurnRefused("Nothing to undo: this conversation has no compaction.")
        if summary is not None and summary is not latest:
            raise TurnRefused("Only the latest compaction can be undone: undo that one first.")
        replaced = set(latest.summary_of)
        restored = tuple(m for m in session.messages if m.id in replaced and m is not latest)
        for message in restored:
            message.compacted = False
        session.messages[:] = [m for m in session.messages if m is not latest]
        session.touch()
        self.keeper.save_now(session)
        self._emit(CompactionUndone(latest, restored))
        return restored

    async def _auto_compact(self) -> None:
        """Compact before this turn's request when that request would fill more than
        ``compaction_settings.auto_at`` of the context window (announced with the reason).

        Called as a turn starts, after its prompt was added, so the estimate holds the prompt
        and the compaction keeps it (at least one exchange is kept). Stopping the summary
        (Esc) stops only the compaction: the reply is then asked for with the whole
        conversation, and Esc again stops that.
        """
        share = self.compaction_settings.auto_at
        limit = self.context_limit() if share > 0 and self.context_limit is not None else None
        if not limit:
            return
        session = self._session
        estimate = compaction.request_estimate(session)
        if estimate <= share * limit:
            return
        try:
            plan = compaction.plan_compaction(
                session.messages, max(1, self.compaction_settings.keep)
            )
        except compaction.CompactionRefused:
            return  # one long exchange: nothing before it to summarise
        reason = (
            f"The next request holds about {estimate:,} tokens, {estimate / limit:.0%} of the "
            f"model's {limit:,}-token context window ([compaction] auto_at = {share:g}): "
            f"compacting {plan.shown} earlier messages first."
        )
        await self._summarise(plan, reason=reason)

    async def _summarise(self, plan: CompactionPlan, *, reason: str = "") -> Message | None:
        """Stream the summary of ``plan``'s messages and, once it completed, compact them.

        The caller has set the task :meth:`stop` cancels. Stopped by the user, this returns
        None; cancelled from outside (the program is ending) it raises again; in both cases,
        and when the request fails, nothing changes.
        """
        session = self._session
        history = compaction.summary_history(session, plan, self.compaction_settings.instruction)
        reply = Message("assistant", "", status="streaming", model=session.model)
        stats = TurnStats()
        try:
            request = self._request(history, None)
        except OSError as problem:
            self._emit(CompactionAbandoned(reply, stats, f"Cannot compact: {problem}."))
            return None
        stats = self._begin_stream(reply, history, stats)
        self._emit(CompactionStarted(reply, stats, request, plan.messages, reason))
        try:
            await stream_reply(
                self._client(session),
                request,
                reply,
                stats,
                self._emit,
                content=self._content,
                reasoning=self._reasoning,
            )
        except ApiError as failure:
            self._end_summary(reply, stats)
            why = f"The summary failed, nothing changed: {failure.describe()}"
            self._abandon(reply, stats, why, error=failure)
            return None
        except asyncio.CancelledError:
            self._end_summary(reply, stats)
            ending = not self._stopping
            self._abandon(reply, stats, "Compaction stopped; nothing changed.", stopped=True)
            if ending:
                raise  # the program is ending
            _stopped_here()  # stopped by stop(): the compaction ends here
            self._stopping = False  # a turn that goes on can be stopped (or end) again
            return None
        finally:
            self._end_summary(reply, stats)  # also after any other exception
        return self._apply(plan, reply, stats, session, auto=bool(reason))

    def _end_summary(self, reply: Message, stats: TurnStats) -> None:
        """The summary stream ended (however): no reply streams now; its text is kept."""
        if self._reply is reply:
            self._reply, self._stats = None, None
            stats.finish()
            self._materialize(reply)

    def _apply(
        self,
        plan: CompactionPlan,
        reply: Message,
        stats: TurnStats,
        session: Session,
        *,
        auto: bool,
    ) -> Message | None:
        """The summary completed: mark the messages, insert the summary after them, save."""
        text = reply.content.strip()
        why = ""
        if reply.finish_reason not in (None, "stop"):
            why = (
                f"The summary was cut short ({reply.finish_reason}); nothing changed. "
                "Raise max_tokens, or keep more exchanges (/compact N)."
            )
        elif not text:
            why = "The model wrote an empty summary; nothing changed."
        elif self._session is not session or not {id(m) for m in plan.messages} <= {
            id(m) for m in session.messages
        }:
            why = "The conversation changed while it was summarised; nothing changed."
        if why:
            self._abandon(reply, stats, why)
            return None
        messages = session.messages
        reported = stats.first_token_at is not None or stats.usage is not None
        usage = stats.final_usage() if reported else None
        summary = compaction.summary_message(text, plan, model=reply.model, usage=usage)
        before = compaction.request_estimate(session)
        for message in plan.messages:
            message.compacted = True
        last = plan.messages[-1]
        index = next(i for i, message in enumerate(messages) if message is last) + 1
        messages.insert(index, summary)
        session.touch()
        self.keeper.save_now(session)
        after = compaction.request_estimate(session)
        self._emit(Compacted(summary, plan.messages, index, stats, before, after, auto))
        return summary

    def _abandon(
        self,
        reply: Message,
        stats: TurnStats,
        reason: str,
        *,
        stopped: bool = False,
        error: ApiError | None = None,
    ) -> None:
        """Say that the summary did not complete (nothing changed)."""
        reply.status = "interrupted" if stopped else "error"
        reply.error = reason
        self._emit(CompactionAbandoned(reply, stats, reason, stopped, error))
