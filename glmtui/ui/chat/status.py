"""What the chat's status bar shows: live numbers while a reply streams, else the last
reply's; the context in use against the model's window; the conversation's cost.

Canned demo replies cost nothing, so no cost is shown for them; a cost worked out from
estimated token counts, and a context window glmtui assumes, are marked as such.
"""

from __future__ import annotations

from dataclasses import replace

from glmtui.domain import ModelCard, Session
from glmtui.domain.stats import TurnStats, context_use, conversation_cost
from glmtui.ui.widgets.status import StatusInfo


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
    cost = None
    if card is not None and not demo:
        cost = conversation_cost(messages, card.pricing)
    guessed = any(
        m.usage is not None and m.usage.estimated and m.usage.cost is None for m in messages
    )
    limit, assumed = window
    info = StatusInfo(
        model=model_label,
        demo=demo,
        cost=cost,
        cost_estimated=cost is not None and guessed,
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
                estimated=last.usage.estimated,
            )
    settled = [m for m in messages if m.status != "streaming"]
    return replace(info, context=context_use(settled, session.system_prompt, limit, pending))
