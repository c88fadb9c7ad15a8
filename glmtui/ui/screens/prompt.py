"""Small modal dialogs: ask for one line of text, or pick one of a few choices."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

Validator = Callable[[str], str | None]
"""Returns None when the text is acceptable, else the reason it is not."""


class Dialog(ModalScreen[str | None]):
    """A small centred box over the current screen that answers with a string, or None when
    cancelled. Both dialogs below share its frame and its Esc."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 76; max-width: 95%; height: auto;
        background: $panel; border: round $primary; padding: 0 1;
    }
    """

    def action_cancel(self) -> None:
        """Close without an answer."""
        self.dismiss(None)


class PromptScreen(Dialog):
    """Ask for one line of text (a title, a path). Enter accepts, Esc cancels.

    | Key | Action |
    |---|---|
    | Enter | Accept |
    | Esc | Cancel |
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    DEFAULT_CSS = """
    PromptScreen .prompt-title { text-style: bold; padding: 1 0 0 0; }
    PromptScreen .prompt-help { color: $text-muted; }
    PromptScreen .prompt-problem { color: $text-error; height: auto; }
    PromptScreen Input { margin: 1 0 0 0; }
    """

    def __init__(
        self,
        title: str,
        value: str = "",
        *,
        help: str = "",
        placeholder: str = "",
        validate: Validator | None = None,
    ) -> None:
        super().__init__()
        self.prompt_title = title
        self.value = value
        self.help = help
        self.placeholder = placeholder
        self.validate = validate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.prompt_title, classes="prompt-title", markup=False)
            if self.help:
                yield Static(self.help, classes="prompt-help", markup=False)
            yield Input(self.value, placeholder=self.placeholder, select_on_focus=True)
            yield Static("", classes="prompt-problem", markup=False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        problem = self.validate(text) if self.validate else None
        if problem:
            self.query_one(".prompt-problem", Static).update(problem)
            return
        self.dismiss(text)


class ChoiceScreen(Dialog):
    """Pick one of a few choices with a button (or its first letter).

    | Key | Action |
    |---|---|
    | first letter | That choice |
    | Esc | Cancel |
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    DEFAULT_CSS = """
    ChoiceScreen .choice-title { text-style: bold; padding: 1 0; }
    ChoiceScreen Horizontal { height: auto; padding: 0 0 1 0; }
    ChoiceScreen Button { margin: 0 1 0 0; }
    """

    def __init__(self, title: str, choices: Sequence[tuple[str, str]]) -> None:
        """
        Args:
            title: The question.
            choices: ``(value, label)`` pairs; the label's first letter is its key.
        """
        super().__init__()
        self.choice_title = title
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.choice_title, classes="choice-title", markup=False)
            with Horizontal():
                for value, label in self.choices:
                    yield Button(label, id=f"choice-{value}")

    def on_key(self, event: object) -> None:
        key = getattr(event, "character", None) or ""
        for value, label in self.choices:
            if key and label[:1].lower() == key.lower():
                self.dismiss(value)
                return

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-") or None)
