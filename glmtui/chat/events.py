"""What a conversation controller tells the front end: typed events, one class per kind.

The TUI draws from them and ``glmtui ask`` prints from them; neither changes a session itself.
Text arrives as many small events (one per stream delta): they are plain frozen dataclasses,
cheap to make, and a subscriber that draws coalesces them into frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from glmtui.api.errors import ApiError
from glmtui.api.request import ChatRequest
from glmtui.chat.keeper import Conflict
from glmtui.domain import Message, Session, Usage
from glmtui.domain.stats import TurnStats
from glmtui.domain.tools import ToolCall

ToolState = Literal[
    "arguments", "waiting", "running", "done", "failed", "denied", "timeout", "cancelled"
]
"""Where a tool call is: its arguments are streaming, it waits for the user's approval, it
runs, or it ended (done; failed, incl. unknown tool or bad arguments; denied; timed out;
cancelled because the turn was stopped)."""


@dataclass(frozen=True, slots=True)
class MessageAdded:
    """A message joined the conversation (the user's prompt, or a reply kept from compare)."""

    message: Message
    index: int


@dataclass(frozen=True, slots=True)
class MessagesRemoved:
    """Messages left the conversation (deleted, or dropped to edit and resend)."""

    messages: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class SessionReplaced:
    """Another session is open now (a new chat, one from the browser, a fork): redraw all."""

    session: Session


@dataclass(frozen=True, slots=True)
class SessionChanged:
    """The open session's title, model, provider, system prompt or parameters changed."""

    session: Session
    model_changed: bool = False


@dataclass(frozen=True, slots=True)
class TurnStarted:
    """A reply is being asked for: ``reply`` (status ``streaming``) was appended."""

    reply: Message
    stats: TurnStats
    request: ChatRequest


@dataclass(frozen=True, slots=True)
class ReasoningAdded:
    """Reasoning text arrived for the streaming reply."""

    reply: Message
    text: str


@dataclass(frozen=True, slots=True)
class ContentAdded:
    """Answer text arrived for the streaming reply."""

    reply: Message
    text: str


@dataclass(frozen=True, slots=True)
class UsageReported:
    """The server reported the reply's token usage."""

    reply: Message
    usage: Usage


@dataclass(frozen=True, slots=True)
class RetryingTurn:
    """The request failed before any text and is tried again after ``delay`` seconds."""

    reply: Message
    reason: str
    delay: float
    attempt: int


@dataclass(frozen=True, slots=True)
class TurnFinished:
    """The reply is complete (``reply.status == "complete"``)."""

    reply: Message
    stats: TurnStats


@dataclass(frozen=True, slots=True)
class TurnFailed:
    """The request failed; what arrived is kept in ``reply`` (status ``error``)."""

    reply: Message
    stats: TurnStats
    error: ApiError


@dataclass(frozen=True, slots=True)
class TurnStopped:
    """The reply was stopped (by the user, or because the program is ending); what arrived is
    kept in ``reply`` (status ``interrupted``)."""

    reply: Message
    stats: TurnStats


@dataclass(frozen=True, slots=True)
class ToolCallUpdated:
    """A tool call of ``reply`` moved on (see :data:`ToolState`).

    ``call`` is the call as far as it arrived (while ``state == "arguments"`` its arguments
    are partial); ``label`` is ``server.tool`` (the wire name for a tool no server offers);
    ``started`` the ``time.monotonic()`` at which it began to run (for a live elapsed time);
    ``result`` the ``role: "tool"`` message once it ended (it is also announced with
    :class:`MessageAdded`).
    """

    reply: Message
    index: int
    call: ToolCall
    state: ToolState
    label: str
    started: float | None = None
    result: Message | None = None


@dataclass(frozen=True, slots=True)
class ToolLimitReached:
    """The model was still calling tools after ``limit`` steps: the loop ended there."""

    reply: Message
    limit: int


@dataclass(frozen=True, slots=True)
class Saved:
    """The session reached the disk again after failed saves (``recovered``)."""

    recovered: bool = True


@dataclass(frozen=True, slots=True)
class SaveFailed:
    """Saving failed; the session is kept in memory and saving retries at the next change."""

    message: str


@dataclass(frozen=True, slots=True)
class SaveConflict:
    """Another program changed or deleted the session's file: ours was saved as a copy, and
    the front end asks what to keep (:meth:`ConversationController.resolve_conflict`)."""

    conflict: Conflict


@dataclass(frozen=True, slots=True)
class CompactionStarted:
    """The model is asked to summarise ``messages`` (see :mod:`glmtui.chat.compaction`).

    The summary streams into ``reply`` as a reply would (its text arrives as
    :class:`ContentAdded` and :class:`ReasoningAdded`), but ``reply`` is not part of the
    conversation: nothing changes unless it completes (:class:`Compacted`; else
    :class:`CompactionAbandoned`). ``reason`` is set when the compaction started by itself,
    before a send (``[compaction] auto_at``), and says why.
    """

    reply: Message
    stats: TurnStats
    request: ChatRequest
    messages: tuple[Message, ...]
    reason: str = ""

    @property
    def auto(self) -> bool:
        """True when the compaction started by itself."""
        return bool(self.reason)


@dataclass(frozen=True, slots=True)
class Compacted:
    """``messages`` were marked compacted and ``summary`` (inserted at ``index``) stands in
    for them in requests; saved. ``before`` and ``after`` estimate the next request's tokens.
    """

    summary: Message
    messages: tuple[Message, ...]
    index: int
    stats: TurnStats
    before: int
    after: int
    auto: bool = False


@dataclass(frozen=True, slots=True)
class CompactionAbandoned:
    """The summary did not complete and nothing changed: ``reason`` says why in a line
    (``stopped``: by the user or because the program is ending; ``error``: the request
    failed; neither: the summary came back empty or cut short, or the conversation changed
    meanwhile)."""

    reply: Message
    stats: TurnStats
    reason: str
    stopped: bool = False
    error: ApiError | None = None


@dataclass(frozen=True, slots=True)
class CompactionUndone:
    """``summary`` was removed and ``messages`` are in requests again; saved."""

    summary: Message
    messages: tuple[Message, ...]


ChatEvent = (
    MessageAdded
    | MessagesRemoved
    | SessionReplaced
    | SessionChanged
    | TurnStarted
    | ReasoningAdded
    | ContentAdded
    | UsageReported
    | RetryingTurn
    | TurnFinished
    | TurnFailed
    | TurnStopped
    | ToolCallUpdated
    | ToolLimitReached
    | Saved
    | SaveFailed
    | SaveConflict
    | CompactionStarted
    | Compacted
    | CompactionAbandoned
    | CompactionUndone
)
"""Everything a controller announces."""
