"""Drawing a streaming reply: the controller's events for one reply, into its item.

The text (and the tool calls, as their arguments arrive) is appended to the
:class:`~glmtui.ui.items.ReplyItem` and the view is told the item changed; the view draws at
its next frame, so a burst of deltas costs one frame, not one per token. Shared by the chat
and by compare's two panes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glmtui.chat.events import (
    ChatEvent,
    ContentAdded,
    ReasoningAdded,
    RetryingTurn,
    ToolCallUpdated,
)

if TYPE_CHECKING:
    from glmtui.ui.items import ReplyItem
    from glmtui.ui.widgets.conversation import ConversationView


class ReplyPainter:
    """Draws one reply's text events into ``item`` in ``view``.

    Args:
        item: The reply's item (streaming).
        view: The conversation it is in.
        waiting: A note under the reply's spinner until text arrives (a reply that is not
            streamed says what it waits for instead of waiting silently).
    """

    def __init__(self, item: ReplyItem, view: ConversationView, *, waiting: str = "") -> None:
        self.item = item
        self.view = view
        if waiting:
            item.retry_note = waiting  # cleared by the first text, as a retry's note is
            view.changed(item)

    def __call__(self, event: ChatEvent) -> bool:
        """Draw ``event`` if it is one of this reply's; True when it was."""
        if isinstance(event, ContentAdded):
            self.item.append_content(event.text)
        elif isinstance(event, ReasoningAdded):
            self.item.append_reasoning(event.text)
        elif isinstance(event, RetryingTurn):
            self.item.retry_note = f"{event.reason} Retrying in {event.delay:.0f} s…"
        elif (
            isinstance(event, ToolCallUpdated)
            and event.state == "arguments"
            and event.reply is self.item.message
        ):  # a call's arguments as they stream; how it runs is the screen's to draw
            self.item.update_tool(
                event.index, event.call, event.state, event.label, event.started, event.result
            )
        else:
            return False
        self.view.changed(self.item)
        return True
