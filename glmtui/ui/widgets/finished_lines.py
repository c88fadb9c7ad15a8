"""Finished lines for a line-API widget that hands out the same strip objects again.

Textual passes every line it repaints through the widget's styles cache, which builds a new
strip for it (fitted to the content width, then through the app's colour filter) and so
defeats every cache behind it: the compositor cuts the new strip again and the driver turns it
into escape codes again. For the conversation pane that is most of what a scroll costs: each
scroll of a streaming reply repaints the whole pane, and every one of its lines is a line the
pane already showed a moment ago, one row higher (measured: ~3 ms a scroll, ~0.1 ms a line).

:class:`FinishedLines` remembers the finished strip made from each content strip the widget
returned, so a line that merely moved costs a dictionary lookup, and the finished strip being
the same object, the compositor's and the driver's own caches hold for it as well. It does the
same work as the styles cache for the widgets it accepts, and declines (``None``) any widget
whose styles need more: padding, a border, an outline, tint, opacity, text opacity, hatching,
or a hovered clickable link.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style as RichStyle
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

LIMIT = 1024
"""Finished lines remembered at most (a few screens); past it the memory starts afresh."""


class FinishedLines:
    """Finished strips of one widget, keyed by the content strip they were made from."""

    def __init__(self) -> None:
        self._finished: dict[int, tuple[Strip, Strip]] = {}
        """``id(content strip)`` → (that strip, kept alive so the id stays its own; finished)."""
        self._key: object = None

    def clear(self) -> None:
        self._finished.clear()

    def render(
        self, widget: Widget, crop: Region, content_lines: Callable[[Region], list[Strip]]
    ) -> list[Strip] | None:
        """The lines of ``crop`` as Textual's styles cache would draw them, or ``None`` when
        ``widget``'s styles need the full path (``super().render_lines`` then).

        ``content_lines(crop)`` returns the widget's content strips for the rows of ``crop``
        (what ``render_line`` returns for each, in one call: it runs at every frame)."""
        if not plainly_styled(widget):
            return None
        base_background, background = widget.background_colors
        width = widget.region.width
        content_width = widget.content_region.width
        filters = tuple(widget.get_line_filters())
        fill = Style(background=base_background + background).rich_style
        key = (width, content_width, fill, background, filters)
        finished = self._finished
        if key != self._key or len(finished) > LIMIT:
            finished.clear()
            self._key = key
        lines: list[Strip] = []
        for content in content_lines(crop):
            known = finished.get(id(content))
            if known is not None and known[0] is content:
                lines.append(known[1])
                continue
            line = _finish(content, width, content_width, fill, filters, background)
            finished[id(content)] = (content, line)
            lines.append(line)
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            lines = [line.crop(x1, x2) for line in lines]
        return lines


def plainly_styled(widget: Widget) -> bool:
    """True when the styles cache draws ``widget``'s lines as they are, each on its own: no
    padding, border, outline, tint, opacity, text opacity, hatching, or hovered click-link."""
    styles = widget.styles
    return not (
        styles.gutter
        or any(edge for edge, _ in styles.outline)
        or styles.tint.a
        or widget.opacity != 1.0
        or styles.text_opacity != 1.0
        or (styles.has_rule("hatch") and styles.hatch != "none")
        or _hovering_click_link(widget)
    )


def _finish(
    content: Strip,
    width: int,
    content_width: int,
    fill: RichStyle,
    filters: tuple[LineFilter, ...],
    background: Color,
) -> Strip:
    """What the styles cache makes of a content line of a widget without gutter or effects."""
    line = Strip(content.adjust_cell_length(content_width, fill), width)
    for line_filter in filters:
        line = line.apply_filter(line_filter, background)
    return line


def _hovering_click_link(widget: Widget) -> bool:
    """True while the mouse is over a clickable link in ``widget`` (Textual then restyles the
    link's lines as it draws them: left to the full path)."""
    if not widget.auto_links:
        return False
    hover = widget.hover_style
    return bool(hover.link_id and hover.meta and "@click" in hover.meta)
