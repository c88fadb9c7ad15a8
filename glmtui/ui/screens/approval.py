"""May this tool call run? The question the chat asks before a call its config does not allow.

The dialog shows what would run: the server, the tool and its description, and the arguments
exactly as the model wrote them, pretty-printed in full (scrollable; JSON highlighted while it
is short enough to be cheap). Everything in it comes from the model or a server, so it is
drawn with control characters made visible, never obeyed and never read as markup.

Enter approves nothing by itself: the focus starts on the arguments, so an Enter typed for
the composer a moment too late does not run a tool; the choices have letters of their own
(``a``, ``A``, ``d``), and Enter presses a button only once the user has moved to it.
"""

from __future__ import annotations

import json
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from glmtui.domain.text import visible_controls
from glmtui.tools import Approval, ApprovalRequest
from glmtui.ui.markdown_render import highlight_code

SHORT_ARGUMENTS = 32_000
"""Arguments up to this long are highlighted in a text block; longer ones are shown in a
read-only text area, which draws only the lines on screen (a model may send a whole file)."""


def pretty_arguments(request: ApprovalRequest) -> str:
    """The arguments as the dialog shows them: indented JSON of what was parsed (every key
    and value the tool will receive), or the text as written if it cannot be re-encoded."""
    try:
        return json.dumps(request.arguments, indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return request.call.pretty_arguments()


class ApprovalScreen(ModalScreen[Approval]):
    """Ask whether one tool call may run; answers an :data:`~glmtui.tools.Approval`.

    | Key | Action |
    |---|---|
    | a | Allow this call once |
    | A (Shift+A) | Always allow this tool (saved to the config) |
    | d, Esc | Deny this call (the model is told) |
    | Tab | Move to the buttons (Enter presses the focused one) |
    | Up / Down, PageUp / PageDown | Scroll the arguments |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "answer('once')", "Allow once", priority=True, id="approval.once"),
        Binding(
            "A,shift+a", "answer('always')", "Always allow", priority=True, id="approval.always"
        ),
        Binding("d,escape", "answer('deny')", "Deny", priority=True, id="approval.deny"),
    ]

    DEFAULT_CSS = """
    ApprovalScreen { align: center middle; }
    ApprovalScreen > Vertical {
        width: 100; max-width: 95%; height: auto; max-height: 90%;
        background: $panel; border: round $warning; padding: 0 1;
    }
    ApprovalScreen .approval-title { text-style: bold; color: $text-warning; padding: 1 0 0 0; }
    ApprovalScreen .approval-what { padding: 1 0 0 0; }
    ApprovalScreen .approval-description { color: $text-muted; max-height: 4; }
    ApprovalScreen .approval-label { color: $text-muted; padding: 1 0 0 0; }
    ApprovalScreen #approval-arguments {
        height: auto; max-height: 20; background: $surface; padding: 0 1;
        border: none;
    }
    ApprovalScreen #approval-arguments:focus { background-tint: $foreground 5%; }
    ApprovalScreen TextArea#approval-arguments { height: 20; }
    ApprovalScreen Horizontal { height: auto; padding: 1 0; }
    ApprovalScreen Button { margin: 0 1 0 0; }
    ApprovalScreen .approval-keys { color: $text-muted; padding: 0 0 1 0; }
    """

    def __init__(self, request: ApprovalRequest, *, model: str = "The model") -> None:
        """
        Args:
            request: The call that waits: its tool and its arguments.
            model: Who asks, as the chat names the model.
        """
        super().__init__()
        self.request = request
        self.model = visible_controls(model)
        self._withdrawn = False

    def compose(self) -> ComposeResult:
        spec = self.request.spec
        server, tool = visible_controls(spec.server), visible_controls(spec.name)
        arguments = pretty_arguments(self.request)
        with Vertical():
            yield Static("Allow this tool call?", classes="approval-title", markup=False)
            yield Static(
                Content.assemble(
                    f"{self.model} wants to run ",
                    (tool, "bold"),
                    " from the MCP server ",
                    (server, "bold"),
                    ".",
                ),
                classes="approval-what",
            )
            if spec.description.strip():
                yield Static(
                    visible_controls(spec.description.strip()),
                    classes="approval-description",
                    markup=False,
                )
            yield Static(
                f"With these arguments ({len(arguments):,} characters):",
                classes="approval-label",
                markup=False,
            )
            if len(arguments) <= SHORT_ARGUMENTS:
                with VerticalScroll(id="approval-arguments"):
                    yield Static(highlight_code(arguments, "json"), id="approval-text")
            else:
                yield TextArea(
                    visible_controls(arguments),
                    read_only=True,
                    soft_wrap=True,
                    show_cursor=False,
                    id="approval-arguments",
                )
            with Horizontal():
                yield Button("Allow once", id="approval-once", variant="primary")
                yield Button("Always allow this tool", id="approval-always", variant="warning")
                yield Button("Deny", id="approval-deny", variant="error")
            yield Static(
                "a allow once · A always allow (saved to the config) · d or Esc deny",
                classes="approval-keys",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#approval-arguments").focus()

    def action_answer(self, approval: Approval) -> None:
        """Answer, and close."""
        self.dismiss(approval)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        answers: dict[str | None, Approval] = {
            "approval-once": "once",
            "approval-always": "always",
            "approval-deny": "deny",
        }
        self.dismiss(answers.get(event.button.id, "deny"))

    def withdraw(self) -> None:
        """The question is moot (the turn was stopped): close now, or as soon as the screen
        comes back to the top if the user opened another one over it."""
        self._withdrawn = True
        if self.is_active:
            self.dismiss("deny")

    def on_screen_resume(self) -> None:
        if self._withdrawn:
            self.dismiss("deny")
