"""The composer: a multi-line prompt editor that sends on Enter and remembers earlier prompts.

Pasted text keeps what was pasted. Its line breaks become newlines, whether the terminal sends
them as CR (xterm, VTE, tmux) or CRLF; any other control character, such as the ESC of a
colour code in a pasted log, is shown as a symbol (``␛``) and sent as itself.

Textual's terminal input parser does not read a bracketed paste whole: the first ESC inside
one ends the paste, and the rest arrives as key presses, a CR among them pressing Enter (and
sending half a prompt). :class:`PasteParser` takes its place in Textual's Linux driver; see
there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from textual import events
from textual._xterm_parser import XTermParser
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from glmtui.domain.text import control_marks, pasted_text, restore_controls, visible_controls

PASTE_START: Final = "\x1b[200~"
PASTE_END: Final = "\x1b[201~"

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

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        await super()._on_key(event)

    _marks: frozenset[str] = frozenset()
    """Symbols in the draft that stand for control characters (see :attr:`text`)."""

    async def _on_paste(self, event: events.Paste) -> None:
        """Paste with line breaks as newlines and other controls drawn as symbols (``␛``):
        a pasted escape sequence is shown for what it is, never sent to the terminal; what
        is sent is what was pasted."""
        if self.read_only:
            return
        event.stop()
        event.prevent_default()
        text = pasted_text(event.text)
        if result := self._replace_via_keyboard(self._shown(text), *self.selection):
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
        """Insert a line break at the cursor."""
        start, end = self.selection
        self._replace_via_keyboard("\n", start, end)

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


def _partial(text: str, marker: str) -> int:
    """How many characters at the end of ``text`` could be the start of ``marker``."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if text.endswith(marker[:size]):
            return size
    return 0


class PasteParser(XTermParser):
    """Textual's parser of terminal input, reading a bracketed paste whole.

    Why: Textual's parser (8.2) reads an ESC inside a paste as the start of a key's escape
    sequence, and what follows it as key presses: a pasted log with colour codes lost most of
    its text, typed the rest as keys, and a line break among them pressed Enter. Here the
    text between the paste's start and end markers is set aside as it arrives (over as many
    reads as it takes) and delivered as one ``Paste`` event, exactly as pasted; everything
    outside pastes goes to Textual's parser unchanged, and a marker split across two reads is
    still found. Textual's parser still sees the markers (and makes an empty paste of them,
    which is dropped), so its own state stays what it would be.

    This replaces the parser in Textual's Linux driver (``use_whole_pastes``): the one use
    of Textual's private API here, pinned by ``tests/test_paste.py``.
    """

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._pasting = False
        self._paste: list[str] = []
        self._tail = ""
        """Outside a paste: the last characters read (the start of a marker may be there).
        Inside: characters held back because they may begin the end marker."""

    def feed(self, data: str) -> Iterable[events.Event | Message]:
        if not data:  # the end of input
            if self._pasting:
                self._pasting = False
                yield self._pasted("".join(self._paste) + self._tail)
            yield from self._parsed(data)
            return
        while data:
            seen = self._tail + data
            if not self._pasting:
                found = seen.find(PASTE_START)
                if found < 0:
                    self._tail = seen[-(len(PASTE_START) - 1) :]
                    yield from self._parsed(data)
                    return
                end = found + len(PASTE_START) - len(self._tail)
                yield from self._parsed(data[:end])  # Textual's parser enters its paste
                self._pasting, self._tail, data = True, "", data[end:]
                continue
            found = seen.find(PASTE_END)
            if found < 0:
                keep = _partial(seen, PASTE_END)
                self._paste.append(seen[: len(seen) - keep])
                self._tail = seen[len(seen) - keep :]
                return
            self._paste.append(seen[:found])
            text = "".join(self._paste)
            self._pasting, self._paste, self._tail = False, [], ""
            yield from self._parsed(PASTE_END)  # ... and leaves it
            yield self._pasted(text)
            data = seen[found + len(PASTE_END) :]

    @staticmethod
    def _pasted(text: str) -> events.Paste:
        return events.Paste(text.replace("\x00", ""))  # as Textual does (its issue 1661)

    def _parsed(self, data: str) -> Iterable[events.Event | Message]:
        """Textual's parsing of ``data``, less the empty pastes it makes of bare markers."""
        for event in super().feed(data):
            if not isinstance(event, events.Paste):
                yield event


def use_whole_pastes() -> None:
    """Make Textual's Linux driver parse input with :class:`PasteParser` (it looks its parser
    class up by name each time it starts reading input)."""
    from textual.drivers import linux_driver

    linux_driver.XTermParser = PasteParser  # type: ignore[attr-defined]


use_whole_pastes()
