"""The conversation's messages as drawable items (not widgets): lines, caches and streaming state.

The conversation pane is one scrolling widget that draws every message itself
(:mod:`glmtui.ui.widgets.conversation`). Each message is an :class:`Item` that renders its lines
at a width and caches them: a finished reply is rendered once; a streaming reply re-renders only
its open Markdown block (see :mod:`glmtui.domain.markdown`). Items hold no widgets, so a
1,000-message conversation costs memory for its text and the lines on screen, not a widget tree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from textual.content import Content

from glmtui.chat.formatting import count
from glmtui.domain import Message
from glmtui.domain.markdown import BlockSplitter
from glmtui.domain.stats import TurnStats
from glmtui.domain.text import visible_controls
from glmtui.domain.tools import ToolCall
from glmtui.ui.lines import (
    KEEP_CHUNKS,
    LAZY_FROM,
    PLAIN_CHUNK,
    LazyLines,
    Lines,
    OneLine,
    PlainLayout,
)
from glmtui.ui.markdown_render import (
    PIECED_FROM,
    OpenBlock,
    code_piece_lines,
    fence_language,
    next_piece_end,
    render_block,
    render_code_label,
    render_code_text,
    render_open_block,
    render_plain,
    render_raw,
)
from glmtui.ui.tool_block import BlockState, ToolBlock

__all__ = [  # the lines' machinery lives in glmtui.ui.lines; named here too, where it began
    "KEEP_CHUNKS",
    "LAZY_FROM",
    "PLAIN_CHUNK",
    "Hotspot",
    "Item",
    "LazyLines",
    "Lines",
    "PlainLayout",
    "ReplyItem",
    "UserItem",
]

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
FENCE_CHUNK = 32
"""Lines per cached piece of an open code fence."""
OPEN_FORMAT_LINES = 100
"""An open (still streaming) block longer than this shows as plain text until it completes:
formatting it again on every frame would cost more the longer it gets."""
OPEN_FORMAT_CHARS = 4_000
"""Likewise for an open block of more characters than this (one huge line or paragraph)."""
RAW_CHUNK = 4_096
"""Characters of one endless line drawn (and cached) at a time while it streams."""
RAW_PER_FRAME = 256_000
"""Characters of a long open block drawn per frame when megabytes arrive at once."""
SPLIT_PER_FRAME = 16_000
"""Characters of a reply split into blocks per frame when megabytes arrive at once."""
FOLD_CHARS = 6_000
FOLD_LINES = 60
"""A prompt of more characters or lines than these is shown folded (see UserItem)."""
FOLD_SHOW = 12
"""Lines of a folded prompt that are shown."""
FOLD_NOTE = "▲ click or press o to fold"
COUNT_WORDS_UP_TO = 1_000_000
"""Reasoning longer than this is titled by its characters: counting its words would take
seconds (~3 s for 50 MB here), and the title shows even while the reasoning is folded."""

FINISH_REASONS = {
    "length": "the max_tokens limit was reached",
    "content_filter": "the provider's content filter stopped it",
    "sensitive": "the provider flagged it as sensitive",
    "network_error": "the provider reported a network error",
    "abort": "the provider aborted it",
    "tool_calls": "the model asked to call a tool",
}
"""Plain words for finish reasons other than ``stop``; unknown ones are shown verbatim."""

META = "bold $text-muted"
REASONING_TITLE = "$reasoning-title"
REASONING_TEXT = "italic $reasoning-foreground"
REASONING_BAR = "$reasoning-border"
ERROR = "$text-error"
WARNING = "$text-warning"
RETRY = "bold $text-warning on $warning-muted"
MUTED = "$text-muted"


SHOWN_ATTACHMENTS = 8
"""A prompt's attachments named one per line, at most (a folder may bring hundreds)."""


def attachment_lines(message: Message, width: int) -> list[Content]:
    """The files sent with a prompt, one muted line each (``+ notes.md · 4.1 KB``), the kind
    named when it is not text; past :data:`SHOWN_ATTACHMENTS`, how many more."""
    from glmtui.store.export import size_text  # the store is loaded: the session came from it

    lines: list[Content] = []
    attachments = message.attachments
    for attachment in attachments[:SHOWN_ATTACHMENTS]:
        kind = "" if attachment.kind == "text" else f" · {attachment.kind}"
        line = f"+ {visible_controls(attachment.name)}{kind} · {size_text(attachment.size)}"
        lines.extend(Content.styled(line, MUTED).wrap(max(8, width)))
    if len(attachments) > SHOWN_ATTACHMENTS:
        more = len(attachments) - SHOWN_ATTACHMENTS
        lines.append(Content.styled(f"+ {more:,} more file{'s' if more != 1 else ''}", MUTED))
    return lines


def _clock(message: Message) -> str:
    return message.created_at.astimezone().strftime("%H:%M")


def _words(text: str) -> str:
    count = len(text.split())
    return f"{count:,} word{'s' if count != 1 else ''}"


@dataclass(slots=True)
class _OpenFence:
    """What has been drawn of the code fence that is streaming (see
    :meth:`ReplyItem._open_fence_parts`); offsets are into the fence's body."""

    width: int
    start: int
    """Where the fence starts in the answer (which fence this is)."""
    language: str
    pieces: list[Lines]
    """The label, then the pieces already highlighted (final: a one-shot render reuses them)."""
    plain_from: int = 0
    """Where the plain remainder after the last piece starts."""
    done: int = 0
    """The remainder's lines before this offset are drawn, in ``chunks`` and ``pending``."""
    chunks: list[Lines] = field(default_factory=list)
    pending: list[Content] = field(default_factory=list)
    lines: int = 0
    """Complete lines so far (pieces are cut once there are PIECED_FROM)."""
    counted: int = 0
    """Where counting lines stopped."""


@dataclass(frozen=True, slots=True)
class Hotspot:
    """A clickable line of an item: which line, and what clicking it does."""

    line: int
    action: str
    """``toggle_reasoning``, ``toggle_fold``, ``toggle_tool`` or ``retry``."""
    target: int = 0
    """Which tool block ``toggle_tool`` folds or unfolds (its index in the reply)."""


class Item:
    """One message in the conversation."""

    kind = "message"

    def __init__(self, message: Message) -> None:
        self.message = message
        self.hotspots: list[Hotspot] = []
        """Clickable lines, valid after :meth:`parts`."""
        self.render_budget: float | None = None
        """Seconds one :meth:`parts` call may spend laying out or rendering (None: all)."""
        self.behind = False
        """True when :meth:`parts` stopped at its budget: the rest comes at the next frames."""

    def parts(self, width: int) -> list[Lines]:
        """Every line of the item at ``width``, part by part."""
        raise NotImplementedError

    @property
    def streaming(self) -> bool:
        """True while text is still arriving."""
        return False


class UserItem(Item):
    """A prompt the user sent, shown exactly as typed.

    A long prompt (a pasted log or file) is folded to its first :data:`FOLD_SHOW` lines
    until the user unfolds it: wrapping a megabyte on every resize would hold the screen for
    seconds, and the conversation stays readable. Copy and edit always use the whole text.
    """

    kind = "user"

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.expanded = False
        """Whether a foldable prompt is shown whole."""
        self._cache: list[Lines] = []
        self._key: tuple[int, bool] | None = None
        self._layout: PlainLayout | None = None
        """The unfolded prompt's layout, when it is large (see :class:`PlainLayout`)."""
        self._lazy_key: tuple[int, int, bool] | None = None
        self._line_total: int | None = None

    @property
    def foldable(self) -> bool:
        """True when the prompt is long enough to be folded."""
        text = self.message.content
        return len(text) > FOLD_CHARS or text.count("\n") >= FOLD_LINES

    def parts(self, width: int) -> list[Lines]:
        folded = self.foldable and not self.expanded
        text = self.message.content
        if not folded and len(text) > LAZY_FROM:
            return self._lazy_parts(width)
        self.behind = False
        if self._key != (width, folded):
            self._key = (width, folded)
            header = Content.styled(f"You · {_clock(self.message)}", META)
            if folded:
                head = "\n".join(text.split("\n", FOLD_SHOW)[:FOLD_SHOW])[: FOLD_CHARS // 2]
                body = render_plain(head, width)[:FOLD_SHOW]
                if self._line_total is None:  # counted once: ~0.2 s for 50 MB
                    self._line_total = text.count("\n") + 1
                lines = self._line_total
                note = (
                    f"⋯ {lines:,} line{'s' if lines != 1 else ''}, {len(text):,} characters"
                    " in all · click or press o to show everything"
                )
            elif self.foldable:
                body = render_plain(text, width)
                note = FOLD_NOTE
            else:
                body, note = render_plain(text, width), ""
            if self.message.attachments:
                body = [*(body if text else []), *attachment_lines(self.message, width)]
            self.hotspots = []
            if note:
                self.hotspots.append(Hotspot(1 + len(body), "toggle_fold"))
                body = [*body, *Content.styled(note, MUTED).wrap(max(8, width))]
            self._cache = [Lines([header, *body], width)]
        return self._cache

    def _lazy_parts(self, width: int) -> list[Lines]:
        """A large unfolded prompt: laid out a budget per frame, drawn only where shown."""
        self._key = None  # the folded lines are made again when folded again
        layout = self._layout
        if layout is None or layout.key != width:
            layout = self._layout = PlainLayout(self.message.content, width)
            self._lazy_key = None
        if not layout.complete:
            layout.advance(self.render_budget)
        key = (width, len(layout.parts), layout.complete)
        if self._lazy_key != key:
            self._lazy_key = key
            header = Lines([Content.styled(f"You · {_clock(self.message)}", META)], width)
            parts: list[Lines] = [header, *layout.parts]
            if self.message.attachments:
                parts.append(Lines(attachment_lines(self.message, width), width))
            if not layout.complete:
                note = f"⋯ laying out, {layout.left:,} more characters…"
                parts.append(Lines([Content.styled(note, MUTED)], width))
            fold = Lines(Content.styled(FOLD_NOTE, MUTED).wrap(max(8, width)), width)
            self.hotspots = [Hotspot(sum(part.height for part in parts), "toggle_fold")]
            self._cache = [*parts, fold]
        self.behind = not layout.complete
        return self._cache


class ReplyItem(Item):
    """A reply from the model: reasoning (foldable), the Markdown answer, the tool calls it
    made (see :mod:`glmtui.ui.tool_block`), and its status.

    While streaming, text is appended to pending buffers and taken in at most once per frame
    by :meth:`flush`; finished blocks are rendered once, the open block on every frame, and an
    open code fence line by line. The ``role: "tool"`` messages that answer its calls have no
    item of their own: each is drawn as the result in its call's block.
    """

    kind = "assistant"

    def __init__(
        self,
        message: Message,
        *,
        show_reasoning: bool = True,
        streaming: bool = False,
        model_label: str = "",
        tool_results: dict[str, Message] | None = None,
        pending: BlockState = "cancelled",
    ) -> None:
        """
        Args:
            message: The reply.
            show_reasoning: Draw the reasoning section (folded or not).
            streaming: The reply is streaming (its text arrives through :meth:`append_content`
                and :meth:`append_reasoning`).
            model_label: The model's name for the header.
            tool_results: The tool messages of the conversation by ``tool_call_id``: those
                answering this reply's calls are drawn in their blocks.
            pending: How a call without an answer is shown: ``cancelled`` (it never will be:
                the model is told it was not completed) or ``queued`` (its turn is running).
        """
        super().__init__(message)
        self.show_reasoning = show_reasoning
        self._streaming = streaming
        self.model_label = visible_controls(model_label or message.model or "Assistant")
        self.stats: TurnStats | None = None
        self.reasoning_open = streaming
        """Whether the reasoning section is unfolded."""
        self.rendered_length = 0
        """How many answer characters have been drawn (benchmarks measure latency with it)."""
        self.retry_note = ""
        self.render_budget: float | None = None
        """Seconds one :meth:`parts` call may spend rendering finished blocks (None: all)."""
        self.behind = False
        """True when finished blocks are still waiting to be rendered (see render_budget)."""
        self.frame = 0
        self.meta = ""
        self._answer = BlockSplitter()
        self._finish_pending = False
        """The reply is complete but its blocks are still being split (see _split_step)."""
        self._reasoning = BlockSplitter()
        self._content_parts: list[str] = []
        self._reasoning_parts: list[str] = []
        self._pending_content: list[str] = []
        self._pending_reasoning: list[str] = []
        self._answer_started = bool(message.content)
        self.tools: list[ToolBlock] = []
        """The reply's tool calls, in order."""
        self._tools_behind = False
        results = tool_results or {}
        for call in message.tool_calls:
            block = ToolBlock(call, call.name)
            answer = results.get(call.id)
            if answer is not None:
                block.label = answer.tool_name or call.name
                block.answer(answer)
            else:
                block.state = pending
            self.tools.append(block)
        self._one_line = OneLine()
        self._blocks: dict[int, list[Lines]] = {}
        self._reasoning_blocks: dict[int, list[Lines]] = {}
        self._assembled_cache: tuple[list[Lines], int, list[Lines]] | None = None
        """``(rendered blocks, how many were assembled, assembled parts)``; see _assembled."""
        self._open_cache: tuple[OpenBlock, Lines] | None = None
        self._open_reasoning_cache: tuple[int, str, Lines] | None = None
        self._fence_cache: _OpenFence | None = None
        self._raw_cache: tuple[int, int, int, list[Lines], list[Content]] | None = None
        """``(width, block start, characters done, chunks, lines pending)`` of the open block
        drawn in chunks (a fence, or a block too long to format while it streams)."""
        if message.content:
            self._content_parts.append(message.content)
            self._answer.feed(message.content)
            if len(message.content) > SPLIT_PER_FRAME:
                self._finish_pending = True  # split when first drawn (a slice a frame)
            else:
                self._answer.finish()
            self.rendered_length = len(message.content)
        self._lazy_reasoning: PlainLayout | None = None
        """Finished reasoning too large to split into blocks: laid out as plain text a budget
        at a time when unfolded (see :class:`PlainLayout`); None until first drawn."""
        self._huge_reasoning = False
        self._words_cache: tuple[int, str] = (0, _words(""))
        self._reasoning_behind = False
        if message.reasoning:
            self._reasoning_parts.append(message.reasoning)
            if len(message.reasoning) > LAZY_FROM:
                self._huge_reasoning = True  # nothing is split: it opens folded
            else:
                self._reasoning.feed(message.reasoning)
                self._reasoning.finish()
        self.refresh_meta()

    # --- streaming input -------------------------------------------------------------------

    @property
    def streaming(self) -> bool:
        return self._streaming

    @property
    def answer_started(self) -> bool:
        """True once the first answer text or tool call arrived (the reasoning then folds
        away)."""
        return self._answer_started or bool(self.tools)

    # --- tool calls --------------------------------------------------------------------------

    def update_tool(
        self,
        index: int,
        call: ToolCall,
        state: BlockState,
        label: str,
        started: float | None = None,
        result: Message | None = None,
    ) -> None:
        """A call of this reply moved on (see :class:`~glmtui.chat.events.ToolCallUpdated`).

        The block is found by the call's id, else by ``index`` (new blocks are added as the
        model's calls arrive); drawn at the next :meth:`parts`.
        """
        if self._streaming and not self.answer_started:
            self.reasoning_open = False  # the first call is the answer so far: reasoning folds
        block = self._tool_block(call.id)
        if block is None:
            while len(self.tools) <= index:
                self.tools.append(ToolBlock(ToolCall("", "")))
            block = self.tools[index]
        block.update(call, state, label, started, result)
        self.retry_note = ""

    def answer_tool(self, message: Message) -> bool:
        """Draw ``message`` (a tool message) as the result of the call it answers, if that
        call is one of this reply's; True when it is."""
        block = self._tool_block(message.tool_call_id or "")
        if block is None:
            return False
        if block.result is not message:
            if message.tool_name and not block.label:
                block.label = message.tool_name
            block.answer(message)
        return True

    def forget_tool_answer(self, message: Message) -> bool:
        """The tool message ``message`` was removed: its call shows no result any more."""
        block = self._tool_block(message.tool_call_id or "")
        if block is None or block.result is not message:
            return False
        block.answer(None)
        return True

    def _tool_block(self, call_id: str) -> ToolBlock | None:
        if not call_id:
            return None
        for block in self.tools:
            if block.call.id == call_id:
                return block
        return None

    @property
    def tools_running(self) -> bool:
        """True while one of the reply's calls runs (its time is redrawn as it goes)."""
        return any(block.running for block in self.tools)

    @property
    def tool_results_foldable(self) -> bool:
        """True when a call's result is long enough to be folded."""
        return any(block.foldable for block in self.tools)

    @property
    def tool_results_expanded(self) -> bool:
        """True when some foldable result is shown whole."""
        return any(block.foldable and block.expanded for block in self.tools)

    def expand_tool_results(self, expand: bool) -> None:
        """Show every foldable result whole, or fold them all."""
        for block in self.tools:
            block.expanded = expand and block.foldable

    def append_reasoning(self, text: str) -> None:
        """More of the model's reasoning (drawn at the next frame)."""
        self._reasoning_parts.append(text)
        self._pending_reasoning.append(text)
        self.retry_note = ""

    def append_content(self, text: str) -> None:
        """More of the answer (drawn at the next frame)."""
        self._content_parts.append(text)
        self._pending_content.append(text)
        self.retry_note = ""
        if not self._answer_started:
            self._answer_started = True
            self.reasoning_open = False

    def flush(self) -> None:
        """Take in the text that arrived since the last frame."""
        if self._pending_reasoning:
            self._reasoning.feed("".join(self._pending_reasoning))
            self._pending_reasoning.clear()
            self._reasoning.advance()
        if self._pending_content:
            self._answer.feed("".join(self._pending_content))
            self._pending_content.clear()
            self._answer.advance(SPLIT_PER_FRAME if self.render_budget is not None else None)
        self.rendered_length = sum(len(p) for p in self._answer.frozen) + len(
            self._answer.open_text
        )

    def finish(self) -> None:
        """The reply ended: everything that arrived becomes final, rendered completely."""
        self._streaming = False
        self._answer.feed("".join(self._pending_content))
        self._reasoning.feed("".join(self._pending_reasoning))
        self._pending_content.clear()
        self._pending_reasoning.clear()
        answer = self._answer
        if self.render_budget is not None and (
            answer.backlog or len(answer.open_text) > SPLIT_PER_FRAME
        ):
            self._finish_pending = True  # megabytes at once: split a slice a frame
        else:
            answer.finish()
        reasoning = self.reasoning_text
        if len(reasoning) > LAZY_FROM:  # drawn as plain text from now on, as if reopened
            self._reasoning_parts = [reasoning]
            self._huge_reasoning = True
            self._reasoning = BlockSplitter()
            self._reasoning_blocks = {}
        else:
            self._reasoning.finish()
        self._open_cache = self._open_reasoning_cache = self._fence_cache = None
        self._raw_cache = None
        self.rendered_length = len(self.content_text)
        self._settle_tools()
        self.refresh_meta()

    def _settle_tools(self) -> None:
        """At the end of the stream: each block gets its call as the reply keeps it (complete
        arguments), and a call whose arguments were still arriving waits to run (``queued``)
        or, if the reply did not complete, never will (``cancelled``)."""
        message = self.message
        for index, call in enumerate(message.tool_calls):
            block = self._tool_block(call.id)
            if block is None and index < len(self.tools) and not self.tools[index].call.id:
                block = self.tools[index]
            if block is None:
                block = ToolBlock(call, call.name)
                self.tools.append(block)
            block.call = call
        complete = message.status == "complete"
        for block in self.tools:
            if block.state == "arguments":
                block.state = "queued" if complete and block.call.name else "cancelled"

    @property
    def reasoning_text(self) -> str:
        """All reasoning received so far."""
        return "".join(self._reasoning_parts)

    @property
    def content_text(self) -> str:
        """All answer text received so far."""
        return "".join(self._content_parts)

    def refresh_meta(self) -> bool:
        """Recompute the header line (tokens, speed); True when it changed."""
        meta = self._meta_text()
        changed = meta != self.meta
        self.meta = meta
        return changed

    # --- drawing ---------------------------------------------------------------------------

    def parts(self, width: int) -> list[Lines]:
        meta = self.meta
        parts = [self._one_line.get("meta:" + meta, width, lambda: [Content.styled(meta, META)])]
        y = 1
        self.hotspots = []
        has_reasoning = self._huge_reasoning or bool(
            self._reasoning.frozen or self._reasoning.open_text.strip()
        )
        self._reasoning_behind = False
        if has_reasoning and self.show_reasoning:
            title = f"{'▼' if self.reasoning_open else '▶'} {self._reasoning_title()}"
            parts.append(
                self._one_line.get(
                    "title:" + title, width, lambda: [Content.styled(title, REASONING_TITLE)]
                )
            )
            self.hotspots.append(Hotspot(y, "toggle_reasoning"))
            y += 1
            if self.reasoning_open:
                for part in self._reasoning_parts_at(width):
                    parts.append(part)
                    y += part.height
        if self._streaming and not self.answer_started:
            spinner = self._spinner_text()
            parts.append(
                self._one_line.get(
                    "spin:" + spinner, width, lambda: [Content.styled(spinner, MUTED)]
                )
            )
            y += 1
            if self.retry_note:  # its own lines, wrapped: the reason is worth reading whole
                note = self.retry_note
                lines = self._one_line.get(
                    "retry:" + note, width, lambda: render_plain(note, width, WARNING)
                )
                parts.append(lines)
                y += len(lines.content)
        answer = self._answer_parts_at(width)
        if answer and y > 1:
            parts.append(self._blank(width))
            y += 1
        for part in answer:
            parts.append(part)
            y += part.height
        self._tools_behind = False
        for index, block in enumerate(self.tools):
            if y > 1 or index:
                parts.append(self._blank(width))
                y += 1
            block_parts = block.parts(width, self.render_budget)
            self.hotspots.extend(Hotspot(y + line, "toggle_tool", index) for line in block.hotspots)
            self._tools_behind = self._tools_behind or block.behind
            for part in block_parts:
                parts.append(part)
                y += part.height
        status = self._status_lines(width)
        if status:
            parts.append(Lines([Content(""), *status], width))
            if self._retry_available():
                self.hotspots.append(Hotspot(y + len(status), "retry"))
        if self._reasoning_behind or self._tools_behind:
            self.behind = True
        return parts

    def _blank(self, width: int) -> Lines:
        return self._one_line.get("", width, lambda: [Content("")])

    def _rendered_blocks(self, width: int) -> list[Lines]:
        """Every finished block, each rendered once per width.

        With a :attr:`render_budget`, rendering stops once the budget is spent (after at
        least one block) and :attr:`behind` is set: the view asks again at the next frame, so
        a reply of thousands of blocks arriving at once never holds the screen for long.
        """
        rendered = self._blocks.get(width)
        if rendered is None:
            if len(self._blocks) >= 2:  # keep the two latest widths
                del self._blocks[next(iter(self._blocks))]
            rendered = self._blocks[width] = []
        frozen = self._answer.frozen
        budget = self.render_budget
        deadline = time.perf_counter() + budget if budget is not None else None
        self.behind = False
        first = len(rendered)
        for index in range(first, len(frozen)):
            if deadline is not None and index > first and time.perf_counter() > deadline:
                self.behind = True
                break
            source = frozen[index]
            lines = render_block(source, width) if source.strip() else []
            rendered.append(Lines(lines, width))
        return rendered

    def _split_step(self) -> None:
        """Move block splitting on by one frame's slice (all of it without a budget)."""
        step = SPLIT_PER_FRAME if self.render_budget is not None else None
        answer = self._answer
        if answer.backlog:
            answer.advance(step)
            return
        if not self._finish_pending:
            return
        if step is not None and len(answer.open_text) > step:
            before = len(answer.frozen)
            answer.advance(step)
            if answer.backlog or len(answer.frozen) > before:
                return
        answer.finish()
        self._finish_pending = False
        self._open_cache = self._fence_cache = self._raw_cache = None

    def _assembled(self, rendered: list[Lines], width: int) -> list[Lines]:
        """The rendered blocks with blank lines between them, as a new list.

        Built on from the last frame's, so a reply of a hundred thousand short paragraphs
        does not cost a Python loop over all of them on every frame while it is drawn.
        """
        cached = self._assembled_cache
        if cached is None or cached[0] is not rendered or cached[1] > len(rendered):
            cached = (rendered, 0, [])
        _, done, out = cached
        for part in rendered[done:]:
            if part.content:
                if out:
                    out.append(self._blank(width))
                out.append(part)
        self._assembled_cache = (rendered, len(rendered), out)
        return list(out)

    def _answer_parts_at(self, width: int) -> list[Lines]:
        waiting = self._answer.backlog or self._finish_pending
        if waiting and len(self._blocks.get(width, ())) >= len(self._answer.frozen):
            self._split_step()  # only once drawing has caught up: one of the two per frame
        rendered = self._rendered_blocks(width)
        out = self._assembled(rendered, width)
        if self._answer.backlog or self._finish_pending:
            self.behind = True
        if self.behind:  # the rest comes in the next frames; nothing after it is shown yet
            left = len(self._answer.frozen) - len(rendered)
            note = (
                f"⋯ formatting, {left:,} more block{'s' if left != 1 else ''}…"
                if left
                else f"⋯ formatting, {len(self._answer.open_text):,} more characters…"
            )
            out.append(self._one_line.get(note, width, lambda: [Content.styled(note, MUTED)]))
            return out
        if self._streaming:
            open_parts = [part for part in self._open_answer(width) if part.content]
            if open_parts:
                if out:
                    out.append(self._blank(width))
                out.extend(open_parts)
        return out

    def _open_answer(self, width: int) -> list[Lines]:
        source = self._answer.open_text
        if not source.strip():
            return []
        if self._answer.open_fence is not None:
            return self._open_fence_parts(source, width)
        if (
            self._answer.open_raw
            or len(source) > OPEN_FORMAT_CHARS
            or source.count("\n") > OPEN_FORMAT_LINES
        ):
            return self._open_raw_parts(source, width)
        cached = self._open_cache
        block = render_open_block(source, width, cached[0] if cached is not None else None)
        if cached is not None and cached[0] is block:
            return [cached[1]]
        part = Lines(block.lines, width)
        self._open_cache = (block, part)
        return [part]

    def _open_raw_parts(self, source: str, width: int) -> list[Lines]:
        """A long open block (a big table or list) while it streams: plain text in cached
        chunks, like an open fence; it is formatted once complete (if not too large)."""
        # Whole lines are final; so is every full RAW_CHUNK of one endless line (counted from
        # where that line starts, so a chunk boundary never cuts an ordinary line in two).
        line_start = source.rfind("\n") + 1
        partial = len(source) - line_start
        complete_chars = line_start + partial - partial % RAW_CHUNK
        start = self._answer.open_start
        cached = self._raw_cache
        if cached is None or cached[:2] != (width, start) or cached[2] > complete_chars:
            chunks: list[Lines] = []
            pending: list[Content] = []
            done_chars = 0
        else:
            _, _, done_chars, chunks, pending = cached
            chunks = list(chunks)
            pending = list(pending)
        behind = self.render_budget is not None and complete_chars - done_chars > RAW_PER_FRAME
        if behind:  # megabytes at once: draw a slice per frame
            complete_chars = done_chars + RAW_PER_FRAME
        if complete_chars > done_chars:
            lines = render_raw(source[done_chars:complete_chars], width)
            pending = _chunk(lines, chunks, pending, width)
        self._raw_cache = (width, start, complete_chars, chunks, pending)
        if behind:
            self.behind = True
            left = len(source) - complete_chars
            note = f"⋯ drawing, {left:,} more characters…"
            return [*chunks, Lines([*pending, Content.styled(note, MUTED)], width)]
        tail = source[complete_chars:]
        last = render_raw(tail, width) if tail else []
        return [*chunks, Lines([*pending, *last], width)]

    def _open_fence_parts(self, source: str, width: int) -> list[Lines]:
        """An open fence: complete lines are rendered once, in fixed chunks; only the last
        line is redone. Chunks keep their identity, so a 2,000-line fence costs the same per
        token as a short one (no line is converted to screen strips twice).

        A long fence (:data:`PIECED_FROM` lines) is highlighted piece by piece as each piece
        completes (see :func:`~glmtui.ui.markdown_render.code_pieces`); the rest stays plain
        until the fence closes, when only its last piece is left to highlight.
        """
        opening, _, body = source.partition("\n")
        complete = body.rfind("\n") + 1  # body[:complete] holds whole lines
        start = self._answer.open_start
        fence = self._fence_cache
        if fence is None or (fence.width, fence.start) != (width, start) or fence.done > complete:
            language = fence_language(opening)
            label = [Lines([render_code_label(language, width)], width)] if language else []
            fence = self._fence_cache = _OpenFence(width, start, language, label)
        fence.lines += body.count("\n", fence.counted, complete)
        fence.counted = complete
        if fence.lines >= PIECED_FROM:
            while (end := next_piece_end(body, fence.plain_from, complete)) is not None:
                piece = code_piece_lines(body[fence.plain_from : end], fence.language, width)
                fence.pieces.append(Lines(list(piece), width))
                fence.plain_from = fence.done = end + 1
                fence.chunks, fence.pending = [], []
        if complete > fence.done:
            lines = render_code_text(body[fence.done : complete - 1], width)
            fence.pending = _chunk(lines, fence.chunks, fence.pending, width)
            fence.done = complete
        tail = body[complete:]
        last = render_code_text(tail, width) if tail else []
        return [*fence.pieces, *fence.chunks, Lines([*fence.pending, *last], width)]

    def _reasoning_parts_at(self, width: int) -> list[Lines]:
        if self._huge_reasoning:
            return self._huge_reasoning_parts(width)
        rendered = self._reasoning_blocks.get(width)
        if rendered is None:
            self._reasoning_blocks = {}
            rendered = self._reasoning_blocks[width] = []
        for source in self._reasoning.frozen[len(rendered) :]:
            after = any(part.content for part in rendered)
            rendered.append(Lines(_reasoning_lines(source, width, after=after), width))
        out = [part for part in rendered if part.content]
        source = self._reasoning.open_text
        if source.strip():
            cached = self._open_reasoning_cache
            if cached is not None and cached[0] == width and cached[1] == source:
                out.append(cached[2])
            else:
                part = Lines(_reasoning_lines(source, width, after=bool(out)), width)
                self._open_reasoning_cache = (width, source, part)
                out.append(part)
        return out

    def _huge_reasoning_parts(self, width: int) -> list[Lines]:
        """Finished reasoning too large for blocks: laid out a budget per frame (as the
        blocks would be drawn: behind the bar, one bar-only line between paragraphs)."""
        layout = self._lazy_reasoning
        if layout is None or layout.key != width:
            bar = Content.styled("│ ", REASONING_BAR)
            layout = self._lazy_reasoning = PlainLayout(
                self.reasoning_text, width, style=REASONING_TEXT, prefix=bar, collapse_blank=True
            )
        if not layout.complete:
            layout.advance(self.render_budget)
        if layout.complete:
            return list(layout.parts)
        self._reasoning_behind = True
        note = f"⋯ laying out, {layout.left:,} more characters…"
        return [
            *layout.parts,
            self._one_line.get(note, width, lambda: [Content.styled(note, MUTED)]),
        ]

    def _reasoning_words(self) -> str:
        """How much reasoning there is: words, or characters when counting words would hold
        the screen (see :data:`COUNT_WORDS_UP_TO`); counted again only when it grew."""
        size = sum(len(part) for part in self._reasoning_parts)
        if self._words_cache[0] != size:
            if size > COUNT_WORDS_UP_TO:
                self._words_cache = (size, f"{size:,} characters")
            else:
                self._words_cache = (size, _words(self.reasoning_text))
        return self._words_cache[1]

    def _reasoning_title(self) -> str:
        words = self._reasoning_words()
        if self._streaming and not self._answer_started:
            return f"Thinking… {words}"
        return f"Reasoning · {words}"

    def _spinner_text(self) -> str:
        elapsed = self.stats.elapsed if self.stats else 0.0
        label = "Reasoning" if self._reasoning_parts else "Thinking"
        return f"{SPINNER[self.frame % len(SPINNER)]} {label}… {elapsed:.1f} s"

    def _meta_text(self) -> str:
        parts = [self.model_label, _clock(self.message)]
        stats = self.stats
        usage = self.message.usage
        if stats is not None and stats.first_token_at is not None:
            approx = "~" if stats.estimated else ""
            parts.append(count(stats.completion_tokens, "token", approx=approx))
            speed = stats.tokens_per_second
            if speed is not None:
                parts.append(f"{approx}{speed:,.0f} tok/s")
        elif usage is not None and usage.completion_tokens:
            approx = "~" if usage.estimated else ""
            parts.append(count(usage.completion_tokens, "token", approx=approx))
        return " · ".join(parts)

    def _retry_available(self) -> bool:
        return not self._streaming and self.message.status in ("error", "interrupted")

    def _status_lines(self, width: int) -> list[Content]:
        message = self.message
        if self._streaming or message.status in (None, "streaming"):
            return []
        error = visible_controls(message.error or "")  # a server's words: shown, not obeyed
        if message.status == "error":
            text = Content.styled(f"⚠ {error or 'The request failed.'}", ERROR)
        elif message.status == "interrupted":
            reason = error or "Stopped before the model finished."
            text = Content.styled(f"⏹ Interrupted: {reason} The partial reply is kept.", WARNING)
        elif message.finish_reason == "tool_calls" and self.tools:
            return []  # the calls say it: they are drawn above
        elif message.finish_reason and message.finish_reason != "stop":
            plain = FINISH_REASONS.get(message.finish_reason, "")
            note = f"Stopped early: {message.finish_reason}" + (f" ({plain})" if plain else "")
            return Content.styled(note, WARNING).wrap(width)
        else:
            return []
        lines = text.wrap(width)
        lines.append(Content.styled(" ↻ Retry ", RETRY) + Content.styled("  r · Ctrl+R", MUTED))
        return lines


def _chunk(
    lines: list[Content], chunks: list[Lines], pending: list[Content], width: int
) -> list[Content]:
    """Add finished ``lines`` after ``pending``; every full FENCE_CHUNK of them becomes a part
    in ``chunks`` (kept for good: its identity tells the view it needs no repainting).
    Returns the lines left over, still pending."""
    pending = pending + lines
    while len(pending) >= FENCE_CHUNK:
        chunks.append(Lines(pending[:FENCE_CHUNK], width))
        pending = pending[FENCE_CHUNK:]
    return pending


def _reasoning_lines(source: str, width: int, *, after: bool) -> list[Content]:
    """One reasoning paragraph behind the bar; ``after`` another one: a bar-only line first
    (leading, not trailing, so the section does not end in an empty line of its own)."""
    bar = Content.styled("│ ", REASONING_BAR)
    text = source.strip("\n")
    if not text:
        return []
    lines = render_plain(text, width - 2, REASONING_TEXT)
    return [bar] * after + [bar + line for line in lines]
