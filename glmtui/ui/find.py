"""Find in the conversation: searching the messages' text, not the lines drawn from it.

Why the text: most of a long conversation is not drawn (earlier messages load when scrolled
to, reasoning and long prompts may be folded), so searching drawn lines would miss most of
it and would cost a render of everything. The text of every item is lowered once (per query
case) and searched with :meth:`str.find`; the view then maps a match to its item and, inside
the lines drawn for it, to the occurrence to highlight and scroll to (:func:`line_spans`).

Smart case: a query in lower case matches any case; one with an upper-case letter matches
exactly.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

from textual.content import Content

from glmtui.ui.compacted import CompactedItem
from glmtui.ui.items import Item, ReplyItem, UserItem
from glmtui.ui.lines import LazyLines, Lines


@dataclass(frozen=True, slots=True)
class Match:
    """One occurrence of the query: in which item, which of the item's occurrences, and in
    which of its texts (see :func:`item_texts`)."""

    index: int
    """The item's index in the conversation."""
    ordinal: int
    """Which occurrence within the item (0 = its first), in the order its lines are drawn."""
    field: str
    """``prompt``, ``reasoning``, ``answer`` or ``tools`` (``compacted`` for an open fold)."""


def case_sensitive(query: str) -> bool:
    """Smart case: True when the query has an upper-case letter."""
    return query != query.lower()


def item_texts(item: Item) -> list[tuple[str, str]]:
    """The searchable texts of an item, ``(field, text)``, in the order they are drawn.

    A reply's reasoning counts even folded (finding it unfolds it) but not when reasoning is
    hidden altogether (Ctrl+T); tool calls count by name and arguments (their results are
    folded, and a result can be megabytes). Compacted messages count only while shown.
    """
    if isinstance(item, UserItem):
        return [("prompt", item.message.content)]
    if isinstance(item, ReplyItem):
        texts: list[tuple[str, str]] = []
        if item.show_reasoning:
            texts.append(("reasoning", item.reasoning_text))
        texts.append(("answer", item.content_text))
        for block in item.tools:
            texts.append(("tools", f"{block.call.name} {block.call.arguments}"))
        return texts
    if isinstance(item, CompactedItem):
        if not item.expanded:
            return []
        return [("compacted", text) for child in item.children for _, text in item_texts(child)]
    return []


class ConversationSearch:
    """Searches the items' texts, keeping each item's lowered text between keystrokes.

    A key is the text's length with the item's identity, so a streaming reply (whose text only
    grows) is lowered again when it grew, and a finished one never again.
    """

    def __init__(self) -> None:
        self._lowered: dict[int, tuple[int, list[tuple[str, str]]]] = {}

    def texts(self, item: Item, fold: bool) -> list[tuple[str, str]]:
        """The item's texts, lowered when ``fold`` (a case-insensitive search)."""
        texts = item_texts(item)
        if not fold:
            return texts
        size = sum(len(text) for _, text in texts) + len(texts)
        cached = self._lowered.get(id(item))
        if cached is None or cached[0] != size:
            cached = self._lowered[id(item)] = (size, [(f, t.lower()) for f, t in texts])
        return cached[1]

    def search(self, items: Sequence[Item], query: str) -> Matches:
        """Every match of ``query`` in ``items``, in conversation order.

        Counted with :meth:`str.count` per text, not listed one by one: a one-letter query
        finds ~60,000 matches in 1,000 messages, and making an object of each took 140 ms.
        """
        out = Matches()
        if not query:
            return out
        fold = not case_sensitive(query)
        needle = query.lower() if fold else query
        alive: set[int] = set()
        for index, item in enumerate(items):
            alive.add(id(item))
            counts = [(field, text.count(needle)) for field, text in self.texts(item, fold)]
            if any(found for _, found in counts):
                out.add(index, counts)
        if len(self._lowered) > len(alive):  # items removed or replaced: forget them
            self._lowered = {k: v for k, v in self._lowered.items() if k in alive}
        return out


class Matches(Sequence[Match]):
    """The matches of one search, kept as counts per item and text; a :class:`Match` is made
    only when asked for (the current one, and its neighbours as the user moves)."""

    def __init__(self) -> None:
        self.indices: list[int] = []
        """Indices of the items with a match, in order."""
        self._counts: list[list[tuple[str, int]]] = []
        self._starts: list[int] = []
        self._total = 0

    def add(self, index: int, counts: list[tuple[str, int]]) -> None:
        """Item ``index`` (after every one added so far) has ``counts`` matches per text."""
        self.indices.append(index)
        self._counts.append(counts)
        self._starts.append(self._total)
        self._total += sum(found for _, found in counts)

    def __len__(self) -> int:
        return self._total

    @overload
    def __getitem__(self, position: int) -> Match: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[Match]: ...
    def __getitem__(self, position: int | slice) -> Match | Sequence[Match]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(self._total))]
        if position < 0:
            position += self._total
        if not 0 <= position < self._total:
            raise IndexError(position)
        row = bisect.bisect_right(self._starts, position) - 1
        ordinal = within = position - self._starts[row]
        for field, found in self._counts[row]:
            if within < found:
                return Match(self.indices[row], ordinal, field)
            within -= found
        raise IndexError(position)  # pragma: no cover - the counts add up

    def position(self, match: Match) -> int | None:
        """Where ``match`` is in this result (None: not in it)."""
        row = bisect.bisect_left(self.indices, match.index)
        if row == len(self.indices) or self.indices[row] != match.index:
            return None
        position = self._starts[row] + match.ordinal
        end = self._starts[row + 1] if row + 1 < len(self._starts) else self._total
        return position if position < end else None

    def last_up_to(self, index: int) -> int:
        """The position of the last match in an item at or before ``index`` (else 0)."""
        row = bisect.bisect_right(self.indices, index) - 1
        if row < 0:
            return 0
        end = self._starts[row + 1] if row + 1 < len(self._starts) else self._total
        return end - 1


def count(text: str, query: str) -> int:
    """How many times ``query`` occurs in ``text`` (smart case)."""
    if not case_sensitive(query):
        text, query = text.lower(), query.lower()
    return text.count(query)


def line_spans(plain: str, query: str) -> list[tuple[int, int]]:
    """Where ``query`` occurs in one drawn line, ``(start, end)`` character offsets (smart
    case, as :meth:`ConversationSearch.search`)."""
    if not query:
        return []
    if not case_sensitive(query):
        plain, query = plain.lower(), query.lower()
    spans: list[tuple[int, int]] = []
    at = plain.find(query)
    while at >= 0:
        spans.append((at, at + len(query)))
        at = plain.find(query, at + len(query))
    return spans


MATCH_STYLE = "underline $text on $warning-muted"
"""A match in the conversation."""
CURRENT_STYLE = "bold reverse $text-warning"
"""The current match (the one n / N and Enter move from)."""


@dataclass(frozen=True, slots=True)
class Highlight:
    """What the conversation highlights while the find bar is open.

    Items are known by identity, not index, so a message removed (or a reply appended) while
    the bar is open does not move the marks to another message.
    """

    query: str
    items: frozenset[int]
    """``id()`` of the items with a match (others are drawn as ever, cheaply)."""
    current: tuple[int, int] | None = None
    """``(id(item), ordinal)`` of the current match."""

    def applies(self, item: Item) -> bool:
        """True if ``item``'s lines may hold a match (a streaming reply always may)."""
        return id(item) in self.items or item.streaming

    def marker(self, item: Item, parts: Sequence[Lines]) -> ItemMarker:
        """The marks of one item as laid out in ``parts`` (its hotspots must be current)."""
        current = self.current
        ordinal = current[1] if current is not None and current[0] == id(item) else None
        if (
            ordinal is not None
            and isinstance(item, ReplyItem)
            and item.show_reasoning
            and not item.reasoning_open
        ):  # folded reasoning draws none of its matches: the drawn ones are numbered after
            ordinal -= count(item.reasoning_text, self.query)
        return ItemMarker(self.query, item, parts, ordinal)


class ItemMarker:
    """The matches in the lines drawn for one item, numbered in drawing order.

    Header, fold and title lines (the time, "Reasoning · 80 words") are not the message's
    text and are never marked, so the drawn occurrences line up with the text's: the
    ``ordinal``-th drawn occurrence is the one :meth:`ConversationSearch.search` numbered so.
    """

    def __init__(self, query: str, item: Item, parts: Sequence[Lines], current: int | None) -> None:
        self.query = query
        self.current = current
        self._skip = {0} | {spot.line for spot in item.hotspots if spot.action != "toggle_tool"}
        self._starts: dict[int, tuple[int, int]] = {}
        """``id(part)`` → (its first line in the item, the ordinal of its first match)."""
        self._marked: dict[int, list[tuple[Content, object]] | None] = {}
        self._parts = parts
        y = ordinal = 0
        for part in parts:
            if id(part) not in self._starts:
                self._starts[id(part)] = (y, ordinal)
            if current is not None:  # numbering matters only in the item of the current one
                ordinal += self._count(part, y)
            y += part.height

    def _count(self, part: Lines, y: int) -> int:
        if isinstance(part, LazyLines):  # counted in its text: drawing it could be megabytes
            return count(part.text, self.query)
        skip = self._skip
        return sum(
            len(line_spans(line.plain, self.query))
            for offset, line in enumerate(part.content)
            if y + offset not in skip
        )

    def lines(self, part: Lines) -> list[tuple[Content, object]] | None:
        """``part``'s lines with their matches styled, each with a key naming the marks (for
        the view's line cache: ``Content`` compares by text alone); None without a match."""
        key = id(part)
        if key in self._marked:
            return self._marked[key]
        y, ordinal = self._starts.get(key, (0, 0))
        out: list[tuple[Content, object]] = []
        found = False
        for offset, line in enumerate(part.content):
            spans = [] if y + offset in self._skip else line_spans(line.plain, self.query)
            marks: list[tuple[int, int, bool]] = []
            for start, end in spans:
                current = ordinal == self.current
                line = line.stylize(CURRENT_STYLE if current else MATCH_STYLE, start, end)
                marks.append((start, end, current))
                ordinal += 1
            found = found or bool(marks)
            out.append((line, ("find", tuple(marks))))
        result = out if found else None
        self._marked[key] = result
        return result

    def line_of(self, ordinal: int) -> int | None:
        """The item line of the ``ordinal``-th match (the last match's when there are fewer;
        None when no drawn line holds one)."""
        last: int | None = None
        for part in self._parts:
            y, _ = self._starts[id(part)]
            marked = self.lines(part)
            if marked is None:
                continue
            for offset, (_, key) in enumerate(marked):
                marks = key[1] if isinstance(key, tuple) else ()
                if any(current for _, _, current in marks):
                    return y + offset
                if marks:
                    last = y + offset
        return last
