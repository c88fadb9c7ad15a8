"""The key-hint footer: one line, redrawn (never rebuilt) when the keys change.

Textual's ``Footer`` is a container of one widget per key and recomposes (unmounts, mounts
and restyles every key, then lays out the whole screen) each time a screen's bindings are
refreshed. Sending one prompt refreshes them about nine times (focus moves, the reply starts,
workers finish); with the parameter sidebar on screen that was most of the CPU a short turn
took (about 0.25 s of 0.4 s). This footer draws the same hints as a single line of text, so a
change costs one repaint of one line. Clicking a hint presses its key, as with ``Footer``.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import RenderResult
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget


@dataclass(frozen=True)
class Hint:
    """One key hint as drawn: its key, label, state and where it sits on the line."""

    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str
    start: int = 0
    end: int = 0


class KeyFooter(Widget, can_focus=False):
    """The keys that matter now, at the bottom of a screen (and the command palette key)."""

    ALLOW_SELECT = False

    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
    }
    """

    KEY_STYLE = "bold $footer-key-foreground"
    DESCRIPTION_STYLE = "$footer-description-foreground"
    HOVER_STYLE = "on $block-hover-background"
    DISABLED_STYLE = "dim"

    def __init__(self, *, show_command_palette: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_command_palette = show_command_palette
        self._hints: list[Hint] = []
        self._palette: Hint | None = None
        self._hover: str | None = None
        self._placed: list[Hint] = []
        """The hints with their columns, as last drawn (for the mouse)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    # --- what to show ----------------------------------------------------------------------

    def _bindings_changed(self, screen: Screen[object]) -> None:
        """Recompute the hints; repaint only when they differ from what is shown."""
        if screen is not self.screen:
            return
        hints, palette = self._collect()
        if hints != self._hints or palette != self._palette:
            self._hints, self._palette = hints, palette
            self.refresh()

    def _collect(self) -> tuple[list[Hint], Hint | None]:
        app = self.app
        active = self.screen.active_bindings
        hints: list[Hint] = []
        seen: set[str] = set()
        for _node, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue  # several keys for one action: the first one is shown, as Footer does
            seen.add(binding.action)
            hints.append(
                Hint(
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    enabled,
                    tooltip or binding.description,
                )
            )
        palette = None
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            entry = active.get(app.COMMAND_PALETTE_BINDING)
            if entry is not None:
                _node, binding, enabled, tooltip = entry
                palette = Hint(
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    enabled,
                    tooltip or binding.description,
                )
        return hints, palette

    # --- drawing ---------------------------------------------------------------------------

    def _piece(self, hint: Hint) -> Content:
        style = "" if hint.enabled else self.DISABLED_STYLE
        if hint.key == self._hover and hint.enabled:
            style = f"{style} {self.HOVER_STYLE}".strip()
        key = Content.styled(hint.display, self.KEY_STYLE)
        text = Content.styled(f" {hint.description}", self.DESCRIPTION_STYLE)
        piece = Content.assemble(key, text)
        return piece.stylize(style) if style else piece

    def render(self) -> RenderResult:
        width = self.size.width
        palette_hint = self._palette
        palette = None
        if palette_hint is not None:
            palette = Content.assemble("▏", self._piece(palette_hint), " ")
        room = width - (palette.cell_length if palette is not None else 0)
        pieces: list[Content] = []
        placed: list[Hint] = []
        x = 0
        for index, hint in enumerate(self._hints):
            piece = Content.assemble(" ", self._piece(hint), " ")
            last = index == len(self._hints) - 1
            if x + piece.cell_length > room - (0 if last else 2):
                pieces.append(Content.styled(" …", self.DESCRIPTION_STYLE))  # more keys: F1
                x += 2
                break
            placed.append(_at(hint, x + 1, x + piece.cell_length - 1))
            pieces.append(piece)
            x += piece.cell_length
        line = Content.assemble(*pieces)
        if palette is not None and palette_hint is not None:
            start = max(x, width - palette.cell_length)
            line = Content.assemble(line, " " * (start - x), palette)
            placed.append(_at(palette_hint, start + 1, start + palette.cell_length - 1))
        self._placed = placed
        return line.truncate(width) if width else line

    # --- mouse -----------------------------------------------------------------------------

    def _hint_at(self, x: int) -> Hint | None:
        for hint in self._placed:
            if hint.start <= x < hint.end:
                return hint
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hint = self._hint_at(event.x)
        key = hint.key if hint is not None else None
        if key != self._hover:
            self._hover = key
            self.tooltip = hint.tooltip if hint is not None else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        """Clicking a hint presses its key."""
        hint = self._hint_at(event.x)
        if hint is not None and hint.enabled:
            event.stop()
            self.app.simulate_key(hint.key.split(",")[0])


def _at(hint: Hint, start: int, end: int) -> Hint:
    return Hint(hint.key, hint.display, hint.description, hint.enabled, hint.tooltip, start, end)
