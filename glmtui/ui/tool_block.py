"""A tool call as the conversation draws it: one block of lines inside its reply.

The block is part of a :class:`~glmtui.ui.items.ReplyItem`, drawn through the same
:class:`~glmtui.ui.lines.Lines` as the reply's text, never a widget of its own (a tool turn
of twenty calls adds twenty small blocks to one item, not twenty widgets to lay out). Its
first line names the call, ``⚙ server.tool(arguments…)``, and says where it is (streaming
its arguments, waiting for approval, running for so long, done in so long, failed …); the
result follows, folded to its first :data:`FOLD_RESULT_LINES` lines until the user unfolds
it. A result is folded before anything is rendered, so a megabyte costs no more than three
lines until it is opened, and then it is laid out a budget at a time
(:class:`~glmtui.ui.lines.PlainLayout`), as a huge prompt is.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Literal

from rich.cells import cell_len
from textual.content import Content

from glmtui.domain.text import visible_controls
from glmtui.domain.tools import ToolCall, ToolOutcome
from glmtui.ui.lines import LAZY_FROM, Lines, OneLine, PlainLayout
from glmtui.ui.markdown_render import highlight_code, render_plain

if TYPE_CHECKING:
    from glmtui.chat.events import ToolState
    from glmtui.domain import Message

BlockState = Literal[
    "arguments",
    "queued",
    "waiting",
    "running",
    "done",
    "failed",
    "denied",
    "timeout",
    "cancelled",
]
"""What a block shows: the controller's :data:`~glmtui.chat.events.ToolState`, plus
``queued`` (the reply is complete and the call waits its turn to run)."""

OUTCOME_STATES: dict[ToolOutcome, BlockState] = {
    "ok": "done",
    "error": "failed",
    "denied": "denied",
    "timeout": "timeout",
    "cancelled": "cancelled",
}
"""The state a saved call is drawn in, by the outcome its tool message records."""

FOLD_RESULT_LINES = 3
"""Lines of a folded result that are shown (a result of one more line shows whole)."""
ARGUMENTS_PEEK = 4_000
"""Arguments up to this long are parsed for the one-line summary in the header; longer ones
(and partial ones, still streaming) are shown as they were written, cut short."""
HEADER_ARGUMENTS = 400
"""Characters of the arguments' summary kept for the header (it is ellipsised to the width)."""
PRETTY_MAX = 256_000
"""Results up to this long are pretty-printed when they are JSON; longer ones are shown as
they came (re-indenting megabytes would hold the screen)."""
HIGHLIGHT_MAX = 32_000
"""Unfolded JSON results up to this long are highlighted; longer ones are plain text."""
TICK = 0.25
"""Seconds between redraws of a running call's elapsed time (four a second at most)."""

ICON = "⚙ "
NAME = "bold"
ARGUMENTS = "$text-muted"
BAR = "$text-muted"
NOTE = "italic $text-muted"
ERROR_TEXT = "$text-error"
QUIET_TEXT = "italic $text-muted"
STATE_STYLES: dict[BlockState, str] = {
    "arguments": "italic $text-muted",
    "queued": "$text-muted",
    "waiting": "bold $text-warning",
    "running": "bold $text-accent",
    "done": "$text-success",
    "failed": "bold $text-error",
    "denied": "$text-warning",
    "timeout": "$text-warning",
    "cancelled": "$text-warning",
}
PREFIX_WIDTH = 4
"""Columns before a result's text: two of indent, the bar and a space."""


def duration_text(seconds: float) -> str:
    """A call's duration as people say it: ``120 ms``, ``3.2 s``, ``2 min 5 s``."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def compact_arguments(arguments: str) -> str:
    """The arguments on one line for the header: ``key="value", n=3`` for a JSON object that
    is not too long, else the text as written with its whitespace collapsed (partial JSON
    while it streams). Control characters are shown, never obeyed."""
    text = arguments.strip()
    if not text:
        return ""
    if len(text) <= ARGUMENTS_PEEK:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            summary = ", ".join(
                f"{key}={json.dumps(item, ensure_ascii=False)}" for key, item in value.items()
            )
            return visible_controls(summary[:HEADER_ARGUMENTS])
    return visible_controls(" ".join(text[:HEADER_ARGUMENTS].split()))


def pretty_result(text: str) -> tuple[str, bool]:
    """A result as it is shown, and whether it is JSON: JSON indented, anything else as it
    came (text, or the host's names for non-text parts, e.g. ``[image image/png, 12 KB]``)."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and len(stripped) <= PRETTY_MAX:
        try:
            value = json.loads(stripped)
        except ValueError:
            return text, False
        return json.dumps(value, indent=2, ensure_ascii=False), True
    return text, False


def _amount(characters: int) -> str:
    if characters < 10_000:
        return f"{characters:,} characters"
    if characters < 1_000_000:
        return f"{characters / 1000:.0f} K characters"
    return f"{characters / 1_000_000:.1f} M characters"


class ToolBlock:
    """One call of a reply: its header line and its (folded) result, as lines.

    Args:
        call: The call as far as it arrived.
        label: ``server.tool`` (the wire name for a tool no server offers).
        state: Where the call is.
        started: ``time.monotonic()`` when it began to run (a live elapsed time).
        result: The ``role: "tool"`` message that answered it, once it ended.
    """

    def __init__(
        self,
        call: ToolCall,
        label: str = "",
        state: BlockState = "arguments",
        *,
        started: float | None = None,
        result: Message | None = None,
    ) -> None:
        self.call = call
        self.label = label
        self.state: BlockState = state
        self.started = started
        self.result = result
        self.expanded = False
        """Whether a foldable result is shown whole."""
        self.behind = False
        """True when :meth:`parts` stopped laying out a large result at its budget."""
        self.hotspots: list[int] = []
        """Lines of the block (valid after :meth:`parts`) a click folds or unfolds."""
        self._one_line = OneLine()
        self._arguments: tuple[str, str] = ("", "")
        """``(arguments, summary)`` of the last header (summarised once per change)."""
        self._pretty: tuple[Message, str, bool] | None = None
        self._body: tuple[tuple[object, ...], list[Lines], bool, list[int]] | None = None
        """``(key, parts, foldable, hotspots)`` of the result as last drawn (hotspots: its
        note's lines, counted from the result's first line)."""
        self._layout: PlainLayout | None = None

    # --- state -------------------------------------------------------------------------------

    def update(
        self,
        call: ToolCall,
        state: ToolState | BlockState,
        label: str,
        started: float | None = None,
        result: Message | None = None,
    ) -> None:
        """The controller moved the call on (see :class:`~glmtui.chat.events.ToolCallUpdated`).

        A label that is only the wire name (a call answered without its tool being looked
        up, e.g. one not run because the turn was stopped) does not replace ``server.tool``.
        """
        self.call = call
        if label and ("." in label or not self.label):
            self.label = label
        self.state = state
        if started is not None:
            self.started = started
        if result is not None:
            self.result = result

    def answer(self, result: Message | None) -> None:
        """Show ``result`` as the call's answer (from a saved session, or announced on its
        own); None: the answer is gone (deleted)."""
        self.result = result
        if result is None:
            self.state = "cancelled"
        elif result.tool_outcome is not None:
            self.state = OUTCOME_STATES.get(result.tool_outcome, "done")
        else:
            self.state = "done"

    @property
    def running(self) -> bool:
        """True while the call runs (its elapsed time is redrawn every :data:`TICK`)."""
        return self.state == "running"

    @property
    def foldable(self) -> bool:
        """True when the result is longer than a folded block shows (valid after drawing)."""
        return self._body is not None and self._body[2]

    # --- drawing -----------------------------------------------------------------------------

    def state_text(self) -> str:
        """Where the call is, in words (the running time as of now)."""
        state = self.state
        if state == "arguments":
            return "streaming arguments…"
        if state == "queued":
            return "queued"
        if state == "waiting":
            return "waiting for approval"
        if state == "running":
            elapsed = time.monotonic() - self.started if self.started is not None else 0.0
            return f"running {duration_text(elapsed)}"
        if state == "done":
            duration = self.result.duration_ms if self.result is not None else None
            return f"done in {duration_text(duration / 1000)}" if duration is not None else "done"
        if state == "timeout":
            return "timed out"
        return state  # failed, denied, cancelled

    def parts(self, width: int, budget: float | None = None) -> list[Lines]:
        """The block at ``width``: its header, then its result (folded unless expanded).

        Args:
            width: The reply's text width.
            budget: Seconds a large unfolded result may spend laying out (None: all of it).
        """
        header = self._header(width)
        self.behind = False
        self.hotspots = []
        if self.result is None:
            self._body = None
            return [header]
        body = self._body_parts(width, budget)
        if self._body is not None and self._body[2]:
            self.hotspots = [0, *(header.height + line for line in self._body[3])]
        return [header, *body]

    def _header(self, width: int) -> Lines:
        """``⚙ server.tool(arguments…) · state`` on one line, the call ellipsised to fit."""
        arguments = self.call.arguments
        if self._arguments[0] is not arguments:
            self._arguments = (arguments, compact_arguments(arguments))
        label = visible_controls(self.label or self.call.name or "…")
        state = self.state_text()
        key = f"{width}\0{label}\0{self._arguments[1]}\0{state}\0{self.state}"

        def make() -> list[Content]:
            call = Content.assemble(
                Content.styled(label, NAME),
                Content.styled(f"({self._arguments[1]})", ARGUMENTS),
            )
            status = Content.styled(state, STATE_STYLES[self.state])
            room = width - cell_len(ICON) - cell_len(state) - 3
            if room < 12:  # too narrow for both: the state on a line of its own
                return [
                    (Content(ICON) + call).truncate(width, ellipsis=True),
                    Content("  ") + status,
                ]
            if call.cell_length > room:
                call = call.truncate(room, ellipsis=True)
            return [Content.assemble(ICON, call, Content.styled(" · ", ARGUMENTS), status)]

        return self._one_line.get(key, width, make)

    def _result_text(self) -> tuple[str, bool]:
        """The result pretty-printed (once per result)."""
        result = self.result
        assert result is not None
        if self._pretty is None or self._pretty[0] is not result:
            text, is_json = pretty_result(result.content)
            self._pretty = (result, text, is_json)
        return self._pretty[1], self._pretty[2]

    def _text_style(self) -> str:
        if self.state == "failed":
            return ERROR_TEXT
        if self.state in ("denied", "cancelled", "timeout"):
            return QUIET_TEXT
        return ""

    def _body_parts(self, width: int, budget: float | None) -> list[Lines]:
        """The result's lines: all of them when short or unfolded, else the first few and a
        note saying how much more there is."""
        text, is_json = self._result_text()
        inner = max(8, width - PREFIX_WIDTH)
        key = (width, self.expanded, self._pretty[0] if self._pretty else None, self.state)
        if self._body is not None and self._body[0] == key and not self._layout_open():
            return self._body[1]
        style = self._text_style()
        short = text.count("\n") <= FOLD_RESULT_LINES and len(text) <= inner * (
            FOLD_RESULT_LINES + 1
        )
        if short:
            lines = self._lines(text, inner, is_json, style)
            if len(lines) <= FOLD_RESULT_LINES + 1:
                parts = [Lines(self._prefixed(lines), width)]
                self._body = (key, parts, False, [])
                return parts
        if self.expanded:
            parts = self._expanded_parts(text, width, inner, is_json, style, budget)
            note_lines = parts[-1].height
        else:
            head = "\n".join(
                line[: inner * FOLD_RESULT_LINES]
                for line in text.split("\n", FOLD_RESULT_LINES)[:FOLD_RESULT_LINES]
            )
            shown = self._lines(head, inner, is_json, style)[:FOLD_RESULT_LINES]
            total = text.count("\n") + 1
            note = (
                f"⋯ {total:,} line{'s' if total != 1 else ''}, {_amount(len(text))} in all"
                " · click or press o to show everything"
            )
            folded = self._note(note, width)
            parts = [Lines(self._prefixed(shown) + folded, width)]
            note_lines = len(folded)
        end = sum(part.height for part in parts)
        self._body = (key, parts, True, list(range(end - note_lines, end)))
        return parts

    def _layout_open(self) -> bool:
        """True while an unfolded large result is still being laid out."""
        return self.expanded and self._layout is not None and not self._layout.complete

    def _expanded_parts(
        self,
        text: str,
        width: int,
        inner: int,
        is_json: bool,
        style: str,
        budget: float | None,
    ) -> list[Lines]:
        fold = Lines(self._note("▲ click or press o to fold", width), width)
        if len(text) <= LAZY_FROM:
            return [Lines(self._prefixed(self._lines(text, inner, is_json, style)), width), fold]
        layout = self._layout
        if layout is None or layout.key != width:
            prefix = Content("  ") + Content.styled("│ ", BAR)
            layout = self._layout = PlainLayout(text, width, style=style, prefix=prefix)
        if not layout.complete:
            layout.advance(budget)
        if layout.complete:
            return [*layout.parts, fold]
        self.behind = True
        note = f"⋯ laying out, {layout.left:,} more characters…"
        return [*layout.parts, Lines(self._note(note, width), width)]

    @staticmethod
    def _lines(text: str, width: int, is_json: bool, style: str) -> list[Content]:
        """``text`` wrapped at ``width``: JSON highlighted when it is not too long."""
        if is_json and len(text) <= HIGHLIGHT_MAX:
            out: list[Content] = []
            for line in highlight_code(text, "json").split("\n", allow_blank=True):
                out.extend(line.wrap(width) if line.plain else [Content("")])
            return out
        return render_plain(text, width, style)

    @staticmethod
    def _prefixed(lines: list[Content]) -> list[Content]:
        bar = Content("  ") + Content.styled("│ ", BAR)
        return [bar + line for line in lines]

    @staticmethod
    def _note(note: str, width: int) -> list[Content]:
        return [Content("  ") + line for line in Content.styled(note, NOTE).wrap(max(8, width - 2))]
