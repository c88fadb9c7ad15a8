"""Live statistics of one reply: time to first token, speed, token counts, context use and cost.

Pure bookkeeping (no UI, no I/O) fed by the stream's events, so the status bar, the CLI and the
tests agree on the numbers. When the server sends no usage, a reply's tokens are counted from
the stream's deltas (these servers send about one token per delta, which is far closer than
guessing from the text's length) and marked as estimates (``estimated``); whatever shows them
puts a ``~`` before them, and before a speed computed from them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from glmtui.domain import Message, Pricing, Usage
from glmtui.domain.attachments import Attachment

CHARS_PER_TOKEN = 4.0
"""Rough characters per token for estimates of text that did not stream (a prompt, a
conversation): English prose and code average 3.5–4.5."""


def estimate_tokens(text: str) -> int:
    """A rough token count for ``text`` (never zero for non-empty text)."""
    return 0 if not text else max(1, round(len(text) / CHARS_PER_TOKEN))


IMAGE_TOKENS = 1_500
"""A rough prompt cost of one image. Vision models tile an image into patches: Qwen-VL about
1,300 tokens for 1024×1024, OpenAI's high detail 765–1,105, Claude about 1,600 for 1.15
megapixels. Good enough for "will it fit"; the reply's usage says what it really cost."""

PDF_BYTES_PER_TOKEN = 64
"""A rough prompt cost of a PDF: one token per 64 bytes of file, at least
:data:`PDF_MIN_TOKENS` (text PDFs compress about 3:1, and providers send each page's text and
often its image too; a 100 KB paper comes to ~1,600 tokens, a 2 MB scanned one to ~33,000)."""

PDF_MIN_TOKENS = 500
"""The least a PDF is estimated at (one page)."""


def estimate_attachment_tokens(attachment: Attachment) -> int:
    """A rough prompt cost of an attachment, for the estimate before sending.

    Text: its inlined form (path and fence included) by the usual text estimate; an image:
    :data:`IMAGE_TOKENS`; a PDF: by its size (:data:`PDF_BYTES_PER_TOKEN`).
    """
    if attachment.kind == "text":
        return estimate_tokens(attachment.fenced())
    if attachment.kind == "image":
        return IMAGE_TOKENS
    return max(PDF_MIN_TOKENS, attachment.size // PDF_BYTES_PER_TOKEN)


def estimate_conversation_tokens(messages: list[Message], system_prompt: str = "") -> int:
    """Rough prompt size of a conversation as it is sent: compacted messages are not (their
    summary is), reasoning is not resent, text attachments are inlined, and each image or
    PDF counts a rough constant or by size."""
    overhead = 4  # per-message role/formatting tokens
    total = estimate_tokens(system_prompt) + (overhead if system_prompt else 0)
    for message in messages:
        if message.compacted:
            continue
        total += estimate_tokens(message.content) + overhead
        total += sum(estimate_attachment_tokens(a) for a in message.attachments)
    return total


@dataclass(slots=True)
class TurnStats:
    """Timing and token accounting for one streamed reply."""

    clock: Callable[[], float] = time.monotonic
    started_at: float = 0.0
    first_token_at: float | None = None
    finished_at: float | None = None
    chunks: int = 0
    """Text deltas received (answer and reasoning); most servers send one token per delta."""
    content_chunks: int = 0
    """Answer-text deltas received."""
    reasoning_chunks: int = 0
    """Reasoning deltas received."""
    content_chars: int = 0
    reasoning_chars: int = 0
    usage: Usage | None = None
    prompt_estimate: int = 0
    """Estimated prompt tokens, used until (or unless) the server reports usage."""

    def start(self, prompt_estimate: int = 0) -> None:
        """The request is being sent now."""
        self.started_at = self.clock()
        self.prompt_estimate = prompt_estimate

    def add(self, text: str, *, reasoning: bool = False) -> None:
        """A text delta arrived."""
        if self.first_token_at is None:
            self.first_token_at = self.clock()
        self.chunks += 1
        if reasoning:
            self.reasoning_chunks += 1
            self.reasoning_chars += len(text)
        else:
            self.content_chunks += 1
            self.content_chars += len(text)

    def finish(self) -> None:
        """The reply ended (for any reason)."""
        if self.finished_at is None:
            self.finished_at = self.clock()

    @property
    def time_to_first_token(self) -> float | None:
        """Seconds from sending to the first text, once it arrived."""
        if self.first_token_at is None:
            return None
        return self.first_token_at - self.started_at

    @property
    def elapsed(self) -> float:
        """Seconds since the request was sent (until it finished)."""
        end = self.finished_at if self.finished_at is not None else self.clock()
        return max(0.0, end - self.started_at)

    @property
    def _reported(self) -> bool:
        """Whether the server's usage gives the completion tokens."""
        return self.usage is not None and self.usage.completion_tokens > 0

    @property
    def completion_tokens(self) -> int:
        """Completion tokens: reported, else the deltas received (an estimate, see
        :attr:`estimated`)."""
        if self.usage is not None and self._reported:
            return self.usage.completion_tokens
        return self.chunks

    @property
    def tokens_per_second(self) -> float | None:
        """Generation speed after the first token, once there is enough to measure."""
        if self.first_token_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else self.clock()
        span = end - self.first_token_at
        if span < 0.05:
            return None
        return max(0, self.completion_tokens - 1) / span

    @property
    def estimated(self) -> bool:
        """True while the counts (and the speed made from them) are local estimates rather
        than the server's usage: show them with a ``~``."""
        return not self._reported and (self.usage is None or self.chunks > 0)

    def final_usage(self) -> Usage:
        """The usage to store with the message: reported, else estimated and marked so."""
        if self.usage is not None:
            return self.usage
        completion = self.completion_tokens
        reasoning = self.reasoning_chunks or None
        return Usage(
            prompt_tokens=self.prompt_estimate,
            completion_tokens=completion,
            total_tokens=self.prompt_estimate + completion,
            reasoning_tokens=reasoning,
            estimated=True,
        )


@dataclass(frozen=True, slots=True)
class ContextUse:
    """How full the model's context window is."""

    used: int
    limit: int | None
    estimated: bool
    """``used`` is (partly) an estimate: show it with a ``~``."""
    limit_assumed: bool = False
    """``limit`` is glmtui's assumption for the model id, not something the server or the
    config said: show it as "~200,000 (assumed)". It still warns at 80 %, as a known limit
    does; what shows the warning says that the limit is assumed."""

    @property
    def fraction(self) -> float | None:
        """Used / limit, or None when the limit is unknown."""
        if not self.limit:
            return None
        return min(1.0, self.used / self.limit)

    @property
    def warning(self) -> bool:
        """True at 80 % and above: time to start a new chat or trim. An assumed limit warns
        as a known one does; what shows the gauge says that the limit is assumed."""
        return self.fraction is not None and self.fraction >= 0.8


def context_use(
    messages: list[Message],
    system_prompt: str,
    limit: int | None,
    pending: int = 0,
    *,
    limit_assumed: bool = False,
) -> ContextUse:
    """Context used by a conversation: the last reported usage plus what came after it.

    Args:
        messages: The conversation.
        system_prompt: The system prompt sent with it.
        limit: The model's context length, if known.
        pending: Tokens of a reply still streaming.
        limit_assumed: ``limit`` is an assumption (``ModelCard.context_assumed``).
    """
    assumed = limit_assumed and limit is not None
    for index in range(len(messages) - 1, -1, -1):
        usage = messages[index].usage
        if usage is not None and not usage.estimated and usage.total_tokens:
            later = messages[index + 1 :]
            used = usage.total_tokens + estimate_conversation_tokens(later)
            return ContextUse(
                used + pending, limit, estimated=bool(later) or pending > 0, limit_assumed=assumed
            )
    used = estimate_conversation_tokens(messages, system_prompt)
    return ContextUse(used + pending, limit, estimated=True, limit_assumed=assumed)


def conversation_cost(messages: list[Message], pricing: Pricing) -> float | None:
    """Total cost of the replies in a conversation, when it can be known.

    A provider-reported ``usage.cost`` wins; otherwise tokens times the model's prices.
    Returns None when nothing can be priced.
    """
    total = 0.0
    priced = False
    for message in messages:
        usage = message.usage
        if usage is None:
            continue
        if usage.cost is not None:
            total += usage.cost
            priced = True
            continue
        cost = pricing.cost(usage)
        if cost is not None:
            total += cost
            priced = True
    return total if priced else None
