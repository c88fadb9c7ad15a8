"""The find bar: a one-line search field docked under the conversation, with a match count.

It only says what the user asked for (a query, next, previous, close); the chat screen does
the searching (:mod:`glmtui.ui.find`) and tells the bar the count to show. Typing is
debounced (:data:`DEBOUNCE`), so a burst of keys costs one search, not one a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

DEBOUNCE = 0.03
"""Seconds of quiet typing before the query is searched: shorter than the gap between keys
of a fast typist (~80 ms), so the result shows within 100 ms of the last key (a search of
1,000 messages takes ~5-10 ms: see ``tests/benchmarks/bench_find.py``), while keys pressed
at once (a paste, auto-repeat) cost one search."""


class FindBar(Horizontal):
    """Find in the conversation.

    | Key | Action |
    |---|---|
    | Enter | Next match (down the conversation; wraps to the top) |
    | Shift+Enter | Previous match (wraps to the bottom) |
    | Esc | Close: clear the marks and go back where you were |
    """

    DEFAULT_CSS = """
    FindBar {
        height: 1;
        background: $boost;
        display: none;
    }
    FindBar.-open { display: block; }
    FindBar > #find-label { width: auto; padding: 0 1; color: $text-muted; }
    FindBar > Input { width: 1fr; height: 1; border: none; padding: 0; background: $boost; }
    FindBar > Input:focus { border: none; }
    FindBar > #find-count { width: 21; padding: 0 1; color: $text-muted; }
    FindBar > #find-count.-none { color: $text-warning; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "move(1)", "Next", id="find_bar.next"),
        Binding("shift+enter", "move(-1)", "Previous", id="find_bar.previous"),
        Binding("escape", "close", "Close", id="find_bar.close"),
    ]

    @dataclass
    class QueryChanged(Message):
        """The query changed (after :data:`DEBOUNCE`); empty: nothing to find."""

        bar: FindBar
        query: str

        @property
        def control(self) -> FindBar:
            return self.bar

    @dataclass
    class MoveRequested(Message):
        """The user asked for the next (``step`` 1) or previous (-1) match."""

        bar: FindBar
        step: int

        @property
        def control(self) -> FindBar:
            return self.bar

    @dataclass
    class Closed(Message):
        """The user closed the bar (Esc)."""

        bar: FindBar

        @property
        def control(self) -> FindBar:
            return self.bar

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("Find", id="find-label")
        yield Input(placeholder="text in the conversation (Aa: exact case)", id="find-input")
        yield Static("", id="find-count", markup=False)

    @property
    def input(self) -> Input:
        """The query field."""
        return self.query_one("#find-input", Input)

    @property
    def query_text(self) -> str:
        """The query as typed."""
        return self.input.value

    @property
    def is_open(self) -> bool:
        """True while the bar is shown."""
        return self.has_class("-open")

    def open(self) -> None:
        """Show the bar and focus its field (the query typed last is kept, selected)."""
        self.add_class("-open")
        field = self.input
        field.focus()
        field.select_all()

    def close(self) -> None:
        """Hide the bar (the caller returns focus)."""
        self._stop_debounce()
        self.remove_class("-open")

    def show_count(self, current: int | None, total: int) -> None:
        """Show ``3 of 17`` (``current`` is 1-based), ``no match``, or nothing (no query)."""
        label = self.query_one("#find-count", Static)
        if not self.query_text:
            text = ""
        elif not total:
            text = "no match"
        elif current is None:
            text = f"{total:,} matches"
        else:
            text = f"{current:,} of {total:,}"
        label.set_class(bool(self.query_text) and not total, "-none")
        label.update(text, layout=False)  # a fixed width: no layout of the screen per key

    @on(Input.Changed, "#find-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._stop_debounce()
        self._debounce = self.set_timer(DEBOUNCE, self._search_now, name="find-debounce")

    @on(Input.Submitted, "#find-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_move(1)

    def _search_now(self) -> None:
        self._debounce = None
        self.post_message(self.QueryChanged(self, self.query_text))

    def _stop_debounce(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None

    def action_move(self, step: int) -> None:
        """Next or previous match; a query still waiting for its debounce is searched at
        once instead (Enter right after typing shows the new query's first result)."""
        if self._debounce is not None:
            self._stop_debounce()
            self._search_now()
            return
        self.post_message(self.MoveRequested(self, step))

    def action_close(self) -> None:
        """Close the bar: the screen clears the marks and returns focus."""
        self.post_message(self.Closed(self))
