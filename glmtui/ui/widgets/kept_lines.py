"""Lines handed out again, for widgets Textual asks to draw at every frame though they did not
change: the conversation's scrollbar and the chat screen beneath everything.

Why: at each partial repaint Textual's compositor asks every widget whose *clip* overlaps the
updated area for all of its lines. The pane's scrollbar and the screen itself are clipped by
the whole screen, so both are asked at every frame of a streaming reply (~30 a second). Textual
answers from its line cache, but each answer still works out the widget's colours, theme and
filters again, and each time a scroll step moves the bar it draws all of its rows afresh.
Measured over a 4,000-token reply at 200 tokens/s: ~0.3 s of CPU (1.5 % of a core) for lines
that change some fifty times a reply; ~0.05 s with what follows.

:class:`KeptLines` keeps the last answer and gives it again for the same crop and line
filters, until Textual marks the widget dirty (``_set_dirty``, the one place where Textual's own
line cache forgets its lines: every refresh, resize and style reset goes through it). So it
hands out exactly what Textual would have drawn, one lookup instead of a pass through the styles
cache. ``_set_dirty`` is Textual's, not public API; ``tests/test_kept_lines.py`` pins that the
kept lines equal Textual's own drawing after scrolls, theme changes, hovering, dragging,
resizing and under a modal screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.color import Color
from rich.segment import Segment
from textual.filter import LineFilter
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widget import Widget

from glmtui.ui.widgets.finished_lines import plainly_styled

_Kept = tuple[Region, tuple[LineFilter, ...], list[Strip]]

if TYPE_CHECKING:
    _Base = Widget
else:
    _Base = object


class KeptLines(_Base):
    """Mixin for a :class:`~textual.widget.Widget`: ``render_lines`` answers again from the
    last answer while the widget is not dirty. List it before the widget class."""

    _kept: _Kept | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        filters = tuple(self.app.get_line_filters())
        kept = self._kept
        if kept is not None and kept[0] == crop and kept[1] == filters:
            return list(kept[2])
        lines = super().render_lines(crop)
        self._kept = (crop, filters, list(lines))
        return lines

    def _set_dirty(self, *regions: Region) -> None:
        self._kept = None
        super()._set_dirty(*regions)


class _LearnedRows(ScrollBar):
    """A vertical scrollbar that draws a changed bar from the rows Textual drew before.

    Why: when a streaming reply scrolls the pane (every few lines) the bar changes, and Textual
    draws all of its rows again through the styles cache (~0.1 ms a row, cold: ~4 ms a bar,
    ~50 times a reply). Yet every row is one segment out of a few (track above or below the
    thumb, thumb, an end glyph), and a row's line depends on its segment alone. So the bar's
    segments are worked out as Textual's renderer works them out (cheap), and when every one
    of them was seen in a line Textual drew, at the same size, colours and filters, those lines
    are the answer; otherwise Textual draws the bar and its rows are learnt.
    """

    def __init__(self, *, vertical: bool = True, name: str | None = None, thickness: int = 1):
        super().__init__(vertical=vertical, name=name, thickness=thickness)
        self._rows: dict[Segment, Strip] = {}
        self._rows_key: object = None

    def render_lines(self, crop: Region) -> list[Strip]:
        segments = self._bar_segments()
        if segments is None:
            return super().render_lines(crop)
        app = self.app
        key = (
            self.size,
            crop.column_span,
            self.visual_style,
            self.background_colors,
            tuple(app.get_line_filters()),
            app.ansi_theme,
            app.native_ansi_color,
        )
        if key != self._rows_key:
            self._rows.clear()
            self._rows_key = key
        rows = segments[crop.y : crop.bottom]
        known = self._rows
        if all(row in known for row in rows):
            return [known[row] for row in rows]
        lines = super().render_lines(crop)
        if len(lines) == len(rows):
            known.update(zip(rows, lines, strict=True))
        return lines

    def _bar_segments(self) -> list[Segment] | None:
        """One segment per row, as :class:`ScrollBarRender` renders this bar, or ``None`` when
        the bar is not one this can draw (horizontal, styled beyond colours, another renderer)."""
        if not self.vertical or not plainly_styled(self):
            return None
        renderable = self.render()
        if (
            not isinstance(renderable, ScrollBarRender)
            or type(renderable).__rich_console__ is not ScrollBarRender.__rich_console__
        ):
            return None
        width, height = self.size
        style = self.app.console.get_style(renderable.style)
        bar = renderable.render_bar(
            size=height,
            window_size=renderable.window_size,
            virtual_size=renderable.virtual_size,
            position=renderable.position,
            vertical=True,
            thickness=width,
            back_color=style.bgcolor or Color.parse("#555555"),
            bar_color=style.color or Color.parse("bright_magenta"),
        )
        segments = bar.segments
        return segments if len(segments) == height else None


class KeptScrollBar(KeptLines, _LearnedRows):
    """Textual's scrollbar, drawn again only when it changed, and then from known rows."""
