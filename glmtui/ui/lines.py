"""Rendered lines of a conversation item, and the machinery to make them cheaply.

An item (:mod:`glmtui.ui.items`) hands the conversation view its lines as parts, each a
:class:`Lines` at one width; the view repaints only parts whose identity changed. Large plain
text is laid out a budget at a time and drawn only where it is shown (:class:`PlainLayout`).
Shared by the items and by the tool blocks inside replies (:mod:`glmtui.ui.tool_block`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.cells import cell_len
from textual.content import Content
from textual.strip import Strip

from glmtui.domain.text import visible_controls

LAZY_FROM = 64_000
"""Plain text (a prompt, finished reasoning) longer than this is laid out a budget of time per
frame and drawn a chunk at a time, only where it is on screen (see :class:`PlainLayout`)."""
PLAIN_CHUNK = 16_000
"""Characters of plain text per chunk (cut after a line break where there is one)."""
KEEP_CHUNKS = 12
"""Chunks of a large plain text kept drawn at a time (a few screens); older ones are dropped
and drawn again if scrolled back to."""


class Lines:
    """Rendered lines of one part of an item at one width.

    The object's identity is what the view compares to decide which lines to repaint, so an
    unchanged part must be returned as the *same* object.
    """

    __slots__ = ("content", "strips", "width")

    def __init__(self, content: list[Content], width: int) -> None:
        self.content = content
        self.width = width
        self.strips: dict[object, list[Strip]] = {}
        """Converted strips, keyed by the style they were drawn with (filled in by the view)."""

    @property
    def height(self) -> int:
        """How many lines there are (without drawing any that are not drawn yet)."""
        return len(self.content)


class LazyLines(Lines):
    """Lines of one chunk of a large plain text, known by their number until they are drawn.

    Why: a 50 MB prompt is ~700,000 lines. Drawing them all when it was unfolded held the
    screen for half a minute and took gigabytes; a chunk is drawn (:attr:`content`) only when
    the view shows one of its lines, and dropped again once it has not been shown for a while
    (:class:`PlainLayout` keeps the last :data:`KEEP_CHUNKS`).
    """

    __slots__ = ("_height", "_layout", "_lines", "blank_before", "end", "start")

    def __init__(
        self, span: tuple[int, int], blank_before: bool, height: int, layout: PlainLayout
    ) -> None:
        self.start, self.end = span
        """Where the chunk's text is in the layout's text (without its closing line break)."""
        self.blank_before = blank_before
        """The chunk before ended in a blank line (for ``collapse_blank``)."""
        self.width = layout.key
        self.strips = {}
        self._height = height
        self._layout = layout
        self._lines: list[Content] | None = None

    @property
    def height(self) -> int:
        return self._height

    @property
    def text(self) -> str:
        """The chunk's source text (find counts matches in it without drawing the chunk)."""
        return self._layout.text[self.start : self.end]

    @property
    def content(self) -> list[Content]:  # type: ignore[override]
        """The chunk's lines, drawn now if they are not."""
        if self._lines is None:
            self._lines = self._layout.draw(self)
        self._layout.shown(self)
        return self._lines

    def drop(self) -> None:
        """Forget the drawn lines and their strips (drawn again when shown again)."""
        self._lines = None
        self.strips.clear()


def _line_count(line: str, width: int) -> int:
    """How many lines ``Content(line).wrap(width)`` gives, without wrapping a line that fits."""
    if not line or (len(line) <= width and line.isascii() and "\t" not in line):
        return 1
    if "\t" not in line and cell_len(line) <= width:
        return 1
    return len(Content(line).wrap(width))


class PlainLayout:
    """A large plain text at one width, split into chunks, laid out a budget at a time.

    Laying out counts each chunk's wrapped lines (a line that fits is counted, not wrapped),
    so the view knows the text's height and scrollbar at once; the lines themselves are drawn
    per chunk as they are shown (:class:`LazyLines`). The lines equal :func:`render_plain`'s
    for the whole text, except that a line longer than :data:`PLAIN_CHUNK` characters is
    broken (after a space, where there is one) once per chunk. ``collapse_blank`` keeps one
    blank line of each run of them, and none at the ends (reasoning: one between paragraphs).
    """

    def __init__(
        self,
        text: str,
        width: int,
        *,
        style: str = "",
        prefix: Content | None = None,
        collapse_blank: bool = False,
    ) -> None:
        self.text = text.strip("\n") if collapse_blank else text.rstrip("\n")
        self.key = width
        """The width this layout is for (the item's, prefix included)."""
        self.width = max(8, width - (prefix.cell_length if prefix is not None else 0))
        self.style = style
        self.prefix = prefix
        self.collapse_blank = collapse_blank
        self.parts: list[LazyLines] = []
        self.done = 0
        """Characters of :attr:`text` laid out so far."""
        self._blank = False
        """The last line laid out was blank (``collapse_blank``)."""
        self._drawn: dict[int, LazyLines] = {}
        """Chunks with drawn lines, the one shown longest ago first."""

    @property
    def complete(self) -> bool:
        """True once every chunk is laid out."""
        return self.done >= len(self.text)

    @property
    def left(self) -> int:
        """Characters still to lay out."""
        return len(self.text) - self.done

    def advance(self, budget: float | None) -> None:
        """Lay out chunks for ``budget`` seconds (at least one; all of them for None)."""
        deadline = None if budget is None else time.perf_counter() + budget
        text = self.text
        size = len(text)
        while self.done < size:
            start = self.done
            end = text.find("\n", start + PLAIN_CHUNK // 2, start + PLAIN_CHUNK)
            if end < 0:
                end = text.rfind("\n", start, start + PLAIN_CHUNK)
            if end >= 0:
                self.done = end + 1  # the line break closes the chunk (a CRLF's CR too)
                if end > start and text[end - 1] == "\r":
                    end -= 1
            else:  # the end, or one endless line: break it after a space
                end = min(size, start + PLAIN_CHUNK)
                if end < size and (space := text.rfind(" ", start + PLAIN_CHUNK // 2, end)) > 0:
                    end = space + 1
                self.done = end
            blank_before = self._blank
            lines, self._blank = self._lines_of(text[start:end], blank_before)
            height = sum(_line_count(line, self.width) for line in lines)
            if height:
                self.parts.append(LazyLines((start, end), blank_before, height, self))
            if deadline is not None and time.perf_counter() > deadline:
                return

    def _lines_of(self, source: str, blank_before: bool) -> tuple[list[str], bool]:
        """The chunk's lines (controls drawn as symbols; blank runs collapsed when asked), and
        whether the last of them is blank."""
        lines = visible_controls(source).split("\n")
        if not self.collapse_blank:
            return lines, False
        out: list[str] = []
        blank = blank_before
        for line in lines:
            if line.strip():
                out.append(line)
                blank = False
            elif not blank:
                out.append("")
                blank = True
        return out, blank

    def draw(self, part: LazyLines) -> list[Content]:
        """A chunk's lines (for :class:`LazyLines`)."""
        style, width = self.style, self.width
        lines, _ = self._lines_of(self.text[part.start : part.end], part.blank_before)
        out: list[Content] = []
        for line in lines:
            content = Content.styled(line, style) if style else Content(line)
            out.extend(content.wrap(width) if line else [Content("")])
        prefix = self.prefix
        return out if prefix is None else [prefix + line for line in out]

    def shown(self, part: LazyLines) -> None:
        """``part`` is on screen: keep it drawn, and drop the chunk shown longest ago."""
        drawn = self._drawn
        drawn.pop(id(part), None)
        drawn[id(part)] = part
        while len(drawn) > KEEP_CHUNKS:
            drawn.pop(next(iter(drawn))).drop()


class OneLine:
    """One-line parts keyed by text, so an unchanged line keeps its identity (a header whose
    text did not change is not repainted)."""

    def __init__(self) -> None:
        self._parts: dict[str, Lines] = {}

    def get(self, key: str, width: int, make: Callable[[], list[Content]]) -> Lines:
        part = self._parts.get(key)
        if part is None or part.width != width:
            if len(self._parts) > 64:
                self._parts.clear()
            part = self._parts[key] = Lines(make(), width)
        return part
