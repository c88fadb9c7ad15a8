"""What the chat's status bar shows: live numbers while a reply streams, else the last
reply's; the context in use against the model's window; the conversation's cost.

Canned demo replies cost nothing, so no cost is shown for them; a cost worked out from
estimated token counts, and a context window glmtui assumes, are marked as such. Cached prompt
tokens are shown and priced at the cached-input rate (at the input rate when none is
published, and the cost is marked as an upper bound); a model billed by time says so instead of
a cost (see :mod:`glmtui.domain.costs`).

While there is a draft (or an attachment), the bar also shows the size of the request Enter
would send (:class:`RequestEstimate`), and warns when it would not fit the model's window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from glmtui.domain import Message, ModelCard, Session
from glmtui.domain.costs import CostSummary, cost_summary
from glmtui.domain.stats import (
    TurnStats,
    context_use,
    estimate_attachment_tokens,
    estimate_tokens,
)
from glmtui.ui.widgets.status import StatusInfo

if TYPE_CHECKING:
    from glmtui.domain.attachments import Attachment

MESSAGE_OVERHEAD = 4
"""Tokens of role and formatting around each message (as the context gauge counts them)."""


def status_info(
    session: Session,
    *,
    stats: TurnStats | None,
    card: ModelCard | None,
    window: tuple[int | None, bool],
    model_label: str,
    demo: bool,
    unsaved: bool,
) -> StatusInfo:
    """The status bar's content.

    Args:
        session: The open conversation.
        stats: The streaming reply's live numbers (None when nothing streams).
        card: The session model's card, if known (its prices).
        window: The model's context length (None: unknown) and whether it is assumed.
        model_label: The model's name as shown.
        demo: Replies come from the offline demo.
        unsaved: The last save failed (the conversation is only in memory).
    """
    messages = session.messages
    cost = CostSummary()
    if card is not None and not demo:
        cost = cost_summary(messages, card.pricing)
    limit, assumed = window
    info = StatusInfo(
        model=model_label,
        demo=demo,
        cost=cost.usd,
        cost_estimated=cost.estimated,
        cost_bound=cost.upper_bound,
        billing="billed by time" if cost.by_time else "",
        context_assumed=assumed,
        note="⚠ not saved" if unsaved else "",
    )
    pending = 0
    if stats is not None:
        pending = stats.completion_tokens if stats.first_token_at is not None else 0
        info = replace(
            info,
            streaming=True,
            time_to_first_token=stats.time_to_first_token,
            tokens_per_second=stats.tokens_per_second,
            prompt_tokens=stats.usage.prompt_tokens if stats.usage else stats.prompt_estimate,
            cached_tokens=stats.usage.cached_tokens if stats.usage else None,
            completion_tokens=stats.completion_tokens,
            estimated=stats.estimated,
        )
    else:
        last = next((m for m in reversed(messages) if m.usage is not None), None)
        if last is not None and last.usage is not None:
            info = replace(
                info,
                prompt_tokens=last.usage.prompt_tokens,
                completion_tokens=last.usage.completion_tokens,
                reasoning_tokens=last.usage.reasoning_tokens,
                cached_tokens=last.usage.cached_tokens,
                estimated=last.usage.estimated,
            )
    settled = [m for m in messages if m.status != "streaming"]
    return replace(info, context=context_use(settled, session.system_prompt, limit, pending))


class RequestEstimate:
    """The size of the request Enter would send, cheap enough to work out at every keystroke.

    The conversation's part changes only on the controller's events, so it is worked out then
    (:meth:`history`), from per-message estimates cached by message: a 1,000-message history
    costs a thousand look-ups, and a message's text (or its attachments, whose fenced form
    takes a scan of the text) is estimated once. A keystroke adds only the draft and the
    attachments' estimates, which were worked out when they were attached (:meth:`request`).

    The history is counted as the context gauge counts it: the last reply whose usage the
    server reported (prompt plus reply) plus estimates of what came after it, else estimates
    of everything (the system prompt included). A reported usage from before a compaction
    counts messages the request no longer carries, so only a usage after the last summary
    is relied on; compacted messages are not counted.
    """

    def __init__(
        self, attachment_tokens: Callable[[Attachment], int] = estimate_attachment_tokens
    ) -> None:
        self._attachment_tokens = attachment_tokens
        self._cache: dict[int, tuple[Message, tuple[int, int, bool], int]] = {}
        self.tokens = 0
        """The conversation's part, as last worked out by :meth:`history`."""

    def _message(self, message: Message) -> int:
        signature = (len(message.content), len(message.attachments), message.compacted)
        cached = self._cache.get(id(message))
        if cached is not None and cached[0] is message and cached[1] == signature:
            return cached[2]
        tokens = estimate_tokens(message.content) + MESSAGE_OVERHEAD
        tokens += sum(self._attachment_tokens(a) for a in message.attachments)
        self._cache[id(message)] = (message, signature, tokens)
        return tokens

    def history(self, session: Session) -> int:
        """Work out the conversation's part again (after an event changed it)."""
        messages = [m for m in session.messages if m.status != "streaming"]
        summary = max((i for i, m in enumerate(messages) if m.summary_of), default=-1)
        anchor = -1
        for index in range(len(messages) - 1, summary, -1):
            usage = messages[index].usage
            if usage is not None and not usage.estimated and usage.total_tokens:
                anchor = index
                break
        if anchor >= 0:
            usage = messages[anchor].usage
            total = usage.total_tokens if usage is not None else 0
        else:
            system = session.system_prompt
            total = estimate_tokens(system) + MESSAGE_OVERHEAD if system.strip() else 0
        for message in messages[anchor + 1 :]:
            if not message.compacted:
                total += self._message(message)
        if len(self._cache) > 2 * len(messages) + 64:  # forget removed messages
            kept = {id(m) for m in messages}
            self._cache = {key: value for key, value in self._cache.items() if key in kept}
        self.tokens = total
        return total

    def request(self, draft: str, attachment_tokens: Sequence[int] | int = 0) -> int:
        """The next request: the conversation (as last worked out), plus the draft and the
        attachments (their tokens, worked out when attached) as one more message."""
        extra = attachment_tokens if isinstance(attachment_tokens, int) else sum(attachment_tokens)
        return self.tokens + estimate_tokens(draft) + MESSAGE_OVERHEAD + extra


def request_limit(window: int | None, max_tokens: int | None) -> int | None:
    """The most a request may hold: the context window less the room kept for the reply
    (``max_tokens``, when set; else the whole window). None when the window is unknown."""
    if not window:
        return None
    return max(0, window - (max_tokens or 0))
