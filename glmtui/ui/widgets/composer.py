"""The composer: a multi-line prompt editor that sends on Enter and remembers earlier prompts.

Pasted text keeps what was pasted. Its line breaks become newlines, whether the terminal sends
them as CR (xterm, VTE, tmux) or CRLF; any other control character, such as the ESC of a
colour code in a pasted log, is shown as a symbol (``␛``) and sent as itself.

Textual's terminal input parser does not read a bracketed paste whole (the first ESC inside
one ends it); :class:`glmtui.ui.compat.PasteParser` reads it whole instead.

Files are attached from here too (see :mod:`glmtui.ui.widgets.path_completion`): ``@`` at the
start of a word opens a list of files and folders, and choosing one takes the ``@word`` out of
the text and asks for the file to be attached (:class:`Composer.PathChosen`); a paste that is
nothing but paths of existing files (a file dragged into the terminal) asks for them to be
attached instead of being typed (:class:`Composer.PathsPasted`). The chat screen reads the
files and shows them as chips; the text only ever holds what the user wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textual import events
from textual.actions import SkipAction
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from glmtui.domain.text import control_marks, pasted_text, restore_controls, visible_controls
from glmtui.ui.clipboard import copy_text
from glmtui.ui.widgets.path_completion import (
    Candidate,
    PathCompletion,
    PathToken,
    pasted_paths,
    token_at,
)

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter", "ctrl+enter"})
"""Keys that insert a line break. Ctrl+J reaches the app in every terminal; Shift+Enter only
where the terminal reports it (kitty, WezTerm, foot, Ghostty, iTerm2 with CSI u)."""
EXTRA_NEWLINE_KEYS = NEWLINE_KEYS - {"ctrl+j"}
"""The newline keys that are no binding (only some terminals report them): they keep breaking
the line when ``chat.newline`` is remapped, unless ``chat.send`` takes one."""


class Composer(TextArea):
    """Where the user writes. Enter sends; Ctrl+J (or Shift+Enter) starts a new line.

    | Key | Action |
    |---|---|
    | Enter | Send the prompt |
    | Ctrl+J, Shift+Enter, Alt+Enter | New line |
    | Up / Down (empty composer) | Recall earlier prompts |
    | @ (at the start of a word) | Complete a file or folder to attach |
    | Ctrl+E | Write the text in ``$VISUAL`` / ``$EDITOR`` (End goes to the end of the line) |

    While the ``@`` list is open: Up/Down choose, Tab completes a folder (or attaches a file),
    Enter attaches the chosen file or folder, Esc closes the list. Closed, it takes no key.
    """

    BINDINGS = [
        Binding("enter", "submit", "Send", id="chat.send", show=True),
        Binding("ctrl+j", "newline", "New line", id="chat.newline", show=True),
        # Takes Ctrl+E from TextArea's "end of line" (End still does that): an external
        # editor is worth a short key, and Ctrl+E is what shells use for it (Ctrl+X Ctrl+E).
        Binding("ctrl+e", "edit_in_editor", "Editor", id="chat.edit_in_editor", show=False),
    ]

    @dataclass
    class Submitted(Message):
        """The user sent the composer's text."""

        composer: Composer
        text: str

        @property
        def control(self) -> Composer:
            return self.composer

    @dataclass
    class PathChosen(Message):
        """A file or folder was chosen in the ``@`` list (its ``@word`` left the text)."""

        composer: Composer
        path: Path

        @property
        def control(self) -> Composer:
            return self.composer

    @dataclass
    class PathsPasted(Message):
        """A paste that names existing files or folders and nothing else (a drag and drop):
        it was not typed. Whoever attaches them puts ``text`` in with :meth:`insert_text`
        when they cannot be attached, so nothing pasted is lost."""

        composer: Composer
        paths: list[Path]
        text: str = field(repr=False)

        @property
        def control(self) -> Composer:
            return self.composer

    @dataclass
    class EditorRequested(Message):
        """The user asked to write the text in their own editor (the screen runs it)."""

        composer: Composer

        @property
        def control(self) -> Composer:
            return self.composer

    def __init__(
        self,
        *,
        placeholder: str = "",
        completion: PathCompletion | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """
        Args:
            placeholder: Shown while the composer is empty.
            completion: The list ``@`` opens (None: no ``@`` completion, and pasted paths are
                text).
            id: The widget's id.
            classes: Its classes.
        """
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
        self.completion = completion
        """The ``@`` list, if this composer completes paths."""
        self.attached = 0
        """Files attached to the draft (set by the screen): with any, Enter sends even a
        blank text."""
        self.send_keys: frozenset[str] = frozenset({"enter"})
        """The keys that send: ``chat.send``'s keys in force (set by the screen from the
        keymap). Handled here, before the text area types an Enter as a line break."""
        self.newline_keys: frozenset[str] = NEWLINE_KEYS
        """The keys that break the line (``chat.newline``'s, and the terminals' extras)."""

    def use_keys(self, send: str, newline: str) -> None:
        """Take the keymap's keys for sending and for a line break (comma-separated, Textual's
        names). An Enter that no longer sends breaks the line, as in any text area."""
        self.send_keys = frozenset(send.split(","))
        self.newline_keys = (frozenset(newline.split(",")) | EXTRA_NEWLINE_KEYS) - self.send_keys

    @property
    def completing(self) -> bool:
        """True while the ``@`` list is open (it then has Up, Down, Tab, Enter and Esc)."""
        return self.completion is not None and self.completion.is_open

    def on_key(self, event: events.Key) -> None:
        """The send keys (Enter, unless the keymap moved ``chat.send``) send and the newline
        keys break the line; every other key goes on to the text area (``prevent_default``
        keeps its own handler from typing Enter). While the ``@`` list is open, its keys go
        to it first."""
        self._typing = event.is_printable or event.key in ("backspace", "delete")
        if self.completing and self._completion_key(event.key):
            event.stop()
            event.prevent_default()
        elif event.key in self.send_keys:
            event.stop()
            event.prevent_default()
            self.action_submit()
        elif event.key in self.newline_keys:
            event.stop()
            event.prevent_default()
            self.action_newline()

    # --- the @ list ---------------------------------------------------------------------------

    def _completion_key(self, key: str) -> bool:
        """Handle ``key`` in the open ``@`` list; False when the list does not take it."""
        completion = self.completion
        assert completion is not None
        if key in ("up", "down"):
            completion.move(-1 if key == "up" else 1)
        elif key == "escape":
            completion.close()
        elif key in ("tab", "enter"):
            chosen = completion.chosen
            if chosen is None:
                completion.close()
                return False
            self.accept_completion(chosen, descend=key == "tab")
        else:
            return False
        return True

    def accept_completion(self, candidate: Candidate, *, descend: bool = False) -> None:
        """Take ``candidate``: with ``descend``, a folder is completed into (the list shows
        what is in it); otherwise the ``@word`` leaves the text and the file or folder is
        asked for (:class:`PathChosen`)."""
        completion = self.completion
        token = completion.token if completion is not None else None
        if completion is None or token is None:
            return
        if descend and candidate.folder:
            self._replace_token(token, "@" + candidate.text)
            return
        completion.close()
        self._replace_token(token, "")
        self.post_message(self.PathChosen(self, candidate.path))

    def _replace_token(self, token: PathToken, text: str) -> None:
        """Put ``text`` where the ``@word`` is (removing it: also one space beside it, so no
        double space is left)."""
        line = self.document.get_line(token.row)
        start, end = token.start, token.end
        if not text:
            spaced_before = start == 0 or line[start - 1] == " "
            if end < len(line) and line[end] == " " and spaced_before:
                end += 1
            elif end == len(line) and start > 0 and line[start - 1] == " ":
                start -= 1
        result = self.replace(text, (token.row, start), (token.row, end))
        self.move_cursor(result.end_location)

    def _update_completion(self) -> None:
        """Open, narrow or close the ``@`` list for the word at the cursor."""
        completion = self.completion
        if completion is None:
            return
        row, column = self.cursor_location
        if self.selection.start != self.selection.end:
            token = None
        else:
            token = token_at(self.document.get_line(row), row, column)
        if token is None:
            if completion.is_open:
                completion.close()
            return
        if completion.is_open or self._typing:  # not for text loaded or pasted
            completion.offer(token, Path.cwd())

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """The text changed: the ``@`` list follows (the event goes on to the screen)."""
        if event.text_area is self:
            self._update_completion()

    def on_text_area_selection_changed(self, event: TextArea.SelectionChanged) -> None:
        """The cursor moved: the ``@`` list follows it, or closes."""
        if event.text_area is self:
            self._update_completion()

    def on_blur(self) -> None:
        """Leaving the composer closes the ``@`` list."""
        if self.completion is not None and self.completion.is_open:
            self.completion.close()

    _typing = False
    """The last key typed or deleted text: only then does an ``@word`` open the list (not
    when a prompt is recalled, loaded for editing or pasted)."""

    _marks: frozenset[str] = frozenset()
    """Symbols in the draft that stand for control characters (see :attr:`text`)."""

    def on_paste(self, event: events.Paste) -> None:
        """Paste with line breaks as newlines and other controls drawn as symbols (``␛``):
        a pasted escape sequence is shown for what it is, never sent to the terminal; what
        is sent is what was pasted. (``prevent_default``: the text area's own paste would
        insert the text as it came.)"""
        event.stop()
        event.prevent_default()
        self._typing = False
        if self.read_only:
            return
        if self.completion is not None:
            paths = pasted_paths(event.text, Path.cwd())
            if paths:
                self.post_message(self.PathsPasted(self, paths, event.text))
                self.focus()
                return
        self.insert_text(event.text)

    def insert_text(self, pasted: str) -> None:
        """Insert ``pasted`` as a paste is inserted (at the cursor, replacing the selection;
        line breaks as newlines, controls as symbols)."""
        text = pasted_text(pasted)
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
        self._typing = False
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
        """Send the text (blank text is ignored, unless files are attached)."""
        if self.text.strip() or self.attached:
            self.post_message(self.Submitted(self, self.text))

    def action_copy(self) -> None:
        """Ctrl+C with text selected: copy it through glmtui's clipboard (see
        :mod:`glmtui.ui.clipboard`); with nothing selected the key goes on to the screen."""
        selected = self.selected_text
        if not selected:
            raise SkipAction()
        copy_text(self.app, selected, "Selection", quiet=True)

    def action_edit_in_editor(self) -> None:
        """Ask for the text to be written in ``$VISUAL`` / ``$EDITOR``."""
        if not self.read_only:
            self.post_message(self.EditorRequested(self))

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
