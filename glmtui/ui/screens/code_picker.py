"""Pick one of several code blocks in a message to copy.

The list quotes each block's language and first line, which come from the model: they are
drawn with control characters made visible, never obeyed.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from glmtui.domain.markdown import CodeBlock
from glmtui.domain.text import visible_controls


class CodeBlockPicker(ModalScreen[int | None]):
    """A list of the message's code blocks; Enter copies the highlighted one.

    | Key | Action |
    |---|---|
    | Enter | Copy the highlighted block |
    | 1–9 | Copy block N |
    | Esc | Cancel |
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="code_picker.cancel")]

    DEFAULT_CSS = """
    CodeBlockPicker { align: center middle; }
    CodeBlockPicker > Vertical {
        width: 80; max-width: 95%; height: auto; max-height: 80%;
        background: $panel; border: round $primary; padding: 0 1;
    }
    CodeBlockPicker .picker-title { text-style: bold; padding: 0 0 1 0; }
    CodeBlockPicker OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, blocks: list[CodeBlock]) -> None:
        super().__init__()
        self.blocks = blocks

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "Copy which code block?  (Enter copies · Esc cancels)", classes="picker-title"
            )
            options = []
            for number, block in enumerate(self.blocks, start=1):
                label = Text()
                label.append(f"{number}. ", "bold")
                language = visible_controls(block.language or "text")
                label.append(f"{language} · {block.line_count} lines — ")
                label.append(visible_controls(block.preview), "italic")
                options.append(Option(label, id=str(number - 1)))
            yield OptionList(*options)

    def on_key(self, event: object) -> None:
        key = getattr(event, "character", None)
        if key and key.isdigit() and 1 <= int(key) <= len(self.blocks):
            self.dismiss(int(key) - 1)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        """Close without copying."""
        self.dismiss(None)
