"""A list of sessions that stays instant at 10,000 rows: one widget drawing only visible lines.

A DataTable builds an object per cell up front; filling one with 10,000 sessions took ~3.5 s
here. This widget keeps the summaries and draws each visible row when asked (Textual's line
API), so filling it costs nothing and scrolling costs one line per row shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style

from glmtui.chat.formatting import age
from glmtui.domain.text import visible_controls

if TYPE_CHECKING:
    from glmtui.store import SessionSummary

UPDATED_WIDTH = 12
MODEL_WIDTH = 20
MESSAGES_WIDTH = 6
TOKENS_WIDTH = 9
GAP = 2


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with an ellipsis, padded with spaces (control
    characters in a title or snippet are drawn as symbols, never sent to the terminal)."""
    text = visible_controls(text)
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.ljust(width)


class SessionTable(ScrollView, can_focus=True):
    """Sessions, one per line: title (and search snippet), updated, model, messages, tokens.

    | Key | Action |
    |---|---|
    | Up / Down | Move the cursor |
    | PageUp / PageDown, Home / End | Move by a page / to either end |
    | Enter | Open the session under the cursor |
    """

    DEFAULT_CSS = """
    SessionTable { height: 1fr; }
    SessionTable > .session-table--shared-id { color: $text-warning; text-style: italic; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "session-table--cursor",
        "session-table--stripe",
        "session-table--unreadable",
        "session-table--snippet",
        "session-table--shared-id",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False, id="session_table.up"),
        Binding("down", "move(1)", "Down", show=False, id="session_table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="session_table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="session_table.page_down"),
        Binding("home", "edge(-1)", "First", show=False, id="session_table.first"),
        Binding("end", "edge(1)", "Last", show=False, id="session_table.last"),
        Binding("enter", "open", "Open", id="session_table.open"),
    ]

    @dataclass
    class Opened(Message):
        """The user asked to open the session under the cursor."""

        table: SessionTable
        summary: SessionSummary

        @property
        def control(self) -> SessionTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[SessionSummary] = []
        self.snippets: dict[str, str] = {}
        """Search snippets by file name (two files may share an id, never a name)."""
        self.cursor = 0
        self.now = datetime.now(UTC)

    # --- content ---------------------------------------------------------------------------

    def set_rows(self, rows: list[SessionSummary], snippets: dict[str, str], now: datetime) -> None:
        """Show ``rows`` (keeping the cursor on the same file when it is still listed).

        Args:
            rows: The sessions, in order.
            snippets: Search snippets by file name (:attr:`SessionSummary.name`).
            now: The time ages are counted from.
        """
        current = self.current
        self.rows = rows
        self.snippets = snippets
        self.now = now
        self.cursor = 0
        if current is not None:
            for index, row in enumerate(rows):
                if row.id == current.id and row.name == current.name:
                    self.cursor = index
                    break
        self.virtual_size = Size(self.size.width, len(rows))
        self._scroll_to_cursor()
        self.refresh()

    @property
    def current(self) -> SessionSummary | None:
        """The row under the cursor."""
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    @staticmethod
    def title_width(width: int) -> int:
        """Cells left for the title at a table width."""
        return max(
            10, width - UPDATED_WIDTH - MODEL_WIDTH - MESSAGES_WIDTH - TOKENS_WIDTH - 5 * GAP
        )

    @classmethod
    def header(cls, width: int) -> str:
        """The column headings, aligned with the rows."""
        gap = " " * GAP
        return (
            " "
            + _fit("Title", cls.title_width(width))
            + gap
            + _fit("Updated", UPDATED_WIDTH)
            + gap
            + _fit("Model", MODEL_WIDTH)
            + gap
            + "Msgs".rjust(MESSAGES_WIDTH)
            + gap
            + "Tokens".rjust(TOKENS_WIDTH)
        )

    # --- drawing ---------------------------------------------------------------------------

    def _row_content(self, row: SessionSummary, width: int, *, cursor: bool = False) -> Content:
        title_width = self.title_width(width)
        gap = " " * GAP
        if row.error:
            label = _fit(f"⚠ {row.name}: {row.error}", title_width)
            return Content.styled(f" {label}{gap}{_fit('unreadable', UPDATED_WIDTH)}", "italic")
        title = ("🔒 " if row.read_only else "") + (row.title or "Untitled")
        shared_at = None
        if row.same_id_as:
            # Marked before the snippet, so a narrow table still shows it.
            more = f" and {len(row.same_id_as) - 1} more" if len(row.same_id_as) > 1 else ""
            shared_at = len(title) + 2
            title = f"{title}  same id as {row.same_id_as[0]}{more}"
        snippet = self.snippets.get(row.name, "")
        if snippet and snippet != row.title:
            title_text = _fit(f"{title}  {snippet}", title_width)
            snippet_at = min(len(title) + 2, len(title_text))
        else:
            title_text = _fit(title, title_width)
            snippet_at = len(title_text)
        tokens = f"{'~' if row.tokens_estimated else ''}{row.tokens:,}"
        text = (
            " "
            + title_text
            + gap
            + _fit(age(row.updated_at, self.now), UPDATED_WIDTH)
            + gap
            + _fit(row.model, MODEL_WIDTH)
            + gap
            + f"{row.message_count:,}".rjust(MESSAGES_WIDTH)
            + gap
            + tokens.rjust(TOKENS_WIDTH)
        )
        content = Content(text)
        if snippet_at < len(title_text):
            content = content.stylize(
                self.get_visual_style("session-table--snippet"), 1 + snippet_at, 1 + len(title_text)
            )
        if shared_at is not None and shared_at < len(title_text):
            # Only the text's colour and style: the row's background (stripe, cursor) stays.
            marked = self.get_visual_style("session-table--shared-id")
            mark = Style(
                foreground=None if cursor else marked.foreground,
                italic=marked.italic,
                bold=marked.bold,
            )
            end = min(snippet_at, len(title_text))
            content = content.stylize(mark, 1 + shared_at, 1 + end)
        return content

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + int(self.scroll_y)
        base = self.visual_style
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, base.rich_style)
        row = self.rows[index]
        style = base
        if index % 2:
            style = style + self.get_visual_style("session-table--stripe")
        if row.error:
            style = style + self.get_visual_style("session-table--unreadable")
        if index == self.cursor:
            style = style + self.get_visual_style("session-table--cursor")
        content = self._row_content(row, width, cursor=index == self.cursor)
        segments = content.render_segments(style)
        return Strip(segments).extend_cell_length(width, style.rich_style).crop(0, width)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.rows))

    # --- moving ----------------------------------------------------------------------------

    def _scroll_to_cursor(self) -> None:
        if self.rows:
            self.scroll_to_region(
                Region(0, self.cursor, self.size.width or 1, 1), animate=False, immediate=True
            )

    def move_cursor(self, row: int) -> None:
        """Put the cursor on a row (clamped) and scroll it into view."""
        if not self.rows:
            return
        self.cursor = max(0, min(len(self.rows) - 1, row))
        self._scroll_to_cursor()
        self.refresh()

    def action_move(self, step: int) -> None:
        """Move the cursor up or down."""
        self.move_cursor(self.cursor + step)

    def action_page(self, direction: int) -> None:
        """Move the cursor by a page."""
        self.move_cursor(self.cursor + direction * max(1, self.size.height - 1))

    def action_edge(self, direction: int) -> None:
        """Move the cursor to the first or last row."""
        self.move_cursor(0 if direction < 0 else len(self.rows) - 1)

    def action_open(self) -> None:
        """Open the session under the cursor."""
        current = self.current
        if current is not None:
            self.post_message(self.Opened(self, current))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = offset.y + int(self.scroll_y)
        if 0 <= index < len(self.rows):
            self.focus()
            if event.chain >= 2 and index == self.cursor:
                self.action_open()
            else:
                self.move_cursor(index)
