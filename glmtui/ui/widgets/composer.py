"""The composer: a multi-line prompt editor that sends on Enter and remembers earlier prompts.

Pasted text keeps what was pasted. Its line breaks become newlines, whether the terminal sends
them as CR (xterm, VTE, tmux) or CRLF; any other control character, such as the ESC of a
colour code in a pasted log, is shown as a symbol (``␛``) and sent as itself.

Textual's terminal input parser does not read a bracketed paste whole (the first ESC inside
one ends it); :class:`glmtui.ui.compat.PasteParser` reads it whole instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from glmtui.domain.text import control_marks, pasted_text, restore_controls, visible_controls

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter", "ctrl+enter"})
"""Keys that insert a line break. Ctrl+J reaches the app in every terminal; Shift+Enter only
where the terminal reports it (kitty, WezTerm, foot, Ghostty, iTerm2 with CSI u)."""


class Composer(TextArea):
    """Where the user writes. Enter sends; Ctrl+J (or Shift+Enter) starts a new line.

    | Key | Action |
    |---|---|
    | Enter | Send the prompt |
    | Ctrl+J, Shift+Enter, Alt+Enter | New line |
    | Up / Down (empty composer) | Recall earlier prompts |
    """

    BINDINGS = [
        Binding("enter", "submit", "Send", id="composer.send", show=True),
        Binding("ctrl+j", "newline", "New line", id="composer.newline", show=True),
    ]

    @dataclass
    class Submitted(Message):
        """The user sent the composer's text."""

        composer: Composer
        text: str

        @property
        def control(self) -> Composer:
            return self.composer

    def __init__(
        self,
        *,
        placeholder: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            "",
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            highlight_cursor_line=False,
            # Not compact=True: its only effect, dropping TextArea's default border, is
            # overridden by the chat stylesheet's border, and setting it in __init__ made
            # Textual style the unmounted widget (~1.5 ms of startup).
            placeholder=placeholder,
            id=id,
            classes=classes,
        )
        self.prompt_history: list[str] = []
        """Earlier prompts, oldest first."""
        self._history_index: int | None = None

    def on_key(self, event: events.Key) -> None:
        """Enter sends and the newline keys break the line; every other key goes on to the
        text area (``prevent_default`` keeps its own handler from typing these two)."""
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
        elif event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.action_newline()

    _marks: frozenset[str] = frozenset()
    """Symbols in the draft that stand for control characters (see :attr:`text`)."""

    def on_paste(self, event: events.Paste) -> None:
        """Paste with line breaks as newlines and other controls drawn as symbols (``␛``):
        a pasted escape sequence is shown for what it is, never sent to the terminal; what
        is sent is what was pasted. (``prevent_default``: the text area's own paste would
        insert the text as it came.)"""
        event.stop()
        event.prevent_default()
        if self.read_only:
            return
        text = pasted_text(event.text)
        start, end = self.selection
        result = self.replace(self._shown(text), start, end, maintain_selection_offset=False)
        self.move_cursor(result.end_location)
        self.focus()

    def _shown(self, text: str) -> str:
        """``text`` as the editor holds it: controls drawn as symbols, which are noted so
        :attr:`text` gives the controls back."""
        if marks := control_marks(text):
            self._marks = self._marks | marks
        return visible_controls(text)

    def load_text(self, text: str) -> None:
        """Replace the text (history recall, edit and resend) with controls shown as symbols."""
        self._marks = frozenset()
        super().load_text(self._shown(text))

    @property
    def text(self) -> str:
        """The draft as it will be sent: the symbols shown for pasted or loaded control
        characters are those characters again (the editor's own text is ``document.text``)."""
        return restore_controls(self.document.text, self._marks)

    @text.setter
    def text(self, value: str) -> None:
        self.load_text(value)

    def action_submit(self) -> None:
        """Send the text (blank text is ignored)."""
        if self.text.strip():
            self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        """Insert a line break at the cursor (replacing the selection)."""
        if not self.read_only:
            start, end = self.selection
            self.replace("\n", start, end, maintain_selection_offset=False)

    def remember(self, text: str) -> None:
        """Add a sent prompt to the history (consecutive duplicates collapse)."""
        if text.strip() and (not self.prompt_history or self.prompt_history[-1] != text):
            self.prompt_history.append(text)
        self._history_index = None

    def _browsing_history(self) -> bool:
        if not self.text:
            return True
        index = self._history_index
        return (
            index is not None
            and index < len(self.prompt_history)
            and self.text == self.prompt_history[index]
        )

    def action_cursor_up(self, select: bool = False) -> None:
        """Up: recall an earlier prompt when the composer is empty, else move the cursor."""
        if (
            not select
            and self.prompt_history
            and self._browsing_history()
            and self.cursor_at_first_line
        ):
            index = len(self.prompt_history) if self._history_index is None else self._history_index
            if index > 0:
                self._recall(index - 1)
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        """Down: step forward through recalled prompts, back to an empty composer."""
        if (
            not select
            and self._history_index is not None
            and self._browsing_history()
            and self.cursor_at_last_line
        ):
            if self._history_index + 1 < len(self.prompt_history):
                self._recall(self._history_index + 1)
            else:
                self._history_index = None
                self.text = ""
            return
        super().action_cursor_down(select)

    def _recall(self, index: int) -> None:
        self._history_index = index
        self.text = self.prompt_history[index]
        self.move_cursor(self.document.end)
