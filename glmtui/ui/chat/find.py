"""Find in the conversation (Ctrl+F): the find bar's query searched over every message.

The search runs over the messages' text (:class:`~glmtui.ui.find.ConversationSearch`), all of
it: earlier messages not yet drawn, folded reasoning and prompts, tool calls, compacted
messages while shown. The conversation marks the matches in the lines it draws, the current
one distinct (:class:`~glmtui.ui.find.Highlight`), and scrolls to the current one, unfolding
what hides it. Nothing here changes the session: only what is drawn.
"""

from __future__ import annotations

from textual import on
from textual.widget import Widget

from glmtui.ui.chat.base import ChatScreenBase
from glmtui.ui.find import ConversationSearch, Highlight, Match, Matches
from glmtui.ui.widgets.find_bar import FindBar


class FindPart(ChatScreenBase):
    """Find in the conversation (a part of the chat screen)."""

    _find_search: ConversationSearch | None = None
    _find_matches: Matches = Matches()  # replaced, never changed in place (shared default)
    _find_current: int | None = None
    _find_return: Widget | None = None

    @property
    def find_bar(self) -> FindBar:
        """The find bar (hidden while closed)."""
        return self.query_one(FindBar)

    @property
    def finding(self) -> bool:
        """True while the find bar is open (False before the screen has composed it: key
        checks may run that early)."""
        bars = self.query(FindBar)
        return bool(bars) and bars.first().is_open

    @property
    def find_matches(self) -> Matches:
        """The current query's matches, in conversation order."""
        return self._find_matches

    @property
    def find_current(self) -> int | None:
        """Index in :attr:`find_matches` of the current match."""
        return self._find_current

    def action_find(self) -> None:
        """Open the find bar (or go back to it), remembering where focus was."""
        bar = self.find_bar
        focused = self.focused
        if focused is not None and bar not in focused.ancestors_with_self:
            self._find_return = focused
        bar.open()
        if bar.query_text:
            self._find_run(bar.query_text)

    def action_find_next(self) -> None:
        """The next match (down the conversation; after the last, the first)."""
        self._find_move(1)

    def action_find_previous(self) -> None:
        """The previous match (up the conversation; before the first, the last)."""
        self._find_move(-1)

    def check_find_action(self, action: str) -> bool | None:
        """n / N only while there is a query to move through (else the keys do nothing)."""
        if action in ("find_next", "find_previous"):
            return self.finding and bool(self.find_bar.query_text)
        return None

    @on(FindBar.QueryChanged)
    def _find_query_changed(self, event: FindBar.QueryChanged) -> None:
        event.stop()
        self._find_run(event.query)

    @on(FindBar.MoveRequested)
    def _find_move_requested(self, event: FindBar.MoveRequested) -> None:
        event.stop()
        self._find_move(event.step)

    @on(FindBar.Closed)
    def _find_closed(self, event: FindBar.Closed) -> None:
        event.stop()
        self.close_find()

    def close_find(self) -> None:
        """Close the bar, clear the marks, and give focus back to where it was."""
        self.find_bar.close()
        self.conversation.highlight(None)
        self._find_matches, self._find_current = Matches(), None
        back, self._find_return = self._find_return, None
        if back is not None and back.is_attached and back.focusable:
            back.focus()
        else:
            self.composer.focus()

    def _find_run(self, query: str) -> None:
        """Search ``query``; the current match is the one nearest the view (the last one at
        or above its bottom line), so typing never throws the view far away."""
        view = self.conversation
        if self._find_search is None:
            self._find_search = ConversationSearch()
        matches = self._find_matches = self._find_search.search(view.items, query)
        if not matches:
            self._find_current = None
            view.highlight(Highlight(query, frozenset()) if query else None)
            self.find_bar.show_count(None, 0)
            return
        bottom = view.item_at(int(view.scroll_y) + view.size.height - 1)
        last = bottom[0] if bottom is not None else len(view.items) - 1
        self._find_show(matches.last_up_to(last))

    def _find_move(self, step: int) -> None:
        """Move to the next or previous match, searching again first: the conversation may
        have changed (a reply streamed on, a message was deleted) since the last search."""
        bar = self.find_bar
        query = bar.query_text
        if not query:
            return
        before: Match | None = None
        if self._find_current is not None and self._find_current < len(self._find_matches):
            before = self._find_matches[self._find_current]
        view = self.conversation
        if self._find_search is None:
            self._find_search = ConversationSearch()
        matches = self._find_matches = self._find_search.search(view.items, query)
        if not matches:
            self._find_current = None
            bar.show_count(None, 0)
            return
        position = matches.position(before) if before is not None else None
        if position is None:
            self._find_run(query)
            return
        self._find_show((position + step) % len(matches))

    def _find_show(self, position: int) -> None:
        """Make match ``position`` the current one: marks, count, and the view on it."""
        matches = self._find_matches
        self._find_current = position
        match = matches[position]
        view = self.conversation
        item = view.items[match.index]
        items = frozenset(id(view.items[index]) for index in matches.indices)
        query = self.find_bar.query_text
        view.highlight(Highlight(query, items, (id(item), match.ordinal)))
        view.show_match(match.index, match.ordinal, match.field)
        self.find_bar.show_count(position + 1, len(matches))
