"""The next request, exactly as it will be sent, as cURL, Python (httpx) or raw JSON.

Built by the same request builder the client uses; the key appears only as an environment
variable (``$OXEN_API_KEY``), never in full.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static, TabbedContent, TabPane

from glmtui.ui.clipboard import copy_text

TITLES = {"curl": "cURL", "python": "Python (httpx)", "json": "JSON body"}
LANGUAGES = {"curl": "bash", "python": "python", "json": "json"}


class RequestPreviewScreen(ModalScreen[None]):
    """Shows the next request in three forms; copy the one you need.

    | Key | Action |
    |---|---|
    | c | Copy the shown form |
    | 1 / 2 / 3 | cURL / Python / JSON |
    | Esc | Close |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="request_preview.close"),
        Binding("c", "copy", "Copy", id="request_preview.copy"),
        Binding("1", "show('curl')", "cURL", show=False, id="request_preview.curl"),
        Binding("2", "show('python')", "Python", show=False, id="request_preview.python"),
        Binding("3", "show('json')", "JSON", show=False, id="request_preview.json"),
    ]

    DEFAULT_CSS = """
    RequestPreviewScreen { align: center middle; }
    RequestPreviewScreen > Vertical {
        width: 110; max-width: 96%; height: 90%;
        background: $panel; border: round $primary; padding: 0 1;
    }
    RequestPreviewScreen .preview-title { text-style: bold; padding: 0 0 1 0; }
    RequestPreviewScreen .preview-note { color: $text-muted; }
    RequestPreviewScreen TabbedContent { height: 1fr; }
    RequestPreviewScreen ScrollableContainer {
        height: 1fr; background: $code-block-background;
    }
    RequestPreviewScreen .code { width: auto; text-wrap: nowrap; padding: 0 1; }
    """

    def __init__(self, texts: dict[str, str], note: str = "") -> None:
        """
        Args:
            texts: The request rendered per format (``curl``, ``python``, ``json``).
            note: A line under the title (what the request contains).
        """
        super().__init__()
        self.texts = texts
        self.note = note
        self._highlighted: set[str] = set()
        """The forms whose panes are filled (see :meth:`_highlight`)."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "Next request  (c copies · 1/2/3 switch · Esc closes)", classes="preview-title"
            )
            if self.note:
                yield Static(self.note, classes="preview-note", markup=False)
            first = next(iter(self.texts), "")  # the tab shown first
            with TabbedContent(id="forms", initial=first):
                for fmt in self.texts:
                    with TabPane(TITLES.get(fmt, fmt), id=fmt), ScrollableContainer():
                        code = self._code(fmt) if fmt == first else ""
                        yield Static(code, id=f"{fmt}-code", classes="code")

    def _code(self, fmt: str) -> Content:
        """A form, highlighted (the first time it is shown; see :meth:`_highlight`)."""
        from textual.highlight import highlight

        self._highlighted.add(fmt)
        return highlight(self.texts[fmt], language=LANGUAGES.get(fmt))

    def _highlight(self, fmt: str) -> None:
        """Fill a form's pane the first time it is shown.

        Only the shown form is highlighted: finding a language's lexer and highlighting a
        long conversation took much of the time F2 needed to open, spent on two forms out of
        three that are usually never looked at.
        """
        if fmt not in self._highlighted and fmt in self.texts:
            self.query_one(f"#{fmt}-code", Static).update(self._code(fmt))

    @property
    def shown(self) -> str:
        """The format on screen."""
        return self.query_one("#forms", TabbedContent).active or next(iter(self.texts))

    def action_show(self, fmt: str) -> None:
        """Switch to a format."""
        if fmt in self.texts:
            self._highlight(fmt)
            self.query_one("#forms", TabbedContent).active = fmt

    def action_copy(self) -> None:
        """Copy the shown form to the clipboard (see glmtui.ui.clipboard)."""
        fmt = self.shown
        copy_text(self.app, self.texts[fmt], TITLES.get(fmt, fmt))

    @on(TabbedContent.TabActivated)
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        if event.pane.id is not None:
            self._highlight(event.pane.id)  # a tab clicked
