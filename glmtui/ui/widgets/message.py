"""Message widgets: the user's prompts and the model's replies in the conversation pane.

A reply shows GLM's reasoning in its own collapsible section above the answer (open while the
model thinks, folded once the answer starts), the answer as Markdown, and a status line that
says why a reply stopped early. Text from the user or the model is never parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message as TextualMessage
from textual.timer import Timer
from textual.widgets import Button, Collapsible, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from glmtui.domain import Message
from glmtui.markdown_blocks import code_blocks
from glmtui.turn import TurnStats

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
TICK = 0.1
"""Seconds between refreshes of the spinner, the reasoning text and the live title."""

FINISH_REASONS = {
    "length": "the max_tokens limit was reached",
    "content_filter": "the provider's content filter stopped it",
    "sensitive": "the provider flagged it as sensitive",
    "network_error": "the provider reported a network error",
    "abort": "the provider aborted it",
    "tool_calls": "the model asked to call a tool",
}
"""Plain words for finish reasons other than ``stop``; unknown ones are shown verbatim."""


def _clock(message: Message) -> str:
    return message.created_at.astimezone().strftime("%H:%M")


def _words(text: str) -> str:
    count = len(text.split())
    return f"{count:,} word{'s' if count != 1 else ''}"


class MessageView(Vertical):
    """Base for one message in the conversation: focusable, with per-message actions.

    | Key | Action |
    |---|---|
    | c | Copy the message |
    | b | Copy a code block (pick one when there are several) |
    | d, Delete | Delete the message |
    | Up / Down, k / j | Previous / next message |
    | Esc | Back to the composer |
    """

    can_focus = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy", id="message.copy"),
        Binding("b", "copy_code", "Copy code", id="message.copy_code"),
        Binding("d,delete", "request('delete')", "Delete", id="message.delete"),
        Binding("up,k", "focus_sibling(-1)", "Previous", show=False, id="message.previous"),
        Binding("down,j", "focus_sibling(1)", "Next", show=False, id="message.next"),
    ]

    @dataclass
    class ActionRequested(TextualMessage):
        """The user asked for an action on this message that changes the conversation."""

        view: MessageView
        action: str
        """``delete``, ``edit``, ``regenerate``, ``copy_code``."""

        @property
        def control(self) -> MessageView:
            return self.view

    def __init__(self, message: Message, *, classes: str = "") -> None:
        super().__init__(classes=f"message {classes}".strip())
        self.message = message

    def action_copy(self) -> None:
        """Copy the message text (OSC 52, so it works over SSH)."""
        self.app.copy_to_clipboard(self.message.content)
        self.notify("Message copied to the clipboard.", timeout=2)

    def action_copy_code(self) -> None:
        """Copy the code block, or ask the screen to offer a choice when there are several."""
        blocks = code_blocks(self.message.content)
        if not blocks:
            self.notify("This message has no code block.", severity="warning", timeout=3)
        elif len(blocks) == 1:
            self.app.copy_to_clipboard(blocks[0].code)
            self.notify("Code block copied to the clipboard.", timeout=2)
        else:
            self.post_message(self.ActionRequested(self, "copy_code"))

    def action_request(self, action: str) -> None:
        """Forward a conversation-changing action to the screen."""
        self.post_message(self.ActionRequested(self, action))

    def action_focus_sibling(self, step: int) -> None:
        """Move focus to the previous or next message."""
        views = list(self.parent.query_children(MessageView)) if self.parent else []
        index = views.index(self) + step if self in views else -1
        if 0 <= index < len(views):
            views[index].focus()
            views[index].scroll_visible(animate=False)


class UserMessage(MessageView):
    """A prompt the user sent. Shown exactly as typed.

    | Key | Action |
    |---|---|
    | e | Edit the prompt and resend from here |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "request('edit')", "Edit & resend", id="message.edit"),
    ]

    def __init__(self, message: Message) -> None:
        super().__init__(message, classes="user")

    def compose(self) -> ComposeResult:
        yield Static(f"You · {_clock(self.message)}", classes="meta", markup=False)
        yield Static(Text(self.message.content), classes="body")


class AssistantMessage(MessageView):
    """A reply from the model: reasoning (collapsible), the Markdown answer and its status.

    | Key | Action |
    |---|---|
    | r | Regenerate this reply |
    | t | Show or hide the reasoning |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "request('regenerate')", "Regenerate", id="message.regenerate"),
        Binding("t", "toggle_reasoning", "Reasoning", id="message.toggle_reasoning"),
    ]

    @dataclass
    class RetryPressed(TextualMessage):
        """The Retry button under a failed reply was pressed."""

        view: AssistantMessage

        @property
        def control(self) -> AssistantMessage:
            return self.view

    def __init__(
        self,
        message: Message,
        *,
        show_reasoning: bool = True,
        streaming: bool = False,
        model_label: str = "",
    ) -> None:
        super().__init__(message, classes="assistant")
        self.show_reasoning = show_reasoning
        self.streaming = streaming
        self.model_label = model_label or message.model or "Assistant"
        self.stats: TurnStats | None = None
        self._reasoning_parts: list[str] = [message.reasoning] if message.reasoning else []
        self._content_parts: list[str] = [message.content] if message.content else []
        self._reasoning_dirty = False
        self._answer_started = bool(message.content)
        self._stream: MarkdownStream | None = None
        self._ticker: Timer | None = None
        self._frame = 0
        self._retry_note = ""

    # --- composition -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._meta_text(), classes="meta", markup=False)
        reasoning = "".join(self._reasoning_parts)
        with Collapsible(
            title=self._reasoning_title(),
            collapsed=not self.streaming or self._answer_started,
            classes="reasoning",
        ) as collapsible:
            collapsible.display = bool(reasoning) and self.show_reasoning
            yield Static(Text(reasoning), classes="reasoning-text")
        spinner = Static(classes="spinner")
        spinner.display = self.streaming
        yield spinner
        yield Markdown(self.message.content if not self.streaming else "", classes="answer")
        with Horizontal(classes="status-row"):
            yield Static(classes="status", markup=False)
            yield Button("Retry", variant="warning", compact=True, classes="retry")

    def on_mount(self) -> None:
        self._update_status()
        if self.streaming:
            self._tick()
            self._ticker = self.set_interval(TICK, self._tick, name="message-tick")

    # --- streaming -------------------------------------------------------------------------

    def start(self, stats: TurnStats) -> None:
        """A request for this reply has been sent."""
        self.stats = stats

    def append_reasoning(self, text: str) -> None:
        """More of the model's reasoning (shown at the next tick)."""
        self._reasoning_parts.append(text)
        self._reasoning_dirty = True
        self._retry_note = ""

    async def append_content(self, text: str) -> None:
        """More of the answer, streamed into the Markdown view."""
        self._content_parts.append(text)
        self._retry_note = ""
        if not self._answer_started:
            self._answer_started = True
            self._flush_reasoning()
            self.query_one(".reasoning", Collapsible).collapsed = True
            self.query_one(".spinner", Static).display = False
        if self._stream is None:
            self._stream = Markdown.get_stream(self.query_one(".answer", Markdown))
        await self._stream.write(text)

    def show_retrying(self, reason: str, delay: float) -> None:
        """A retry is pending (rate limit, server error …); say so instead of looking stuck."""
        self._retry_note = f"{reason} Retrying in {delay:.0f} s…"
        self._tick()

    async def finish(self) -> None:
        """The reply ended: stop streaming and render the final text once, completely."""
        self.streaming = False
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self._flush_reasoning()
        content = "".join(self._content_parts)
        await self.query_one(".answer", Markdown).update(content)
        self.query_one(".spinner", Static).display = False
        self.query_one(".reasoning", Collapsible).collapsed = bool(content)
        self._update_status()

    @property
    def reasoning_text(self) -> str:
        """All reasoning received so far."""
        return "".join(self._reasoning_parts)

    @property
    def content_text(self) -> str:
        """All answer text received so far."""
        return "".join(self._content_parts)

    # --- refresh ---------------------------------------------------------------------------

    def _tick(self) -> None:
        if self._reasoning_dirty:
            self._flush_reasoning()
        spinner = self.query_one(".spinner", Static)
        if self._answer_started or not self.streaming:
            spinner.display = False
        else:
            self._frame = (self._frame + 1) % len(SPINNER)
            elapsed = self.stats.elapsed if self.stats else 0.0
            label = "Thinking" if not self._reasoning_parts else "Reasoning"
            note = f"  {self._retry_note}" if self._retry_note else ""
            spinner.update(Text(f"{SPINNER[self._frame]} {label}… {elapsed:.1f} s{note}"))
        self.query_one(".meta", Static).update(self._meta_text())

    def _flush_reasoning(self) -> None:
        self._reasoning_dirty = False
        reasoning = self.reasoning_text
        collapsible = self.query_one(".reasoning", Collapsible)
        collapsible.display = bool(reasoning) and self.show_reasoning
        collapsible.title = self._reasoning_title()
        if reasoning:
            self.query_one(".reasoning-text", Static).update(Text(reasoning))

    def _reasoning_title(self) -> str:
        reasoning = self.reasoning_text
        if self.streaming and not self._answer_started:
            return f"Thinking… {_words(reasoning)}"
        return f"Reasoning · {_words(reasoning)}"

    def _meta_text(self) -> str:
        parts = [self.model_label, _clock(self.message)]
        stats = self.stats
        usage = self.message.usage
        if stats is not None and stats.first_token_at is not None:
            tokens = stats.completion_tokens
            approx = "~" if stats.estimated else ""
            parts.append(f"{approx}{tokens:,} tokens")
            speed = stats.tokens_per_second
            if speed is not None:
                parts.append(f"{speed:,.0f} tok/s")
        elif usage is not None and usage.completion_tokens:
            approx = "~" if usage.estimated else ""
            parts.append(f"{approx}{usage.completion_tokens:,} tokens")
        return " · ".join(parts)

    def _update_status(self) -> None:
        message = self.message
        status = self.query_one(".status", Static)
        retry = self.query_one(".retry", Button)
        row = self.query_one(".status-row", Horizontal)
        text = ""
        row.remove_class("error", "interrupted", "note")
        if self.streaming or message.status in (None, "streaming"):
            text = ""
        elif message.status == "error":
            text = f"⚠ {message.error or 'The request failed.'}"
            row.add_class("error")
        elif message.status == "interrupted":
            reason = message.error or "Stopped before the model finished."
            text = f"⏹ Interrupted: {reason} The partial reply is kept."
            row.add_class("interrupted")
        elif message.finish_reason and message.finish_reason != "stop":
            plain = FINISH_REASONS.get(message.finish_reason, "")
            text = f"Stopped early: {message.finish_reason}" + (f" ({plain})" if plain else "")
            row.add_class("note")
        status.update(text)
        row.display = bool(text)
        retry.display = message.status in ("error", "interrupted")

    # --- actions ---------------------------------------------------------------------------

    def action_toggle_reasoning(self) -> None:
        """Fold or unfold this reply's reasoning."""
        collapsible = self.query_one(".reasoning", Collapsible)
        if not self.reasoning_text:
            self.notify("This reply has no reasoning.", timeout=2)
            return
        if not collapsible.display:
            collapsible.display = True
            collapsible.collapsed = False
        else:
            collapsible.collapsed = not collapsible.collapsed

    def set_show_reasoning(self, show: bool) -> None:
        """Apply the global show/hide reasoning setting."""
        self.show_reasoning = show
        self.query_one(".reasoning", Collapsible).display = show and bool(self.reasoning_text)

    @on(Button.Pressed, ".retry")
    def _retry_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.RetryPressed(self))
