"""The conversation pane: a scrolling column of messages that follows the tail while you read it.

It uses Textual's scroll anchor: new text keeps the view at the bottom until the user scrolls
up; scrolling back to the bottom (or End) resumes following.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll

from glmtui.ui.widgets.message import MessageView


class Conversation(VerticalScroll):
    """The scrolling list of messages.

    | Key | Action |
    |---|---|
    | End | Jump to the newest text and follow it again |
    | Home | Jump to the start of the conversation |
    """

    BINDINGS = [
        Binding("end", "follow", "Follow", show=False, id="conversation.follow"),
        Binding("home", "scroll_home", "Top", show=False, id="conversation.top"),
    ]

    def on_mount(self) -> None:
        self.anchor()

    @property
    def at_bottom(self) -> bool:
        """True when the newest text is in view."""
        return self.scroll_y >= self.max_scroll_y

    def action_follow(self) -> None:
        """Scroll to the bottom and keep following new text."""
        self.anchor()
        self.scroll_end(animate=False, immediate=True)

    def views(self) -> list[MessageView]:
        """The message widgets, in order."""
        return list(self.query_children(MessageView))
