"""Markdown structure without any UI: code blocks, and top-level blocks for streaming.

Streaming rendering rests on one fact of Markdown: once a new top-level block has started,
the blocks before it are final. :class:`BlockSplitter` tracks that boundary as text arrives, so
finished blocks are rendered once and only the open (last) block is re-rendered. An open
fenced code block is tracked line by line without re-parsing, so a 2,000-line fence costs the
same per token as a short one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """One fenced or indented code block."""

    code: str
    language: str = ""

    @property
    def preview(self) -> str:
        """The first non-blank line, for pickers."""
        for line in self.code.splitlines():
            if line.strip():
                return line.strip()
        return "(empty)"

    @property
    def line_count(self) -> int:
        """Lines of code."""
        return len(self.code.splitlines())


def new_parser() -> MarkdownIt:
    """The Markdown dialect glmtui renders: CommonMark plus GFM tables and strikethrough."""
    from markdown_it import MarkdownIt  # imported on first use: keeps startup fast

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@cache
def _parser() -> MarkdownIt:
    return new_parser()


@cache
def _block_parser() -> MarkdownIt:
    """Block structure only: the inline pass is the expensive half and splitting needs none."""
    return new_parser().disable("inline")


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every code block in ``markdown``, in order (an unclosed fence counts)."""
    blocks: list[CodeBlock] = []
    for token in _parser().parse(markdown):
        if token.type in ("fence", "code_block"):
            language = token.info.strip().split()[0] if token.info.strip() else ""
            blocks.append(CodeBlock(token.content.rstrip("\n"), language))
    return blocks


def block_starts(text: str) -> list[int]:
    """Line numbers where each top-level block of ``text`` starts."""
    return [
        token.map[0]
        for token in _block_parser().parse(text)
        if token.level == 0 and token.nesting >= 0 and token.map is not None
    ]


def split_blocks(text: str) -> list[str]:
    """``text`` cut into top-level block sources (blank lines stay with the block before).

    The pieces concatenate back to ``text``. Leading blank lines belong to the first block.
    """
    lines = text.splitlines(keepends=True)
    starts = block_starts(text)
    if not starts:
        return [text] if text else []
    starts[0] = 0
    bounds = [*starts, len(lines)]
    return ["".join(lines[bounds[i] : bounds[i + 1]]) for i in range(len(starts))]


_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})([^`]*)$")

FORMAT_LINE_LIMIT = 400
"""Blocks longer than this many lines (except fenced code) are shown as plain text.

Formatting costs grow with a block's size (a 10,000-row table takes seconds to parse and lay
out) and a block that long is not read as a formatted whole anyway. Fenced code is exempt: its
cost per line is small and constant."""

FORMAT_CHAR_LIMIT = 32_000
"""Likewise for blocks of more characters than this (a megabyte on one line)."""

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_MAY_CONTINUE = re.compile(r" {0,3}(?:[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|\t)| {4}")
"""The first line of a block that a blank line does not end: a list item, indented code."""


def _first_filled_line(text: str) -> str:
    """The first line of ``text`` that is not blank (``""`` if none), found without splitting
    the whole text."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if text[start:end].strip():
            return text[start:end]
        start = end + 1
    return ""


class RawBlock(str):
    """A piece of a block too large to format (see :data:`FORMAT_LINE_LIMIT`): plain text."""

    continued: bool
    """True for the pieces after the first of one huge block."""

    def __new__(cls, text: str, *, continued: bool = False) -> RawBlock:
        block = super().__new__(cls, text)
        block.continued = continued
        return block


def _cut_lines(
    text: str, start: int, limit: int, char_limit: int = FORMAT_CHAR_LIMIT
) -> tuple[int, bool]:
    """Where the first ``limit`` lines of ``text[start:]`` end (at most ``char_limit``
    characters on: cut at a line end when there is one, else mid-line), and whether more
    text follows."""
    stop = min(len(text), start + char_limit)
    end = start - 1
    for _ in range(limit):
        end = text.find("\n", end + 1, stop)
        if end < 0:
            if len(text) - start <= char_limit:
                return len(text), False
            return (text.rfind("\n", start, stop) + 1 or stop), True
    return end + 1, end + 1 < len(text)


def _fence_length(text: str, start: int = 0) -> int | None:
    """When ``text[start:]`` begins (after blank lines) with a code fence: the index just past
    that fenced block's closing line (``len(text)`` if unclosed); else None."""
    position = start
    while position < len(text):
        end = text.find("\n", position)
        line_end = len(text) if end < 0 else end + 1
        line = text[position:line_end]
        position = line_end
        if not line.strip():
            continue
        match = _FENCE_OPEN.match(line.rstrip("\r\n"))
        if match is None or (match.group(2)[0] == "`" and "`" in match.group(3)):
            return None
        marker = match.group(2)
        while position < len(text):
            end = text.find("\n", position)
            line_end = len(text) if end < 0 else end + 1
            after = text[position:line_end].rstrip("\r\n")
            position = line_end
            stripped = after.strip()
            if (
                len(after) - len(after.lstrip(" ")) <= 3
                and stripped.startswith(marker)
                and set(stripped) == {marker[0]}
            ):
                return position
        return len(text)
    return None


def split_blocks_bounded(
    text: str, *, continuing: bool = False, limit: int = FORMAT_LINE_LIMIT
) -> list[str]:
    """:func:`split_blocks`, parsing at most ``limit`` lines at a time.

    A block longer than ``limit`` lines (other than fenced code) comes out as :class:`RawBlock`
    pieces, so neither splitting nor rendering ever works on more than ``limit`` lines of
    one block. The pieces concatenate back to ``text``.

    Args:
        continuing: ``text`` starts inside a huge block already cut: its first block is raw.
    """
    pieces: list[str] = []
    at = 0  # where the text not yet cut into pieces starts (no copies of the rest: O(n))
    while at < len(text):
        cut, more = _cut_lines(text, at, limit)
        if continuing and more and text.find("\n", at, cut) < 0:
            # The middle of one huge line: it can only continue the block being cut.
            pieces.append(RawBlock(text[at:cut], continued=True))
            at = cut
            continue
        found = split_blocks(text[at:cut] if more else text[at:])
        if continuing and found:
            continuing = False
            if len(found) == 1 and more:
                pieces.append(RawBlock(text[at:cut], continued=True))
                at = cut
                continuing = True
                continue
            found[0] = RawBlock(found[0], continued=True)
        if not more:
            pieces.extend(found)
            break
        if len(found) >= 2:
            done = found[:-1]
            pieces.extend(done)
            at += sum(len(piece) for piece in done)
            continue
        fence = _fence_length(text, at)
        if fence is not None:
            pieces.append(text[at:fence])
            at = fence
            continue
        pieces.append(RawBlock(text[at:cut]))
        at = cut
        continuing = True
    return pieces


class BlockSplitter:
    """Incrementally split streamed Markdown into final blocks and one open block.

    Feed text with :meth:`feed`; :meth:`advance` moves every block that can no longer change
    into :attr:`frozen` and returns them. ``"".join(frozen) + open_text`` is always the whole
    text, so nothing is ever lost.
    """

    def __init__(self) -> None:
        self.frozen: list[str] = []
        """Final block sources, in order."""
        self.open_start = 0
        """Where the open block starts in the whole text (the frozen blocks' length)."""
        self._tail: list[str] = []
        self._tail_text = ""
        self._fence: tuple[str, int] | None = None
        """``(fence chars, scanned length)`` while the open block is an unclosed fence."""
        self._continuing = False
        """The open block continues a huge block already frozen in raw pieces."""
        self.backlog = False
        """True when the last :meth:`advance` left complete text unsplit (see max_chars)."""
        self._seen = 0
        """Characters of the open block's complete lines that :meth:`advance` has looked at."""
        self._checked = (0, 0)
        """``(characters, lines)`` of the open block when it was last split."""
        self._one_block = 0
        """Length of the open block's complete lines last found to be one block: until
        another line completes, splitting again would find the same (most frames of a
        streaming paragraph add words, not lines)."""

    @property
    def open_text(self) -> str:
        """The text after the last final block (the open block, still changing)."""
        if self._tail:
            self._tail_text += "".join(self._tail)
            self._tail.clear()
        return self._tail_text

    @property
    def open_raw(self) -> bool:
        """True when the open block is the rest of a block too large to format."""
        return self._continuing

    @property
    def open_fence(self) -> str | None:
        """The fence marker (e.g. ```` ``` ````) when the open block is an unclosed code fence."""
        return self._fence[0] if self._fence else None

    def feed(self, text: str) -> None:
        """Append streamed text (cheap: parsing waits for :meth:`advance`)."""
        if text:
            self._tail.append(text)

    def advance(self, max_chars: int | None = None) -> list[str]:
        """Freeze the blocks that are final; returns the newly frozen sources.

        Args:
            max_chars: Take in no more than about this much *new* text now (megabytes
                arriving at once are split over several calls; :attr:`backlog` says more is
                waiting). A long open block that grows a little per call is not affected.
        """
        self.backlog = False
        tail = self.open_text
        if not tail:
            return []
        if self._inside_open_fence(tail):
            return []
        # Only complete lines decide where blocks start: "#" alone is a heading, but "#1"
        # continues a paragraph, so a block start on the unfinished last line is not trusted.
        complete = tail[: tail.rfind("\n") + 1]
        whole = complete
        if max_chars is not None and len(complete) > self._seen + max_chars:
            cut = complete.rfind("\n", 0, self._seen + max_chars) + 1
            if cut > self._seen:
                complete, self.backlog = complete[:cut], True
        self._seen = len(complete)
        known = bool(complete) and len(complete) == self._one_block
        if not complete or (not known and not self._worth_splitting(complete)):
            self._track_fence(tail)
            return []
        if known:
            pieces = [complete]  # no line completed since it was found to be one block
        else:
            pieces = split_blocks_bounded(complete, continuing=self._continuing)
        if len(pieces) < 2 and self.backlog:  # one block longer than the slice: a fence
            self.backlog = False
            pieces = split_blocks_bounded(whole, continuing=self._continuing)
            complete = whole
        if len(pieces) < 2:
            if not self._ended_by_blank_line(pieces, complete, tail):
                self._one_block = len(complete)
                self._track_fence(tail)
                return []
            pieces = [*pieces, tail[len(complete) :]]
        done = pieces[:-1]
        self.frozen.extend(done)
        self._seen = max(0, len(complete) - sum(len(piece) for piece in done))
        self.open_start += sum(len(piece) for piece in done)
        self._continuing = isinstance(pieces[-1], RawBlock)
        self._tail_text = tail[sum(len(piece) for piece in done) :]
        self._checked = (0, 0)
        self._one_block = 0
        self._fence = None
        self._track_fence(self._tail_text)
        return done

    def _ended_by_blank_line(self, pieces: list[str], complete: str, tail: str) -> bool:
        """True when the one block in ``complete`` is final although the next block's first
        line is not complete yet: a blank line ended it and the next block has begun.

        Why: without this, a heading (or a table) would stay open, and be drawn again at every
        frame, for as long as the paragraph after it streams its one long line.
        A list, an indented code block or an unclosed fence may go on after a blank line, and a
        link reference definition (``[1]: https://…``) joins the block before or after it, so
        those wait.
        """
        if len(pieces) != 1 or self.backlog or self._continuing or isinstance(pieces[0], RawBlock):
            return False
        rest = tail[len(complete) :].lstrip(" ")
        if not rest.strip() or rest[:1] == "[":  # "[" may start a link reference definition,
            return False  # which belongs with the block before it
        last_line = complete[complete.rfind("\n", 0, len(complete) - 1) + 1 :]
        if last_line.strip(" \t\r\n"):  # the block did not end with a blank line
            return False
        fence = _fence_length(complete)
        if fence is not None:
            return fence < len(complete)  # closed (an unclosed fence takes in everything)
        first = _first_filled_line(complete)
        if not first:  # blank lines only: they belong to the block that follows
            return False
        return _MAY_CONTINUE.match(first) is None and first.lstrip(" ")[:1] != "["

    def _worth_splitting(self, complete: str) -> bool:
        """Whether to look for block boundaries now.

        Short open blocks are split on every call. A long one (a big table or list) is split
        again only when a blank line arrived or it grew by a quarter: re-parsing it on every
        frame would make streaming it quadratic. Deferring a split only delays freezing;
        what is shown is the same.
        """
        lines = complete.count("\n")
        checked_chars, checked_lines = self._checked
        if lines <= 64 or lines > FORMAT_LINE_LIMIT or len(complete) > FORMAT_CHAR_LIMIT:
            worth = True
        else:
            fresh = complete[max(0, checked_chars - 1) :]
            worth = lines >= checked_lines * 1.25 or _BLANK_LINE.search(fresh) is not None
        if worth:
            self._checked = (len(complete), lines)
        return worth

    def finish(self) -> list[str]:
        """End of stream: every remaining block is final. Returns the newly frozen sources."""
        tail = self.open_text
        self._tail_text = ""
        self._fence = None
        pieces = split_blocks_bounded(tail, continuing=self._continuing)
        self._continuing = False
        self._checked = (0, 0)
        self._one_block = 0
        self._seen = 0
        self.backlog = False
        self.frozen.extend(pieces)
        self.open_start += len(tail)
        return pieces

    def _track_fence(self, tail: str) -> None:
        """Remember whether the open block is an unclosed fence (and how far it was scanned)."""
        first = tail.split("\n", 1)[0]
        match = _FENCE_OPEN.match(first.rstrip("\r"))
        if match and (match.group(2)[0] == "~" or "`" not in match.group(3)):
            self._fence = (match.group(2), len(first))
        else:
            self._fence = None
        if self._fence is not None and self._closing_line_after(tail, self._fence):
            self._fence = None

    def _inside_open_fence(self, tail: str) -> bool:
        """True while the open fence is still unclosed; scans only lines not seen before."""
        if self._fence is None:
            return False
        if self._closing_line_after(tail, self._fence):
            self._fence = None
            return False
        marker, _ = self._fence
        # Keep the last (possibly partial) line for the next scan.
        self._fence = (marker, max(self._fence[1], tail.rfind("\n")))
        return True

    @staticmethod
    def _closing_line_after(tail: str, fence: tuple[str, int]) -> bool:
        marker, scanned = fence
        start = tail.find("\n", scanned)
        if start < 0:
            return False
        for line in tail[start + 1 :].split("\n")[:-1]:  # complete lines only
            stripped = line.strip()
            if (
                len(line) - len(line.lstrip(" ")) <= 3
                and stripped.startswith(marker[0] * len(marker))
                and set(stripped) == {marker[0]}
            ):
                return True
        return False
