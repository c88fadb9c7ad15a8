"""What a conversation cost, said as precisely as the provider's prices allow.

A provider's bill prices cached prompt tokens at a cached-input rate (often a fifth or a tenth
of the input rate), and some models are billed by the second, not by the token. A running cost
that ignores either is a wrong number next to the bill, so :func:`cost_summary` says what kind
of number it gives: exact, estimated from local token counts, an upper bound (cached tokens
priced at the full input rate because no cached price is published), or none at all (the model
is billed by time). No I/O, no UI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from glmtui.domain import Message, Pricing, Usage


@dataclass(frozen=True, slots=True)
class CostSummary:
    """The cost of some replies, and how far it can be trusted."""

    usd: float | None = None
    """The total in USD; None when nothing could be priced."""
    estimated: bool = False
    """Part of it was priced from token counts estimated locally (the server sent no usage)."""
    upper_bound: bool = False
    """Cached prompt tokens were priced at the input rate (no cached price is published):
    the bill is this or less."""
    by_time: bool = False
    """The model is billed by time and the provider reported no cost for some replies: no
    token count gives their cost, so no total is given."""

    @property
    def prefix(self) -> str:
        """What goes before the amount: ``~`` for an estimate, ``≤`` for an upper bound."""
        return "~" if self.estimated else "≤" if self.upper_bound else ""


def reply_cost(usage: Usage, pricing: Pricing) -> CostSummary:
    """The cost of one reply: the provider's ``usage.cost`` when it reports one, else its
    tokens at the model's prices (see :meth:`Pricing.cost`)."""
    if usage.cost is not None:
        return CostSummary(usage.cost)
    if pricing.by_time:
        return CostSummary(by_time=True)
    usd = pricing.cost(usage)
    if usd is None:
        return CostSummary()
    return CostSummary(usd, estimated=usage.estimated, upper_bound=pricing.upper_bound(usage))


def cost_summary(messages: Iterable[Message], pricing: Pricing) -> CostSummary:
    """The cost of every reply in ``messages`` that has usage (see :func:`reply_cost`).

    A model billed by time gives no total unless the provider reported the cost of every
    reply: part of a bill is not the bill.
    """
    total = 0.0
    priced = estimated = bound = by_time = False
    for message in messages:
        if message.usage is None:
            continue
        cost = reply_cost(message.usage, pricing)
        by_time = by_time or cost.by_time
        if cost.usd is None:
            continue
        total += cost.usd
        priced = True
        estimated = estimated or cost.estimated
        bound = bound or cost.upper_bound
    if by_time:
        return CostSummary(by_time=True)
    return CostSummary(total if priced else None, estimated, bound)
