"""Typed events produced by a streaming chat request.

The UI and the CLI consume these instead of raw chunks, so neither knows about SSE, JSON or
provider quirks (reasoning field names, inline ``<think>`` tags, usage-only chunks).
"""

from __future__ import annotations

from dataclasses import dataclass

from glmtui.domain import Usage


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning ("thinking") text."""

    text: str


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """A piece of the answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a tool call: the first piece names it, later pieces extend its JSON arguments."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Token usage for the request, usually sent once near the end of the stream."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class Retrying:
    """A request failed before any output and will be retried after ``delay`` seconds.

    Lets a UI say "rate limited, retrying in 4 s" instead of looking frozen.
    """

    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class Finished:
    """The reply is complete. ``finish_reason`` is shown verbatim when it is not ``stop``."""

    finish_reason: str | None
    model: str | None = None


StreamEvent = ReasoningDelta | ContentDelta | ToolCallDelta | UsageReport | Retrying | Finished
"""Everything :meth:`glmtui.api.client.ChatClient.stream_chat` can yield."""
