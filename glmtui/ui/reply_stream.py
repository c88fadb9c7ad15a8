"""Feeding a streamed reply into what shows it: one loop for the chat and for compare."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from glmtui.api.events import (
    ContentDelta,
    Finished,
    ReasoningDelta,
    Retrying,
    StreamEvent,
    UsageReport,
)

if TYPE_CHECKING:
    from glmtui.domain import Message
    from glmtui.domain.stats import TurnStats
    from glmtui.ui.items import ReplyItem
    from glmtui.ui.widgets.conversation import ConversationView


async def stream_into(
    stream: AsyncGenerator[StreamEvent, None],
    reply: Message,
    item: ReplyItem,
    stats: TurnStats,
    view: ConversationView,
    *,
    waiting: str = "",
) -> None:
    """Consume ``stream``: text into ``item`` (drawn at the view's next frame), counts into
    ``stats``, the finish reason and model into ``reply``. The stream is closed however this
    ends (a stop cancels the task, which closes the connection).

    Args:
        waiting: A note shown under the reply's spinner until text arrives (a reply that is
            not streamed says what it waits for instead of waiting silently).

    Raises:
        ApiError: the request failed; what arrived is already in ``item``.
    """
    if waiting:
        item.retry_note = waiting  # cleared by the first text, as a retry's note is
        view.changed(item)
    async with contextlib.aclosing(stream):
        async for event in stream:
            if isinstance(event, ContentDelta):
                stats.add(event.text)
                item.append_content(event.text)
                view.changed(item)
            elif isinstance(event, ReasoningDelta):
                stats.add(event.text, reasoning=True)
                item.append_reasoning(event.text)
                view.changed(item)
            elif isinstance(event, UsageReport):
                stats.usage = event.usage
            elif isinstance(event, Retrying):
                item.retry_note = f"{event.reason} Retrying in {event.delay:.0f} s…"
                view.changed(item)
            elif isinstance(event, Finished):
                reply.finish_reason = event.finish_reason
                reply.model = event.model or reply.model
