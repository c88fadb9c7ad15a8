"""Small modal dialogs: ask for one line of text, or pick one of a few choices.

What they show often quotes a session title, a model id or a URL: every text is drawn with its
control characters made visible (never obeyed by the terminal) and never read as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from glmtui.domain.text import visible_controls

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
            yield Static(visible_controls(self.prompt_title), classes="prompt-title", markup=False)
            if self.help:
                yield Static(visible_controls(self.help), classes="prompt-help", markup=False)
            yield Input(
                visible_controls(self.value),
                placeholder=visible_controls(self.placeholder),
                select_on_focus=True,
            )
            yield Static("", classes="prompt-problem", markup=False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text == visible_controls(self.value).strip():
            text = self.value.strip()  # accepted as shown: the value itself, not its picture
        problem = self.validate(text) if self.validate else None
        if problem:
            self.query_one(".prompt-problem", Static).update(visible_controls(problem))
            return
        self.dismiss(text)


class ChoiceScreen(Dialog):
    """Pick one of a few choices with a button (or its key).

    | Key | Action |
    |---|---|
    | first letter | That choice (when no two choices start with the same letter) |
    | 1, 2, … | That choice (when two do: the buttons are numbered) |
    | Esc | Cancel |
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    DEFAULT_CSS = """
    ChoiceScreen .choice-title { text-style: bold; padding: 1 0; }
    ChoiceScreen Horizontal { height: auto; padding: 0 0 1 0; }
    ChoiceScreen Button { margin: 0 1 0 0; }
    ChoiceScreen .choice-stack { height: auto; padding: 0 0 1 0; }
    ChoiceScreen .choice-stack Button { width: 100%; margin: 0 0 0 0; }
    """

    def __init__(
        self, title: str, choices: Sequence[tuple[str, str]], *, stacked: bool = False
    ) -> None:
        """
        Args:
            title: The question.
            choices: ``(value, label)`` pairs; the label's first letter is its key, or,
                when two labels start alike, its number.
            stacked: One button per line, as wide as the dialog (for long labels, such as
                ones that name URLs).
        """
        super().__init__()
        self.choice_title = title
        self.choices = list(choices)
        self.stacked = stacked
        firsts = [label[:1].lower() for _, label in self.choices]
        numbered = len(set(firsts)) < len(firsts) or not all(firsts)
        self.keys = (
            [str(number) for number in range(1, len(self.choices) + 1)] if numbered else firsts
        )
        """The key of each choice, in order."""
        self.numbered = numbered

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(visible_controls(self.choice_title), classes="choice-title", markup=False)
            with Vertical(classes="choice-stack") if self.stacked else Horizontal():
                for key, (value, label) in zip(self.keys, self.choices, strict=True):
                    shown = f"{key}  {label}" if self.numbered else label
                    yield Button(Content(visible_controls(shown)), id=f"choice-{value}")

    def on_key(self, event: object) -> None:
        key = (getattr(event, "character", None) or "").lower()
        for choice_key, (value, _label) in zip(self.keys, self.choices, strict=True):
            if key and choice_key == key:
                self.dismiss(value)
                return

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-") or None)
