"""The parameter sidebar as an overlay, for terminals too narrow to dock it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import ModalScreen

from glmtui.ui.widgets.sidebar import ParameterSidebar, RequestSettings


class ParametersScreen(ModalScreen[RequestSettings]):
    """The sidebar over the chat, at the right edge; changes apply as you make them.

    | Key | Action |
    |---|---|
    | Esc, Ctrl+B | Close |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,ctrl+b", "close", "Close", id="parameters.close"),
    ]

    DEFAULT_CSS = """
    ParametersScreen { align: right top; }
    ParametersScreen ParameterSidebar { width: 40; max-width: 100%; height: 100%; }
    """

    def __init__(self, sidebar: ParameterSidebar) -> None:
        super().__init__()
        self.sidebar = sidebar

    def compose(self) -> ComposeResult:
        yield self.sidebar

    def on_mount(self) -> None:
        self.sidebar.focus_first()

    def action_close(self) -> None:
        """Commit the field being edited (Esc must not lose a typed value), then close."""
        self.sidebar.commit()
        self.dismiss(self.sidebar.settings)

    @on(ParameterSidebar.Changed)
    @on(ParameterSidebar.ResetRequested)
    @on(ParameterSidebar.PreviewRequested)
    @on(ParameterSidebar.CompareRequested)
    def _forward(self, event: Message) -> None:
        """The chat screen below owns the session: hand it the sidebar's messages."""
        event.stop()
        if len(self.app.screen_stack) >= 2:
            self.app.screen_stack[-2].post_message(event)
