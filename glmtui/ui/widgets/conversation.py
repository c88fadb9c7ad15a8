"""The conversation pane: ONE scrolling widget that draws every message with Textual's line API.

Why one widget: Textual lays out and composites every widget on each frame, so a message made
of widgets costs layout and CSS work in proportion to the conversation's size, on every frame
of a streaming reply. Here messages are :mod:`items <glmtui.ui.items>` that render lines into
caches; a frame repaints only the lines that changed, a streaming reply is redrawn at most
30 times a second, and a long conversation loads its earlier messages only when you scroll up
to them.

The view follows the newest text while you are at the bottom (Textual's scroll anchor):
scroll up and it stays put; End (or scrolling back down) follows again.
"""

from __future__ import annotations

import asyncio
import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Offset, Region, Size
from textual.message import Message as TextualMessage
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.style import Style
from textual.timer import Timer

from glmtui.domain import Message
from glmtui.domain.markdown import code_blocks
from glmtui.ui.clipboard import copy_text
from glmtui.ui.compacted import CompactedItem, check_compaction_action
from glmtui.ui.find import Highlight
from glmtui.ui.items import LAZY_FROM, Item, LazyLines, Lines, ReplyItem, UserItem
from glmtui.ui.tool_block import TICK

FRAME_INTERVAL = 1 / 30
"""Most frequent redraw of streaming text: tokens are coalesced per frame, never dropped."""
RENDER_BUDGET = 0.05
"""Seconds a frame may spend formatting a reply's finished blocks; the rest waits a frame."""
SLOWEST_FRAME = 1 / 12
"""Least frequent redraw of streaming text (for slow streams)."""
TOKENS_PER_FRAME = 5
"""Slow streams are drawn about this many tokens at a time (fast ones at 30 frames/s)."""
BATCH_SETTLE = 0.002
"""A frame is drawn at least this long after the text that asked for it, so that it shows
the whole of a read: the events one read brings reach the screen over a few turns of the
event loop (~0.1-1 ms). Drawn at once, a frame would show the first of them, and the rest
would wait for the next frame (measured at 200 tokens/s: median latency 35 ms, not 21)."""
SPIN_INTERVAL = 0.1
"""Spinner frames while a reply waits for its first token."""
META_INTERVAL = 0.5
"""Refresh of a streaming reply's token count and speed."""
LIVE_HEIGHT_STEP = 6
"""A streaming reply's height grows in steps of at least this many lines (the spare lines are
blank), so the conversation scrolls (a full repaint, and the scrollbar drawn again: ~4 ms)
every few lines instead of on every line."""
LIVE_HEIGHT_SHARE = 5
"""In a tall terminal the step is this fraction of its height (a fifth: 8 lines in 40 rows),
so the blank space below a streaming reply looks the same at any terminal size. The terminal's
height, not the pane's: the pane shrinks as the prompt being typed grows, and the step should
not change under a reply."""
GAP = 1
"""Blank lines between messages."""
MARGIN = 1
"""Blank columns left and right of every message (drawn here, not by CSS padding: cheaper)."""
BOTTOM = 1
"""Blank lines after the last message."""
WORD = re.compile(r"\w+(?:[.\-/]\w+)*")
"""What a double click selects: a word, or words joined by dots, hyphens or slashes (a dotted
name, a path), without the punctuation after it."""
TEXT_X = MARGIN + 2
"""The column a message's text starts at (after the margin, the bar and a space)."""

SELECTION_ACTIONS = frozenset(
    {"caret", "caret_word", "restart_selection", "copy_selected_text", "leave_selection"}
)
"""The keyboard selection mode's actions: active only while it is on."""
LOAD_SCREENS = 3
"""How many screens of earlier messages to load at a time."""


def _raise(error: Exception) -> None:
    raise error


def _top(row: _Row) -> int:
    return row.top


def _same_line(old: Content, new: Content) -> bool:
    """True if two lines look the same: text *and* styles (``Content.__eq__`` compares text
    only, so a line that just got highlighted would not be repainted)."""
    return old is new or (old.plain == new.plain and old.spans == new.spans)


class ItemStrips:
    """An item's lines as strips, each part converted the first time one of its lines is
    asked for: a huge message converts only the chunks on screen, never all of it."""

    __slots__ = ("_convert", "_height", "_parts", "_starts")

    def __init__(self, parts: list[Lines], convert: Callable[[Lines], list[Strip]]) -> None:
        starts: list[int] = []
        top = 0
        for part in parts:
            starts.append(top)
            top += part.height
        self._parts = parts
        self._starts = starts
        self._height = top
        self._convert = convert

    def __len__(self) -> int:
        return self._height

    def __getitem__(self, line: int) -> Strip:
        if not 0 <= line < self._height:
            raise IndexError(line)
        index = bisect.bisect_right(self._starts, line) - 1  # the last part starting there
        return self._convert(self._parts[index])[line - self._starts[index]]


@dataclass(frozen=True, slots=True)
class _Row:
    """Where an item's lines start, and how many there are."""

    top: int
    height: int


class ConversationView(ScrollView, can_focus=True):
    """The scrolling conversation. When focused, one message is selected and keys act on it.

    | Key | Action |
    |---|---|
    | Up / Down, k / j | Select the previous / next message |
    | c | Copy the selected message |
    | b | Copy a code block (pick one when there are several) |
    | e | Edit the selected prompt and resend from there |
    | r | Regenerate the last reply |
    | t | Fold or unfold the reply's reasoning |
    | o | Show a long prompt, or a reply's tool results, whole; or fold them again |
    | d, Delete | Delete the selected message |
    | f | Fork: continue in a copy that ends at the selected message |
    | u | Undo the compaction (on its summary or its folded messages) |
    | PageUp / PageDown | Scroll a page |
    | Home / End | Start of the conversation / newest text (and follow it) |
    | g / G | (``vi_keys``) First / last message |
    | /, n / N | (``vi_keys``) Find; next / previous match |
    """

    DEFAULT_CSS = """
    ConversationView { height: 1fr; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "conversation--user",
        "conversation--user-bar",
        "conversation--assistant",
        "conversation--assistant-bar",
        "conversation--selected",
        "conversation--selected-bar",
        "conversation--earlier",
        "conversation--empty",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "select_text", "Select text", show=False, id="conversation.select_text"),
        Binding("up,k", "select(-1)", "Previous", show=False, id="message.previous"),
        Binding("down,j", "select(1)", "Next", show=False, id="message.next"),
        Binding("c", "copy", "Copy", id="message.copy"),
        Binding("b", "copy_code", "Copy code", id="message.copy_code"),
        Binding("e", "request('edit')", "Edit & resend", id="message.edit"),
        Binding("r", "request('regenerate')", "Regenerate", id="message.regenerate"),
        Binding("t", "toggle_reasoning", "Reasoning", id="message.toggle_reasoning"),
        Binding("o", "toggle_fold(True)", "Expand", id="message.expand"),
        Binding("o", "toggle_fold(False)", "Fold", id="message.fold"),
        Binding("d,delete", "request('delete')", "Delete", id="message.delete"),
        Binding("f", "request('fork')", "Fork", id="message.fork"),
        Binding("u", "request('undo_compaction')", "Undo compaction", id="message.undo_compaction"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="conversation.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="conversation.page_down"),
        Binding("home", "top", "Top", show=False, id="conversation.top"),
        Binding("end", "follow", "Follow", show=False, id="conversation.follow"),
        # vi keys: only with the vi_keys setting (check_action), so g, G, /, n and N are
        # free otherwise. Find is the chat screen's (chat.find); without it they do nothing.
        Binding("g", "vi_edge(-1)", "First", show=False, id="conversation.first"),
        Binding("G", "vi_edge(1)", "Last", show=False, id="conversation.last"),
        Binding("slash", "vi_find('find')", "Find", show=False, id="conversation.find"),
        Binding("n", "vi_find('find_next')", "Next match", show=False, id="conversation.find_next"),
        Binding(
            "N",
            "vi_find('find_previous')",
            "Previous match",
            show=False,
            id="conversation.find_previous",
        ),
        # The keyboard selection mode (v): while it is on, every other binding of the view is
        # off (check_action), so its keys reach these.
        Binding("left,h", "caret(-1, 0)", "Left", show=False, id="text_selection.left"),
        Binding("right,l", "caret(1, 0)", "Right", show=False, id="text_selection.right"),
        Binding("up,k", "caret(0, -1)", "Up", show=False, id="text_selection.up"),
        Binding("down,j", "caret(0, 1)", "Down", show=False, id="text_selection.down"),
        Binding(
            "shift+left", "caret(-1, 0)", "Extend left", show=False, id="text_selection.extend_left"
        ),
        Binding(
            "shift+right",
            "caret(1, 0)",
            "Extend right",
            show=False,
            id="text_selection.extend_right",
        ),
        Binding("shift+up", "caret(0, -1)", "Extend up", show=False, id="text_selection.extend_up"),
        Binding(
            "shift+down", "caret(0, 1)", "Extend down", show=False, id="text_selection.extend_down"
        ),
        Binding("w", "caret_word(1)", "Word", id="text_selection.word_next"),
        Binding("b", "caret_word(-1)", "Back", id="text_selection.word_previous"),
        Binding("v", "restart_selection", "Restart here", id="text_selection.restart"),
        Binding("y,enter,ctrl+c", "copy_selected_text", "Copy", id="text_selection.copy"),
        Binding("escape", "leave_selection", "Cancel", id="text_selection.cancel"),
    ]

    vi_keys = False
    """Whether g, G, /, n and N work (the ``vi_keys`` setting; j and k always do)."""

    @dataclass
    class ActionRequested(TextualMessage):
        """The user asked for something that changes the conversation (the screen decides)."""

        view: ConversationView
        message: Message
        action: str
        """``delete``, ``edit``, ``regenerate``, ``copy_code``, ``fork``, ``retry`` or
        ``undo_compaction``."""

        @property
        def control(self) -> ConversationView:
            return self.view

    def __init__(self, *, id: str | None = None, editable: bool = True) -> None:
        """
        Args:
            editable: Offer edit, regenerate, delete and fork (False: a read-only view, such
                as a compare pane, offers only selection, copying and reasoning).
        """
        super().__init__(id=id)
        self.editable = editable
        self.frame_hook: Callable[[], None] | None = None
        """Called after each streaming frame (the chat screen refreshes its status bar there,
        so both repaint in one compositor pass instead of two)."""
        self.empty_hint: tuple[str, ...] = ()
        """Lines shown in the middle of the pane while there is no message."""
        self.items: list[Item] = []
        self.selected: int | None = None
        """Index (in :attr:`items`) of the selected message, shown when the view has focus."""
        self._first = 0
        """Items before this index are not loaded yet (long conversations load lazily)."""
        self._width = 0
        self._rows: list[_Row] = []
        self._parts: dict[int, list[Lines]] = {}
        self._strips: dict[int, ItemStrips] = {}
        self._line_cache: dict[tuple[object, Content], Strip] = {}
        """Recently converted lines: an open block redrawn each frame reuses its unchanged
        lines instead of converting them again."""
        self._style_key = 0
        """Lines as drawn, by the strip they were made from: a scroll reuses them."""
        self._located: dict[tuple[int, int], tuple[Strip, Strip]] = {}
        """Strips carrying their cells' offsets (for mouse selection), by (id of the strip,
        row): Textual's own cache keeps 4 rows a strip, and blank lines are one strip."""
        self._fixed: dict[tuple[object, ...], Strip] = {}
        """Lines that are not a message's text (the blank under the messages, the "earlier
        messages" notice, a streaming reply's spare lines), made once per style and width."""
        self._frame_pending = False
        self._behind: set[int] = set()
        """Ids of replies whose finished blocks are still being formatted, a budget a frame."""
        self._frame_handle: asyncio.Handle | None = None
        self._last_frame = 0.0
        self._meta_at = 0.0
        """When streaming replies' header numbers were last recomputed (in a frame or a tick)."""
        self._ticker: Timer | None = None
        self._ticker_fast = False
        self._live_tools: dict[int, ReplyItem] = {}
        """Replies with a tool call running, by id: their elapsed times are redrawn."""
        self._tool_ticker: Timer | None = None
        self._initial_load = False
        """True until the first layout: then only the newest screens of messages render."""
        self.find_highlight: Highlight | None = None
        """The find bar's marks (None: the bar is closed); set through :meth:`highlight`."""
        self.caret: Offset | None = None
        """The keyboard selection mode's cursor (None: the mode is off): ``x`` a column of the
        drawn text (after the margin and the bar), ``y`` a conversation line."""
        self._anchor = Offset(0, 0)
        """Where the keyboard selection starts (the caret when ``v`` was pressed)."""

    # --- content ---------------------------------------------------------------------------

    def load(self, items: list[Item]) -> None:
        """Show a conversation; only the newest messages are rendered until scrolled to."""
        self.items = list(items)
        self.selected = None
        self._first = len(self.items)
        self._rows = []
        self._parts.clear()
        self._strips.clear()
        self._behind.clear()
        if self._width:
            self._load_earlier(self.size.height * LOAD_SCREENS)
        else:
            self._initial_load = True
        self._update_virtual_size()
        self.anchor()

    def append(self, item: Item) -> None:
        """Add a message at the end (and follow it)."""
        self.items.append(item)
        if self._width:
            self._rows.append(self._measure(len(self.items) - 1, self._next_top()))
        self._update_virtual_size()
        if item.streaming:
            self._start_ticker()

    def remove_message(self, message: Message) -> None:
        """Remove a message's item."""
        index = self.index_of(message)
        if index is None:
            return
        del self.items[index]
        if index < self._first:
            self._first -= 1
        if self.selected is not None:
            if self.selected == index:
                self.selected = min(index, len(self.items) - 1) if self.items else None
            elif self.selected > index:
                self.selected -= 1
        self._relayout()

    def clear(self) -> None:
        """Remove every message."""
        self.load([])

    def index_of(self, message: Message) -> int | None:
        """The index of the item showing ``message``."""
        for index in range(len(self.items) - 1, -1, -1):
            if self.items[index].message is message:
                return index
        return None

    def item_for(self, message: Message) -> Item | None:
        """The item showing ``message``."""
        index = self.index_of(message)
        return None if index is None else self.items[index]

    @property
    def replies(self) -> list[ReplyItem]:
        """Every reply item, in order."""
        return [item for item in self.items if isinstance(item, ReplyItem)]

    def redraw(self, item: Item) -> None:
        """Draw an item again now (its status, folding or content changed)."""
        index = self.index_of(item.message)
        if index is not None and index >= self._first:
            self._update_item(index)

    def changed(self, item: Item) -> None:
        """A streaming item has new text: draw it at the next frame (at most 30 per second)."""
        if self._frame_pending:
            return
        self._frame_pending = True
        loop = asyncio.get_running_loop()
        wait = self._last_frame + self._frame_interval(item) - loop.time()
        self._frame_handle = loop.call_later(max(wait, BATCH_SETTLE), self._frame_safely)

    @staticmethod
    def _frame_interval(item: Item) -> float:
        """Seconds between frames for a stream: 30/s when fast, fewer when tokens trickle.

        A frame costs the same whether it shows one token or ten; at 50 tokens/s drawing every
        other token would spend most of the CPU on frames nobody can tell apart.
        """
        stats = item.stats if isinstance(item, ReplyItem) else None
        speed = stats.tokens_per_second if stats is not None else None
        if not speed:
            return FRAME_INTERVAL
        return float(min(SLOWEST_FRAME, max(FRAME_INTERVAL, TOKENS_PER_FRAME / speed)))

    def finish(self, item: Item) -> None:
        """A streaming item ended: draw its complete, final form."""
        if isinstance(item, ReplyItem):
            item.finish()
        if not any(i.streaming for i in self.items):
            self._stop_ticker()
        self.redraw(item)

    def tools_changed(self, item: ReplyItem) -> None:
        """A tool call of ``item`` moved on: draw it (at the next frame while the reply
        streams), and redraw its elapsed time every :data:`~glmtui.ui.tool_block.TICK`
        while a call runs; no timer runs while none does."""
        if item.streaming:
            self.changed(item)
        else:
            self.redraw(item)
        if item.tools_running:
            self._live_tools[id(item)] = item
            if self._tool_ticker is None:
                self._tool_ticker = self.set_interval(TICK, self._tick_tools, name="tool-tick")
        else:
            self._live_tools.pop(id(item), None)
            if not self._live_tools:
                self._stop_tool_ticker()

    @property
    def tools_ticking(self) -> bool:
        """True while the elapsed time of a running tool call is being redrawn."""
        return self._tool_ticker is not None

    def _tick_tools(self) -> None:
        for key, item in list(self._live_tools.items()):
            if item.tools_running and item in self.items:
                if not item.streaming:  # a streaming reply is drawn in its own frames
                    self.redraw(item)
            else:
                del self._live_tools[key]
        if not self._live_tools:
            self._stop_tool_ticker()

    def _stop_tool_ticker(self) -> None:
        if self._tool_ticker is not None:
            self._tool_ticker.stop()
            self._tool_ticker = None

    def set_show_reasoning(self, show: bool) -> None:
        """Show or hide the reasoning section of every reply."""
        for item in self.replies:
            item.show_reasoning = show
        self._relayout()

    # --- frames ----------------------------------------------------------------------------

    def _frame_safely(self) -> None:
        self._frame_handle = None
        try:
            self._frame()
        except Exception as error:
            # Raised again from a Textual callback, so the app shows it and exits as for an
            # error in any handler (in an event-loop callback asyncio would only log it, and
            # the pane would stop drawing without a word).
            self.call_next(_raise, error)

    def _frame(self) -> None:
        if not self._frame_pending or not self.is_attached:
            return
        self._frame_pending = False
        now = self._last_frame = asyncio.get_running_loop().time()
        meta_due = now - self._meta_at >= META_INTERVAL
        if meta_due:
            self._meta_at = now
        updated = set()
        for index in range(max(self._first, len(self.items) - 2), len(self.items)):
            item = self.items[index]
            if isinstance(item, ReplyItem) and item.streaming:
                if meta_due:
                    item.refresh_meta()
                item.flush()
                self._update_item(index)
                updated.add(index)
        if self._behind:  # replies still formatting blocks that arrived all at once
            for index in range(self._first, len(self.items)):
                if index not in updated and id(self.items[index]) in self._behind:
                    self._update_item(index)
        if self.frame_hook is not None:
            self.frame_hook()

    def _start_ticker(self) -> None:
        if self._ticker is None:
            self._ticker = self.set_interval(SPIN_INTERVAL, self._tick, name="conversation-tick")
            self._ticker_fast = True

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _tick(self) -> None:
        """Spinner frames, and live numbers of replies whose text has stalled.

        While text flows, the numbers are recomputed inside the text's own frames (every
        :data:`META_INTERVAL`): a frame of their own would cost as much as a text frame and
        would push the next text frame back by a whole frame interval.
        """
        now = asyncio.get_running_loop().time()
        stalled = now - self._last_frame >= META_INTERVAL and now - self._meta_at >= META_INTERVAL
        if stalled:
            self._meta_at = now
        waiting = False
        for item in self.items[-2:]:
            if isinstance(item, ReplyItem) and item.streaming:
                item.frame += 1
                waiting = waiting or not item.answer_started
                if not item.answer_started or (stalled and item.refresh_meta()):
                    self.changed(item)
        if not waiting and self._ticker_fast and self._ticker is not None:
            self._ticker.stop()
            self._ticker = self.set_interval(META_INTERVAL, self._tick, name="conversation-meta")
            self._ticker_fast = False

    # --- layout ----------------------------------------------------------------------------

    @property
    def _head(self) -> int:
        """Lines used by the "earlier messages" notice at the top."""
        return 2 if self._first > 0 else 0

    def _item_width(self) -> int:
        """Text width of a message: the pane minus margins (1 + 1), bar (1) and padding (1 + 1)."""
        return max(10, self._width - MARGIN * 2 - 3)

    def _next_top(self) -> int:
        if not self._rows:
            return self._head + GAP
        last = self._rows[-1]
        return last.top + last.height + GAP

    def _measure(self, index: int, top: int) -> _Row:
        item = self.items[index]
        item.render_budget = RENDER_BUDGET
        parts = item.parts(self._item_width())
        if item.behind:
            self._behind.add(id(item))
            self.changed(item)  # the rest at the next frame
        else:
            self._behind.discard(id(item))
        self._parts[id(item)] = parts
        self._strips.pop(id(item), None)
        height = sum(part.height for part in parts)
        if item.streaming and height:
            step = max(LIVE_HEIGHT_STEP, self.app.size.height // LIVE_HEIGHT_SHARE)
            height = -(-height // step) * step
        return _Row(top, height)

    def _relayout(self) -> None:
        """Measure every loaded item again (after a resize, removal or setting change)."""
        self._rows = []
        self._parts.clear()
        self._strips.clear()
        if self._width:
            top = self._head + GAP
            for index in range(self._first, len(self.items)):
                row = self._measure(index, top)
                self._rows.append(row)
                top += row.height + GAP
        self._update_virtual_size()
        self.refresh()

    def _update_virtual_size(self) -> None:
        height = self._next_top() - GAP + BOTTOM if self._rows else self._head
        size = Size(self._width, max(0, height))
        if size == self.virtual_size:
            return
        if not self._scrollbars_stay(size):
            self.virtual_size = size  # a reactive with layout=True: the screen lays out again
            return
        # A taller (or shorter) conversation whose scrollbars stay as they are changes nothing
        # around it, so the screen need not lay out its ~70 widgets again (as assigning
        # ``virtual_size`` would, every few lines of a streaming reply: at 200 tok/s, 12.2 %
        # of a core instead of 13.5 %, latency p95 43 ms instead of 48, 2 x 3 runs). Public
        # API only: the size is set without its layout, then the scrollbar and the scroll
        # position are brought in line, as Textual's layout would have.
        following = self.is_anchored and self.scroll_y >= self.max_scroll_y
        self.set_reactive(ScrollView.virtual_size, size)
        bar = self.vertical_scrollbar
        bar.window_virtual_size = size.height
        bar.window_size = self.container_size.height - self.scrollbar_size_horizontal
        self.scroll_y = max(0, min(self.scroll_y, self.max_scroll_y))
        if following:
            self.scroll_y = self.max_scroll_y

    def _scrollbars_stay(self, size: Size) -> bool:
        """True if ``size`` shows the same scrollbars as the current virtual size (a vertical
        one, no horizontal one): the widget's layout does not change."""
        viewport = self.container_size
        return (
            self.is_mounted
            and bool(viewport)
            and size.width == self.virtual_size.width
            and size.width <= viewport.width
            and self.show_vertical_scrollbar
            and not self.show_horizontal_scrollbar
            and size.height > viewport.height
        )

    def _update_item(self, index: int) -> None:
        """Re-render one item; repaint only its changed lines unless its height changed."""
        row_index = index - self._first
        if not 0 <= row_index < len(self._rows):
            return
        item = self.items[index]
        old_row = self._rows[row_index]
        old_parts = self._parts.get(id(item), [])
        new_row = self._measure(index, old_row.top)
        if new_row.height != old_row.height:
            delta = new_row.height - old_row.height
            self._rows[row_index] = new_row
            for later in range(row_index + 1, len(self._rows)):
                row = self._rows[later]
                self._rows[later] = _Row(row.top + delta, row.height)
            self._update_virtual_size()
            self.refresh()
            return
        new_parts = self._parts[id(item)]
        # Parts are reused while unchanged: the first differing part is where repainting starts.
        start = 0
        for old, new in zip(old_parts, new_parts, strict=False):
            if old is not new:
                if isinstance(old, LazyLines) or isinstance(new, LazyLines):
                    break  # never draw a chunk of a huge text to compare it
                # The open block re-renders whole, but usually only its last lines change.
                for old_line, new_line in zip(old.content, new.content, strict=False):
                    if not _same_line(old_line, new_line):
                        break
                    start += 1
                break
            start += new.height
        old_total = sum(p.height for p in old_parts)
        new_total = sum(p.height for p in new_parts)
        end = max(old_total, new_total)
        if start < end:
            self.refresh_lines(old_row.top + start, end - start)

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            if self._initial_load:
                self._initial_load = False
                self._load_earlier(self.size.height * LOAD_SCREENS)
            else:
                self._relayout()

    def _load_earlier(self, lines: int) -> None:
        """Render earlier messages until about ``lines`` more lines are loaded."""
        if self._first == 0:
            return
        width = self._item_width()
        added = 0
        first = self._first
        while first > 0 and added < lines:
            first -= 1
            added += sum(p.height for p in self.items[first].parts(width)) + GAP
        self._first = first
        self._relayout()

    def load_all(self) -> None:
        """Render every earlier message (for Home and for tests)."""
        self._load_earlier(10**9)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 1 and self._first > 0 and old_value > new_value:
            self.call_after_refresh(self._load_earlier_keeping_view)

    def _load_earlier_keeping_view(self, down_to: int | None = None) -> None:
        """Load earlier messages above the view without moving what is on screen."""
        if self._first == 0:
            return
        before = self.virtual_size.height
        if down_to is None:
            self._load_earlier(self.size.height * LOAD_SCREENS)
        else:
            self._first = min(self._first, down_to)
            self._relayout()
        added = self.virtual_size.height - before
        if added > 0:
            self.scroll_to(y=self.scroll_y + added, animate=False, immediate=True)

    # --- drawing ---------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_key += 1
        self._strips.clear()
        self._fixed.clear()

    def _styles_for(self, item: Item) -> tuple[Style, Style]:
        kind = "user" if isinstance(item, UserItem) else "assistant"
        return (
            self.get_visual_style(f"conversation--{kind}"),
            self.get_visual_style(f"conversation--{kind}-bar"),
        )

    def _item_strips(self, index: int) -> ItemStrips:
        item = self.items[index]
        key = id(item)
        strips = self._strips.get(key)
        if strips is not None:
            return strips
        parts = self._parts.get(key)
        if parts is None:
            parts = self._parts[key] = item.parts(self._item_width())
        background, bar = self._styles_for(item)
        selected = self.has_focus and self.selected == index
        if selected:
            background = self.get_visual_style("conversation--selected")
            bar = self.get_visual_style("conversation--selected-bar")
        width = self._item_width()
        style_key = (self._style_key, item.kind, selected)
        highlight = self.find_highlight
        marker = highlight.marker(item, parts) if highlight and highlight.applies(item) else None
        found: dict[int, list[Strip]] = {}  # marked parts: kept with these strips only, so
        # a mark never outlives the find (nor sticks in the parts' own caches)

        def convert(part: Lines) -> list[Strip]:
            if marker is not None and (marked := marker.lines(part)) is not None:
                converted = found.get(id(part))
                if converted is None:
                    converted = found[id(part)] = [
                        self._convert([line], (style_key, marks), background, bar, width)[0]
                        for line, marks in marked
                    ]
                return converted
            converted = part.strips.get(style_key)
            if converted is None:
                converted = part.strips[style_key] = self._convert(
                    part.content, style_key, background, bar, width
                )
            return converted

        strips = self._strips[key] = ItemStrips(parts, convert)
        return strips

    def _convert(
        self, lines: list[Content], style_key: object, background: Style, bar: Style, width: int
    ) -> list[Strip]:
        """Content lines → full-width strips: margin, a coloured bar, padding, the text."""
        cache = self._line_cache
        if len(cache) > 512:
            cache.clear()
        fill = background.rich_style
        margin = Segment(" " * MARGIN, self.visual_style.rich_style)
        bar_segment = Segment("▌", (background + bar).rich_style)
        pad = Segment(" ", fill)
        out: list[Strip] = []
        for line in lines:
            strip = cache.get((style_key, line))
            if strip is None:
                key = line
                if line.cell_length > width:  # never draw past the pane (or the terminal)
                    line = line.truncate(width, ellipsis=True)
                segments = [margin, bar_segment, pad]
                segments.extend(
                    Segment(text, style.rich_style)
                    for text, style in line.render(background, "", _parse_style)
                )
                gap = width - line.cell_length
                segments.append(Segment(" " * (max(0, gap) + 1), fill))
                segments.append(margin)
                strip = cache[(style_key, key)] = Strip(segments, width + 3 + 2 * MARGIN)
            out.append(strip)
        return out

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the pane, carrying each cell's offset (the row counted from the top
        of the conversation, so a mouse selection stays on its text while the view scrolls
        or a reply streams below it), and the selection's highlight."""
        row = y + int(self.scroll_offset.y)
        strip = self._content_lines(Region(0, y, self.size.width, 1))[0]
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(row)) is not None:
            strip = self._highlighted(strip, span)
        return self._with_offsets(strip, row)

    def _with_offsets(self, strip: Strip, row: int) -> Strip:
        """``strip`` carrying its cells' offsets, made once per strip and row (a frame that
        redraws unchanged lines costs a lookup each)."""
        located = self._located
        entry = located.get((id(strip), row))
        if entry is not None and entry[0] is strip:
            return entry[1]
        if len(located) > 4096:
            located.clear()
        result = strip.apply_offsets(0, row)
        located[(id(strip), row)] = (strip, result)
        return result

    def _highlighted(self, strip: Strip, span: tuple[int, int]) -> Strip:
        """``strip`` with the cells of ``span`` (``-1``: to the end) in the selection style."""
        start, end = max(TEXT_X, span[0]), strip.cell_length if span[1] < 0 else span[1]
        if end <= start:
            return strip
        style = self.screen.get_component_rich_style("screen--selection")
        before, chosen, after = strip.divide([start, end, strip.cell_length])
        marked = Strip(
            [Segment(text, (old + style) if old else style) for text, old, _ in chosen],
            chosen.cell_length,
        )
        return Strip.join([before, marked, after])

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text under a mouse selection, as drawn (wrapped lines, without the margin and
        the bar), so what is copied is what was seen."""
        start, end = selection
        first = start.y if start is not None else 0
        last = end.y if end is not None else self.virtual_size.height - 1
        if last < first:
            return None
        top = int(self.scroll_offset.y)
        strips = self._content_lines(Region(0, first - top, self.size.width, last - first + 1))
        text = "\n".join(strip.text[TEXT_X:].rstrip() for strip in strips)
        local = Selection(
            None if start is None else Offset(max(0, start.x - TEXT_X), 0),
            None if end is None else Offset(max(0, end.x - TEXT_X), last - first),
        )
        return local.extract(text), "\n"

    def _select_at(self, offset: Offset, *, whole_line: bool) -> None:
        """Select the word at ``offset`` (in the pane), or its whole line, with the mouse
        selection (so Ctrl+C copies it)."""
        row = offset.y + int(self.scroll_y)
        drawn = self.get_selection(Selection(Offset(0, row), Offset(self.size.width, row)))
        text = drawn[0] if drawn is not None else ""
        column = offset.x - TEXT_X
        span: tuple[int, int] | None = None
        if whole_line and text:
            span = (0, len(text))
        else:
            words = ((m.start(), m.end()) for m in WORD.finditer(text))
            span = next(((a, b) for a, b in words if a <= column < b), None)
        if span is not None:
            start, end = (Offset(TEXT_X + x, row) for x in span)
            self.screen.selections = {self: Selection(start, end)}

    def selection_updated(self, selection: Selection | None) -> None:
        """Draw the new selection."""
        self.refresh()

    def _content_lines(self, crop: Region) -> list[Strip]:
        """The content strips of ``crop``'s rows (what the compositor asks for at every frame:
        what is the same for every row is looked up once, and the message rows are walked in
        order rather than looked up row by row)."""
        top, width, base = int(self.scroll_offset.y), self.size.width, self.visual_style.rich_style
        if not self.items and self.empty_hint:
            return [self._empty_line(y, width, base) for y in crop.line_range]
        rows, first = self._rows, self._first
        start = crop.y + top
        index = bisect.bisect_right(rows, start, key=_top) - 1
        row = rows[index] if index >= 0 else None
        strips: ItemStrips | list[Strip] = (
            self._item_strips(first + index) if row is not None else []
        )
        out: list[Strip] = []
        for absolute in range(start, crop.bottom + top):
            while index + 1 < len(rows) and rows[index + 1].top <= absolute:
                index += 1
                row = rows[index]
                strips = self._item_strips(first + index)
            if first > 0 and absolute == 0:
                out.append(self._earlier_line(width, base))
            elif row is not None and 0 <= absolute - row.top < row.height:
                line = absolute - row.top
                if line < len(strips):
                    out.append(strips[line].extend_cell_length(width, base))
                else:
                    out.append(self._reserved_line(self.items[first + index]))
            else:
                out.append(self._blank_line(width, base))
        return out

    def _fixed_line(self, key: tuple[object, ...], make: Callable[[], Strip]) -> Strip:
        """The line ``make`` makes, made once per ``key``."""
        line = self._fixed.get(key)
        if line is None:
            if len(self._fixed) > 64:  # old widths and notices
                self._fixed.clear()
            line = self._fixed[key] = make()
        return line

    def _earlier_line(self, width: int, base: RichStyle) -> Strip:
        """The notice above the loaded messages that earlier ones are not loaded yet."""

        def make() -> Strip:
            earlier = self._first
            plural = "s" if earlier != 1 else ""
            text = f"⋯ {earlier:,} earlier message{plural}: scroll up or press Home"
            style = self.get_visual_style("conversation--earlier").rich_style
            return Strip([Segment(text[:width], style)]).extend_cell_length(width, base)

        return self._fixed_line(("earlier", self._first, width, base), make)

    def _reserved_line(self, item: Item) -> Strip:
        """A blank line of a streaming reply's spare height (see :data:`LIVE_HEIGHT_STEP`)."""

        def make() -> Strip:
            background, bar = self._styles_for(item)
            key = ("blank", self._style_key, item.kind)
            return self._convert([Content("")], key, background, bar, self._item_width())[0]

        return self._fixed_line(("reserved", item.kind, self._width), make)

    def _blank_line(self, width: int, style: RichStyle) -> Strip:
        """The empty line below the messages."""
        return self._fixed_line(("blank", width, style), lambda: Strip.blank(width, style))

    def _empty_line(self, y: int, width: int, base: RichStyle) -> Strip:
        """A line of :attr:`empty_hint`, centred in the pane (a new chat is not a blank)."""
        hint = self.empty_hint
        index = y - max(0, (self.size.height - len(hint)) // 2)
        if not 0 <= index < len(hint) or not hint[index]:
            return Strip.blank(width, base)
        text = hint[index][:width]
        style = self.get_visual_style("conversation--empty").rich_style
        pad = max(0, (width - cell_len(text)) // 2)
        segments = [Segment(" " * pad, base), Segment(text, style)]
        return Strip(segments).extend_cell_length(width, base)

    # --- geometry helpers ------------------------------------------------------------------

    def row_of(self, index: int) -> tuple[int, int] | None:
        """``(top, height)`` of a loaded item, in conversation lines."""
        row_index = index - self._first
        if 0 <= row_index < len(self._rows):
            row = self._rows[row_index]
            return row.top, row.height
        return None

    def item_at(self, line: int) -> tuple[int, int] | None:
        """``(item index, line within item)`` at a conversation line, if any."""
        for row_index, row in enumerate(self._rows):
            if row.top <= line < row.top + row.height:
                return self._first + row_index, line - row.top
        return None

    @property
    def at_bottom(self) -> bool:
        """True when the newest text is in view."""
        return self.scroll_y >= self.max_scroll_y

    def screen_offset_of(self, message: Message, action: str) -> tuple[int, int] | None:
        """Where to click (x, y within this widget) for an item's ``action`` hotspot."""
        index = self.index_of(message)
        if index is None:
            return None
        row = self.row_of(index)
        if row is None:
            return None
        for hotspot in self.items[index].hotspots:
            if hotspot.action == action:
                return (MARGIN + 3, row[0] + hotspot.line - int(self.scroll_y))
        return None

    # --- interaction -----------------------------------------------------------------------

    def on_focus(self) -> None:
        if self.selected is None and self.items:
            self.selected = len(self.items) - 1
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self.caret = None
        self._strips.clear()
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if event.chain in (2, 3):
            # A double click selects the word, a triple click the line (Textual's default
            # would select the whole conversation, then the screen).
            event.prevent_default()
            self._select_at(offset, whole_line=event.chain == 3)
            return
        hit = self.item_at(offset.y + int(self.scroll_y))
        if hit is None:
            return
        index, line = hit
        self.select(index)
        for hotspot in self.items[index].hotspots:
            if hotspot.line == line:
                event.stop()
                if hotspot.action == "toggle_reasoning":
                    self.action_toggle_reasoning()
                elif hotspot.action == "toggle_fold":
                    self.action_toggle_fold()
                elif hotspot.action == "toggle_tool":
                    self.toggle_tool_result(index, hotspot.target)
                else:
                    self.post_message(
                        self.ActionRequested(self, self.items[index].message, "retry")
                    )
                return

    def select(self, index: int | None, *, scroll: bool = True) -> None:
        """Select a message (and scroll it into view)."""
        if index is not None and not 0 <= index < len(self.items):
            return
        if index is not None and index < self._first:
            self._load_earlier_keeping_view(down_to=index)
        previous, self.selected = self.selected, index
        for changed in (previous, index):
            if changed is not None and 0 <= changed < len(self.items):
                self._strips.pop(id(self.items[changed]), None)
        self.refresh()
        if scroll and index is not None:
            row = self.row_of(index)
            if row is not None:
                top, height = row
                if top < self.scroll_y or top + min(height, self.size.height) > (
                    self.scroll_y + self.size.height
                ):
                    self.scroll_to(y=max(0, top - 1), animate=False)
        self.refresh_bindings()

    @property
    def selected_item(self) -> Item | None:
        """The selected item, if any."""
        if self.selected is None or not 0 <= self.selected < len(self.items):
            return None
        return self.items[self.selected]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in SELECTION_ACTIONS:
            return self.caret is not None
        if self.caret is not None:
            return False
        if action == "select_text":
            return self.selected_item is not None
        if action in ("vi_edge", "vi_find"):
            return self.vi_keys
        if action == "request" and not self.editable:
            return False
        item = self.selected_item
        compaction = check_compaction_action(item, action, parameters[0] if parameters else None)
        if compaction is not None:
            return compaction
        if action in ("copy", "copy_code", "request") and item is None:
            return None
        if action == "request" and parameters:
            what = parameters[0]
            if what == "edit":
                return isinstance(item, UserItem)
            if what == "regenerate":
                return isinstance(item, ReplyItem) and item is self.items[-1]
        if action == "toggle_reasoning":
            return isinstance(item, ReplyItem) and bool(item.reasoning_text)
        if action == "toggle_fold":  # one "o" binding shows at a time: Expand or Fold
            if isinstance(item, ReplyItem) and item.tool_results_foldable:
                return item.tool_results_expanded != parameters[0]
            if isinstance(item, UserItem | CompactedItem) and item.foldable:
                return item.expanded != parameters[0]
            return False
        return True

    def action_select(self, step: int) -> None:
        """Select the previous or next message."""
        if not self.items:
            return
        current = self.selected if self.selected is not None else len(self.items)
        self.select(max(0, min(len(self.items) - 1, current + step)))

    def action_vi_edge(self, direction: int) -> None:
        """Select the first message (loading every earlier one) or the last."""
        if not self.items:
            return
        if direction < 0:
            self.load_all()
        self.select(0 if direction < 0 else len(self.items) - 1)

    async def action_vi_find(self, action: str) -> None:
        """Run the screen's find action (``find``, ``find_next``, ``find_previous``); a
        screen without it (a compare pane) ignores the key."""
        if callable(getattr(self.screen, f"action_{action}", None)):
            await self.run_action(f"screen.{action}")

    def action_page(self, direction: int) -> None:
        """Scroll a page up or down."""
        if direction < 0:
            self.scroll_page_up(animate=False)
        else:
            self.scroll_page_down(animate=False)

    def action_top(self) -> None:
        """Load every earlier message and show the first one."""
        self.load_all()
        self.scroll_home(animate=False)

    def action_follow(self) -> None:
        """Show the newest text and keep following it."""
        self.anchor()
        self.scroll_end(animate=False, immediate=True)

    # --- keyboard selection mode -----------------------------------------------------------

    def _drawn_line(self, row: int) -> str:
        """Conversation line ``row`` as drawn (without the margin and the bar)."""
        drawn = self.get_selection(Selection(Offset(0, row), Offset(self.size.width, row)))
        return drawn[0] if drawn is not None else ""

    def action_select_text(self) -> None:
        """Start the keyboard selection mode: a caret at the start of the selected message's
        drawn text, selecting as it moves (it uses the mouse selection, so the highlight and
        the copy are the same)."""
        index = self.selected
        row = self.row_of(index) if index is not None else None
        if index is None or row is None:
            return
        top, height = row
        skip = {top + hotspot.line for hotspot in self.items[index].hotspots}  # ▶ Reasoning
        first = next(
            (
                y
                for y in range(top + 1, top + height)  # after the header
                if y not in skip and self._drawn_line(y).strip()
            ),
            top,
        )
        line = self._drawn_line(first)
        self.caret = self._anchor = Offset(len(line) - len(line.lstrip()), first)
        self._show_caret()

    def _show_caret(self) -> None:
        """Select from the anchor to the caret (both in), keep the caret in view."""
        caret = self.caret
        if caret is None:
            return
        start, end = sorted((self._anchor, caret), key=lambda o: (o.y, o.x))
        self.screen.selections = {
            self: Selection(Offset(TEXT_X + start.x, start.y), Offset(TEXT_X + end.x + 1, end.y))
        }
        if not self.scroll_y <= caret.y < self.scroll_y + self.size.height:
            self.scroll_to(y=max(0, caret.y - self.size.height // 2), animate=False)
        self.refresh_bindings()

    def action_caret(self, dx: int, dy: int) -> None:
        """Move the caret a column or a line (the selection follows it)."""
        if self.caret is None:
            return
        y = max(0, min(self.virtual_size.height - 1, self.caret.y + dy))
        line = self._drawn_line(y)
        x = max(0, min(max(0, len(line) - 1), self.caret.x + dx))
        self.caret = Offset(x, y)
        self._show_caret()

    def action_caret_word(self, direction: int) -> None:
        """Move the caret to the next word's start (or the previous one's), across lines."""
        caret = self.caret
        if caret is None:
            return
        y, last = caret.y, self.virtual_size.height - 1
        for _ in range(64):  # a word within a few screens, else stay
            if not 0 <= y <= last:
                return
            starts = [m.start() for m in WORD.finditer(self._drawn_line(y))]
            if y == caret.y:
                starts = [x for x in starts if (x - caret.x) * direction > 0]
            if starts:
                self.caret = Offset(starts[0] if direction > 0 else starts[-1], y)
                self._show_caret()
                return
            y += direction

    def action_restart_selection(self) -> None:
        """Start the selection over at the caret."""
        if self.caret is not None:
            self._anchor = self.caret
            self._show_caret()

    def action_copy_selected_text(self) -> None:
        """Copy the keyboard selection (see glmtui.ui.clipboard) and leave the mode."""
        text = self.screen.get_selected_text()
        self.action_leave_selection()
        if text:
            copy_text(self.app, text, "Selection", timeout=2)

    def action_leave_selection(self) -> None:
        """Leave the keyboard selection mode, its selection cleared."""
        self.caret = None
        self.screen.clear_selection()
        self.refresh_bindings()

    def action_copy(self) -> None:
        """Copy the selected message (see glmtui.ui.clipboard: OSC 52 and a local tool)."""
        item = self.selected_item
        if item is not None:
            copy_text(self.app, item.message.content, "Message", timeout=2)

    def action_copy_code(self) -> None:
        """Copy the selected message's code block, or ask which one when there are several."""
        item = self.selected_item
        if item is None:
            return
        blocks = code_blocks(item.message.content)
        if not blocks:
            self.notify("This message has no code block.", severity="warning", timeout=3)
        elif len(blocks) == 1:
            copy_text(self.app, blocks[0].code, "Code block", timeout=2)
        else:
            self.post_message(self.ActionRequested(self, item.message, "copy_code"))

    def action_request(self, action: str) -> None:
        """Ask the screen for a conversation-changing action on the selected message."""
        item = self.selected_item
        if item is not None:
            self.post_message(self.ActionRequested(self, item.message, action))

    def action_toggle_reasoning(self) -> None:
        """Fold or unfold the selected reply's reasoning."""
        item = self.selected_item
        if not isinstance(item, ReplyItem):
            return
        if not item.reasoning_text:
            self.notify("This reply has no reasoning.", timeout=2)
            return
        if not item.show_reasoning:
            item.show_reasoning = True
            item.reasoning_open = True
        else:
            item.reasoning_open = not item.reasoning_open
        self.redraw(item)
        row = self.row_of(self.selected) if self.selected is not None else None
        if item.reasoning_open and len(item.reasoning_text) > LAZY_FROM and row is not None:
            # Read on from the reply's first line: following the tail would scroll the view
            # (and draw a chunk) at every frame while the reasoning is laid out.
            self.scroll_to(y=max(0, row[0] - 1), animate=False, immediate=True)

    def action_toggle_fold(self, expand: bool | None = None) -> None:
        """Show a long prompt (or a reply's tool results) whole, or fold it again (None:
        whichever it is not)."""
        item = self.selected_item
        if isinstance(item, ReplyItem) and item.tool_results_foldable and self.selected is not None:
            show = not item.tool_results_expanded if expand is None else expand
            item.expand_tool_results(show)
            self.redraw(item)
            self.refresh_bindings()
            first = next((spot for spot in item.hotspots if spot.action == "toggle_tool"), None)
            self._show_line(self.selected, first.line if first is not None else 0)
            return
        if (
            isinstance(item, UserItem | CompactedItem)
            and item.foldable
            and self.selected is not None
        ):
            item.expanded = not item.expanded if expand is None else expand
            self.redraw(item)
            self.refresh_bindings()
            row = self.row_of(self.selected)
            if row is not None:  # read on from the prompt's first line
                self.scroll_to(y=max(0, row[0] - 1), animate=False, immediate=True)

    def toggle_tool_result(self, index: int, block: int) -> None:
        """Fold or unfold one tool call's result (clicked), keeping its header in view."""
        item = self.items[index] if 0 <= index < len(self.items) else None
        if not isinstance(item, ReplyItem) or not 0 <= block < len(item.tools):
            return
        tool = item.tools[block]
        if not tool.foldable:
            return
        tool.expanded = not tool.expanded
        self.redraw(item)
        self.refresh_bindings()
        header = next(
            (s.line for s in item.hotspots if s.action == "toggle_tool" and s.target == block), 0
        )
        self._show_line(index, header)

    def _show_line(self, index: int, line: int) -> None:
        """Scroll so that line ``line`` of item ``index`` is in view (near the top when it
        was not): an unfolded result is read from its start, not followed to its end."""
        row = self.row_of(index)
        if row is None:
            return
        y = row[0] + line
        if not self.scroll_y <= y < self.scroll_y + self.size.height - 1:
            self.scroll_to(y=max(0, y - 1), animate=False, immediate=True)

    def visible_items(self) -> Iterable[Item]:
        """Items rendered at the moment (the rest are loaded when scrolled to)."""
        return self.items[self._first :]

    # --- find ------------------------------------------------------------------------------

    def highlight(self, highlight: Highlight | None) -> None:
        """Mark the find bar's matches (None: no marks). Only the strips are made again: the
        items' rendered parts are not touched, so closing the bar leaves no mark behind."""
        self.find_highlight = highlight
        self._strips.clear()
        self.refresh()

    def show_match(self, index: int, ordinal: int, field: str) -> None:
        """Bring the ``ordinal``-th match of item ``index`` into view: load the item if it is
        not yet, unfold what hides the match (reasoning, a long prompt), select the item and
        scroll the match's line into view."""
        if not 0 <= index < len(self.items):
            return
        item = self.items[index]
        unfolded = False
        if field == "reasoning" and isinstance(item, ReplyItem) and not item.reasoning_open:
            item.reasoning_open = unfolded = True
        elif isinstance(item, UserItem) and item.foldable and not item.expanded:
            item.expanded = unfolded = True
        if index < self._first:
            self._load_earlier_keeping_view(down_to=index)
        elif unfolded:
            self.redraw(item)
        if self.selected != index:  # (selecting refreshes the footer's keys: not per key typed)
            self.select(index, scroll=False)
        parts = self._parts.get(id(item))
        highlight = self.find_highlight
        line = None
        if parts is not None and highlight is not None:
            line = highlight.marker(item, parts).line_of(ordinal)
        self._show_line(index, line or 0)


def _parse_style(style: str | Style) -> Style:
    """Resolve a style string (theme variables included) through the app's stylesheet cache."""
    return style if isinstance(style, Style) else Style.parse(style)
