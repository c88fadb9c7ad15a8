"""The files attached to the draft, as chips above the composer.

Each chip names a file, its size and the tokens it will add to the request
(``notes.md · 1.2 kB · ~310 tok ✕``). Chips stay until the prompt is sent (or removed): a
refused send, an edit of the text, a model switch keep them. The bar draws itself as a few
lines of text (no widget per chip), wrapping chips onto more lines when they do not fit.

Removing one: click its ``✕``; or reach the bar with Shift+Tab from the composer, choose a chip
with Left/Right and press Delete (or Backspace). Esc, Enter or Down go back to the composer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget

from glmtui.domain.text import visible_controls
from glmtui.ui.widgets.path_completion import file_size

if TYPE_CHECKING:
    from glmtui.chat.attachments import Loaded

REMOVE = " ✕"
"""The end of every chip; a click on it removes the chip."""
HINT = "←/→ choose · Del remove · Esc back"
"""Shown after the chips while the bar has the focus."""


def short_tokens(count: int) -> str:
    """``~310 tok``, ``~12.4k tok``, ``~1.2M tok``."""
    if count >= 1_000_000:
        return f"~{count / 1_000_000:.1f}M tok"
    if count >= 10_000:
        return f"~{count / 1000:.0f}k tok"
    if count >= 1000:
        return f"~{count / 1000:.1f}k tok"
    return f"~{count} tok"


@dataclass(frozen=True, slots=True)
class Chip:
    """One attached file: what is sent, and its estimated tokens (worked out once, when it
    was attached, so typing never reads it again)."""

    loaded: Loaded
    tokens: int

    @property
    def label(self) -> str:
        """The chip's text, without the remove mark."""
        attachment = self.loaded.attachment
        name = visible_controls(attachment.name)
        return f"{name} · {file_size(attachment.size)} · {short_tokens(self.tokens)}"


@dataclass(frozen=True, slots=True)
class ChipPlace:
    """Where a chip is drawn in the bar's content: its line, its first cell, and the cell of
    its ✕ (a click there or on the space before it removes the chip)."""

    index: int
    row: int
    start: int
    end: int


def _fit(label: str, room: int) -> str:
    """``label`` shortened from the middle of its name to ``room`` cells (at least 4)."""
    if len(label) <= room:
        return label
    room = max(4, room)
    keep = room - 1
    return label[: keep // 2] + "…" + label[len(label) - (keep - keep // 2) :]


class AttachmentChips(Widget, can_focus=True):
    """The draft's attachments (hidden while there are none).

    | Key | Action |
    |---|---|
    | Left / Right | Choose a chip |
    | Delete, Backspace | Remove the chosen chip |
    | Esc, Enter, Down | Back to the composer |
    """

    DEFAULT_CSS = """
    AttachmentChips {
        display: none;
        height: auto;
        padding: 0 1;
    }
    AttachmentChips.-has-chips { display: block; }
    AttachmentChips > .attachment-chips--chip {
        background: $primary-muted;
        color: $foreground;
    }
    AttachmentChips > .attachment-chips--selected {
        background: $accent;
        color: $text;
        text-style: bold;
    }
    AttachmentChips > .attachment-chips--remove {
        color: $text-error;
    }
    AttachmentChips > .attachment-chips--hint {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES = {
        "attachment-chips--chip",
        "attachment-chips--selected",
        "attachment-chips--remove",
        "attachment-chips--hint",
    }

    BINDINGS = [
        Binding("left", "choose(-1)", "Previous", show=False, id="chips.previous"),
        Binding("right", "choose(1)", "Next", show=False, id="chips.next"),
        Binding("delete,backspace", "remove", "Remove", id="chips.remove"),
        Binding("escape,enter,down", "leave", "Composer", show=False, id="chips.leave"),
    ]

    @dataclass
    class Removed(Message):
        """The user removed a chip (by key or click)."""

        chips: AttachmentChips
        chip: Chip

        @property
        def control(self) -> AttachmentChips:
            return self.chips

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chips: list[Chip] = []
        """The attachments, in the order they were added (and are sent)."""
        self.selected = 0
        """The chip Delete removes while the bar has the focus."""
        self._placed: list[ChipPlace] = []

    # --- what is attached -------------------------------------------------------------------

    @property
    def chip_regions(self) -> list[ChipPlace]:
        """Where each chip was last drawn."""
        return list(self._placed)

    @property
    def files(self) -> list[Loaded]:
        """What is sent with the prompt, in order."""
        return [chip.loaded for chip in self.chips]

    @property
    def tokens(self) -> int:
        """The attachments' estimated tokens together."""
        return sum(chip.tokens for chip in self.chips)

    def add_chip(self, chip: Chip) -> bool:
        """Attach ``chip``'s file (a file already attached is not added twice: False)."""
        attachment = chip.loaded.attachment
        for existing in self.chips:
            other = existing.loaded.attachment
            if (other.name, other.sha256, other.size) == (
                attachment.name,
                attachment.sha256,
                attachment.size,
            ) and other.text == attachment.text:
                return False
        self.chips.append(chip)
        self._changed()
        return True

    def remove_chip(self, index: int) -> Chip | None:
        """Take the chip at ``index`` off (None: there is none)."""
        if not 0 <= index < len(self.chips):
            return None
        chip = self.chips.pop(index)
        self.selected = min(self.selected, max(0, len(self.chips) - 1))
        self._changed()
        return chip

    def clear_chips(self) -> None:
        """No attachments any more (the prompt was sent)."""
        self.chips = []
        self.selected = 0
        self._changed()

    def _changed(self) -> None:
        if self.has_focus and not self.chips:
            self.screen.focus_next()  # the composer, which comes next (while this is shown)
        self.set_class(bool(self.chips), "-has-chips")
        self.refresh(layout=True)

    # --- keys and clicks --------------------------------------------------------------------

    def action_choose(self, step: int) -> None:
        """Choose the previous or next chip."""
        if self.chips:
            self.selected = (self.selected + step) % len(self.chips)
            self.refresh()

    def action_remove(self) -> None:
        """Remove the chosen chip."""
        chip = self.remove_chip(self.selected)
        if chip is not None:
            self.post_message(self.Removed(self, chip))

    def action_leave(self) -> None:
        """Back to the composer (the next widget)."""
        self.screen.focus_next()

    def on_click(self, event: events.Click) -> None:
        """A click on a chip's ✕ removes it; elsewhere on a chip, chooses it."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for place in self._placed:
            if place.row == offset.y and place.start <= offset.x <= place.end:
                event.stop()
                if offset.x >= place.end - len(REMOVE) + 1:
                    self.selected = place.index
                    self.action_remove()
                else:
                    self.selected = place.index
                    self.focus()
                    self.refresh()
                return

    def on_focus(self) -> None:
        self.refresh(layout=True)  # the hint appears

    def on_blur(self) -> None:
        self.refresh(layout=True)

    # --- drawing ----------------------------------------------------------------------------

    def _layout(self, width: int) -> list[list[tuple[int, str]]]:
        """The chips' labels (with the ✕) in lines of at most ``width`` cells, and where each
        chip is (kept for clicks)."""
        width = max(8, width)
        rows: list[list[tuple[int, str]]] = [[]]
        placed: list[ChipPlace] = []
        x = 0
        for index, chip in enumerate(self.chips):
            text = " " + _fit(chip.label, width - len(REMOVE) - 2) + REMOVE + " "
            needed = len(text) + (1 if x else 0)
            if x and x + needed > width:
                rows.append([])
                x = 0
                needed = len(text)
            start = x + (1 if x else 0)
            rows[-1].append((index, text))
            placed.append(ChipPlace(index, len(rows) - 1, start, start + len(text) - 2))
            x += needed
        if self.has_focus and self.chips:
            if x and x + 2 + len(HINT) > width:
                rows.append([])
            rows[-1].append((-1, HINT))
        self._placed = placed
        return rows

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._layout(width)) if self.chips else 0

    def render(self) -> Text:
        if not self.chips:
            return Text()
        chip_style = self.get_component_rich_style("attachment-chips--chip")
        selected_style = self.get_component_rich_style("attachment-chips--selected")
        remove_style = self.get_component_rich_style("attachment-chips--remove", partial=True)
        hint_style = self.get_component_rich_style("attachment-chips--hint")
        text = Text(no_wrap=True, overflow="ellipsis")
        for number, row in enumerate(self._layout(self.content_size.width)):
            if number:
                text.append("\n")
            for position, (index, label) in enumerate(row):
                if position:
                    text.append("  " if index < 0 else " ")
                if index < 0:
                    text.append(label, hint_style)
                    continue
                chosen = self.has_focus and index == self.selected
                style: Style = selected_style if chosen else chip_style
                body, mark = label[: -len(REMOVE) - 1], label[-len(REMOVE) - 1 :]
                text.append(body, style)
                text.append(mark, style if chosen else style + remove_style)
        return text
