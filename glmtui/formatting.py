"""Human-readable numbers, prices and model facts, shared by the CLI and the UI."""

from __future__ import annotations

from datetime import UTC, datetime

from glmtui.domain import ModelCard


def tokens(count: int | None) -> str:
    """``200000`` → ``"200,000"``; None → ``"unknown"``."""
    return "unknown" if count is None else f"{count:,}"


def per_million(per_token: float | None) -> str:
    """USD per token → ``"$1.00 / 1M"``; None → ``"unknown"``."""
    if per_token is None:
        return "unknown"
    value = per_token * 1_000_000
    return f"${value:,.2f} / 1M" if value >= 0.01 or value == 0 else f"${value:.4f} / 1M"


def cost(usd: float | None) -> str:
    """A running cost: ``$0.0123``; more digits for tiny amounts."""
    if usd is None:
        return ""
    if usd >= 1:
        return f"${usd:,.2f}"
    return f"${usd:.4f}"


def age(when: datetime, now: datetime | None = None) -> str:
    """``"3 min ago"``, ``"2 h ago"``, ``"5 days ago"``, for cache ages and session lists."""
    now = now or datetime.now(UTC)
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    if days < 60:
        return f"{days} day{'s' if days != 1 else ''} ago"
    return when.strftime("%Y-%m-%d")


def model_summary_rows(card: ModelCard) -> list[tuple[str, str]]:
    """The key facts of a model as (label, value) rows, in display order."""
    rows: list[tuple[str, str]] = [("Name", card.name), ("Id", card.id)]
    if card.developer or card.owned_by:
        rows.append(("Developer", card.developer or card.owned_by))
    if card.released_at:
        rows.append(("Released", card.released_at[:10]))
    if card.input_modalities or card.output_modalities:
        rows.append(
            (
                "Modalities",
                f"{', '.join(card.input_modalities) or '?'} → "
                f"{', '.join(card.output_modalities) or '?'}",
            )
        )
    rows.append(("Context length", tokens(card.context_length) + " tokens"))
    rows.append(
        (
            "Max output",
            tokens(card.max_output_tokens) + " tokens" if card.max_output_tokens else "not stated",
        )
    )
    rows.append(("Input price", per_million(card.pricing.input_per_token)))
    rows.append(("Output price", per_million(card.pricing.output_per_token)))
    shown = {label.lower() for label, _ in rows}
    for key, value in card.facts:
        if key.lower() not in shown:
            rows.append((key, value))
    return rows
