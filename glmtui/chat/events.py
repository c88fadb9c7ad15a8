"""What a conversation controller tells the front end: typed events, one class per kind.

The TUI draws from them and ``glmtui ask`` prints from them; neither changes a session itself.
Text arrives as many small events (one per stream delta): they are plain frozen dataclasses,
cheap to make, and a subscriber that draws coalesces them into frames.
"""

from __future__ import annotations

from dataclasses import dataclass

from glmtui.api.errors import ApiError
from glmtui.api.request import ChatRequest
from glmtui.chat.keeper import Conflict
from glmtui.domain import Message, Session, Usage
from glmtui.domain.stats import TurnStats


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
    | Saved
    | SaveFailed
    | SaveConflict
)
"""Everything a controller announces."""
