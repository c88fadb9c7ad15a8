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


class BlockSplitter:
    """Incrementally split streamed Markdown into final blocks and one open block.

    Feed text with :meth:`feed`; :meth:`advance` moves every block that can no longer change
    into :attr:`frozen` and returns them. ``"".join(frozen) + open_text`` is always the whole
    text, so nothing is ever lost.
    """

    def __init__(self) -> None:
        self.frozen: list[str] = []
        """Final block sources, in order."""
        self._tail: list[str] = []
        self._tail_text = ""
        self._fence: tuple[str, int] | None = None
        """``(fence chars, scanned length)`` while the open block is an unclosed fence."""

    @property
    def open_text(self) -> str:
        """The text after the last final block (the open block, still changing)."""
        if self._tail:
            self._tail_text += "".join(self._tail)
            self._tail.clear()
        return self._tail_text

    @property
    def open_fence(self) -> str | None:
        """The fence marker (e.g. ```` ``` ````) when the open block is an unclosed code fence."""
        return self._fence[0] if self._fence else None

    def feed(self, text: str) -> None:
        """Append streamed text (cheap: parsing waits for :meth:`advance`)."""
        if text:
            self._tail.append(text)

    def advance(self) -> list[str]:
        """Freeze the blocks that are final; returns the newly frozen sources."""
        tail = self.open_text
        if not tail:
            return []
        if self._inside_open_fence(tail):
            return []
        # Only complete lines decide where blocks start: "#" alone is a heading, but "#1"
        # continues a paragraph, so a block start on the unfinished last line is not trusted.
        complete = tail[: tail.rfind("\n") + 1]
        pieces = split_blocks(complete) if complete else []
        if len(pieces) < 2:
            self._track_fence(tail)
            return []
        done = pieces[:-1]
        self.frozen.extend(done)
        self._tail_text = tail[sum(len(piece) for piece in done) :]
        self._fence = None
        self._track_fence(self._tail_text)
        return done

    def finish(self) -> list[str]:
        """End of stream: every remaining block is final. Returns the newly frozen sources."""
        tail = self.open_text
        self._tail_text = ""
        self._fence = None
        pieces = split_blocks(tail)
        self.frozen.extend(pieces)
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
