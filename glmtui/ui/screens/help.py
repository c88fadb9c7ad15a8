"""The help panel: every key, grouped by where it works.

The key tables are drawn by one widget as lines of text, in the look Textual's ``Markdown``
gives a table (a keyline around and between the rows, the header in the primary colour).
Why not ``Markdown``: it builds a widget per table cell, ~200 of them for this page, and
styling and laying them out made F1 take 0.3–0.9 s to show (``tests/benchmarks/open_screens``);
one widget drawing the same lines opens in a few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from glmtui.ui.keys import Section, resolved

SECTION = "bold"
HEADER = "$primary"
KEYLINE = "$foreground 20%"
HEADERS = ("Key", "Action")


def key_table_lines(sections: tuple[Section, ...], width: int) -> list[Content]:
    """The key reference at ``width`` cells: per section its title, a blank line, the table
    and a blank line (as ``Markdown`` spaces its paragraphs and tables). The key column fits
    the longest key; the action column takes the rest of the width and wraps."""
    out: list[Content] = []
    for title, rows in sections:
        out += [Content.styled(title, SECTION), Content("")]
        out += _table([HEADERS, *rows], width)
        out.append(Content(""))
    return out


def _table(rows: list[tuple[str, str]], width: int) -> list[Content]:
    key_width = max(cell_len(key) for key, _ in rows) + 2  # a space each side
    action_width = max(3, width - key_width - 3)  # three keylines: left, middle, right
    line = Content.styled
    out = [line(f"┌{'─' * key_width}┬{'─' * action_width}┐", KEYLINE)]
    for number, (key, action) in enumerate(rows):
        if number:
            out.append(line(f"├{'─' * key_width}┼{'─' * action_width}┤", KEYLINE))
        style = HEADER if number == 0 else ""
        keys = Content.styled(key, style).wrap(key_width - 2)
        actions = Content.styled(action, style).wrap(action_width - 2)
        for index in range(max(len(keys), len(actions))):
            left = keys[index] if index < len(keys) else Content("")
            right = actions[index] if index < len(actions) else Content("")
            out.append(
                Content.assemble(
                    line("│ ", KEYLINE),
                    left.pad_right(key_width - 2 - left.cell_length),
                    line(" │ ", KEYLINE),
                    right.pad_right(action_width - 2 - right.cell_length),
                    line(" │", KEYLINE),
                )
            )
    out.append(line(f"└{'─' * key_width}┴{'─' * action_width}┘", KEYLINE))
    return out


class KeyReference(Widget):
    """Every key table, drawn as lines at the widget's width (one widget, not one per cell)."""

    DEFAULT_CSS = """
    KeyReference { height: auto; }
    """

    def __init__(
        self,
        keys: Mapping[str, str] | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """
        Args:
            keys: Binding id → keys in force (the user's keymap applied); None: the defaults.
            id: The widget's id.
            classes: Its classes.
        """
        super().__init__(id=id, classes=classes)
        self._sections = resolved(keys)
        self._lines: tuple[int, list[Content]] | None = None

    def lines_at(self, width: int) -> list[Content]:
        """The reference's lines at ``width`` cells (cached for the last width)."""
        if self._lines is None or self._lines[0] != width:
            self._lines = (width, key_table_lines(self._sections, width))
        return self._lines[1]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines_at(width))

    def render(self) -> Content:
        return Content("\n").join(self.lines_at(self.size.width))


class HelpScreen(ModalScreen[None]):
    """A modal listing the keys.

    | Key | Action |
    |---|---|
    | Esc, F1, q | Close |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close", id="help.close")
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: auto; max-height: 90%;
        background: $panel; border: round $primary; padding: 0 1;
    }
    HelpScreen .help-title { text-style: bold; color: $text-primary; padding: 1 0 0 0; }
    HelpScreen KeyReference { color: $foreground; }
    """

    def __init__(self, keys: Mapping[str, str] | None = None) -> None:
        """
        Args:
            keys: Binding id → keys in force, so a remapped key is shown as it now is (None:
                the defaults).
        """
        super().__init__()
        self._keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("glmtui keys  (Esc closes)", classes="help-title")
            yield KeyReference(self._keys)
