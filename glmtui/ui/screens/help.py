"""The help panel: every key, grouped by where it works."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from glmtui.ui.keys import keys_markdown


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys.

    | Key | Action |
    |---|---|
    | Esc, F1, q | Close |
    """

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close", id="help.close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: auto; max-height: 90%;
        background: $panel; border: round $primary; padding: 0 1;
    }
    HelpScreen .help-title { text-style: bold; color: $text-primary; padding: 1 0 0 0; }
    HelpScreen Markdown { background: transparent; margin: 0; padding: 0; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("glmtui keys  (Esc closes)", classes="help-title")
            yield Markdown(keys_markdown())
