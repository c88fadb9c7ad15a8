"""Human-readable numbers, prices and model facts, shared by the CLI and the UI.

Numbers that are not facts say so where they are shown: an estimate carries ``~`` (token
counts and speeds counted locally because the server sent no usage), and a context length
that glmtui assumed, rather than read from the server or the config, carries ``~`` and
"(assumed)"."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from glmtui.domain import ModelCard


def tokens(count: int | None) -> str:
    """``200000`` → ``"200,000"``; None → ``"unknown"``."""
    return "unknown" if count is None else f"{count:,}"


def context_text(card: ModelCard) -> str:
    """A card's context length for a fact row, saying where it came from when the server
    did not say it: ``"200,000 tokens"``, ``"~200,000 tokens (assumed)"`` (glmtui's built-in
    knowledge), ``"32,768 tokens (set in config)"`` (the provider's ``context_length``
    setting), or ``"unknown"``."""
    if card.context_length is None:
        return "unknown"
    if card.context_source == "assumed":
        return f"~{card.context_length:,} tokens (assumed)"
    if card.context_source == "config":
        return f"{card.context_length:,} tokens (set in config)"
    return f"{card.context_length:,} tokens"


def context_cell(card: ModelCard) -> str:
    """The same for a table column (``glmtui models``, the catalogue): ``"200,000"``,
    ``"~200,000 (assumed)"``, ``"32,768 (config)"`` or ``"unknown"``."""
    if card.context_length is None:
        return "unknown"
    if card.context_source == "assumed":
        return f"~{card.context_length:,} (assumed)"
    if card.context_source == "config":
        return f"{card.context_length:,} (config)"
    return f"{card.context_length:,}"


def token_count(number: int, *, estimated: bool = False, noun: str = "token") -> str:
    """``"1,204 tokens"``, or ``"~1,204 tokens"`` when the count is a local estimate."""
    return count(number, noun, approx="~" if estimated else "")


def speed(tokens_per_second: float | None, *, estimated: bool = False) -> str:
    """``"42 tok/s"``, ``"~42 tok/s"`` when counted from the stream's deltas rather than the
    server's usage, ``""`` when there is no speed yet."""
    if tokens_per_second is None:
        return ""
    return f"{'~' if estimated else ''}{tokens_per_second:,.0f} tok/s"


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


def parameter_count(count: int | None, text: str = "") -> str:
    """``744_000_000_000`` → ``"744 billion"``; unparsed provider text as given; else "unknown"."""
    if count is None:
        return text or "unknown"
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if count >= size:
            value = count / size
            number = f"{value:.0f}" if value >= 100 or value.is_integer() else f"{value:.3g}"
            return f"{number} {word}"
    return f"{count:,}"


def yes_no(value: bool | None) -> str:
    """True → "yes", False → "no", None → "not stated"."""
    return "not stated" if value is None else "yes" if value else "no"


def model_fact_rows(card: ModelCard) -> list[tuple[str, str]]:
    """What the info screen and ``glmtui models show`` list about a model, in display order:
    who made it, what it takes and gives, its limits and prices (USD per 1M tokens), its size
    and format, then any other rows of the description's table.

    The name and id are left to the caller's title line. For a model that does not chat (an
    image model), token limits and token prices are listed only when known, and other prices
    (``cost_per_image`` …) are shown as the provider names them.
    """
    from glmtui.api.models import is_chat_model, is_spec_fact, model_specs

    specs = model_specs(card)
    chat = is_chat_model(card)
    rows: list[tuple[str, str]] = []
    if card.developer or card.owned_by:
        rows.append(("Developer", card.developer or card.owned_by))
    if card.released_at:
        rows.append(("Released", card.released_at[:10]))
    rows.append(("Input", ", ".join(card.input_modalities) or "not stated"))
    rows.append(("Output", ", ".join(card.output_modalities) or "not stated"))
    if chat or card.context_length:
        rows.append(("Context length", context_text(card)))
    if chat or card.max_output_tokens:
        limit = card.max_output_tokens
        rows.append(("Max output", f"{tokens(limit)} tokens" if limit else "not stated"))
    pricing = card.pricing
    if pricing.by_time:
        rows.append(("Billing", billing_text(card)))
    per_token = chat and not pricing.by_time
    if per_token or pricing.input_per_token is not None:
        rows.append(("Input price", _price_text(pricing.input_per_token, card.builtin)))
    if pricing.cached_input_per_token is not None:
        rows.append(("Cached input price", _price_text(pricing.cached_input_per_token)))
    if per_token or pricing.output_per_token is not None:
        rows.append(("Output price", _price_text(pricing.output_per_token, card.builtin)))
    rows.extend(_other_prices(card))
    if specs.parameters is not None or specs.parameters_text:
        rows.append(("Parameters", parameter_count(specs.parameters, specs.parameters_text)))
    if specs.mixture_of_experts is not None:
        rows.append(("Mixture of Experts", yes_no(specs.mixture_of_experts)))
    if specs.active_parameters is not None or specs.active_parameters_text:
        active = parameter_count(specs.active_parameters, specs.active_parameters_text)
        rows.append(("Active parameters", active))
    if specs.precision:
        rows.append(("Precision", specs.precision))
    if specs.multilingual is not None:
        rows.append(("Multilingual", yes_no(specs.multilingual)))
    rows.extend((key, value) for key, value in card.facts if not is_spec_fact(key))
    return rows


def billing_text(card: ModelCard) -> str:
    """How a model not billed by the token is billed, for its details: ``by time ($0.0012 per
    second); token counts do not give its cost``."""
    pricing = card.pricing
    if pricing.by_time:
        rate = f" (${pricing.per_second:g} per second)" if pricing.per_second is not None else ""
        return f"by time{rate}; token counts do not give its cost"
    return f"by {pricing.method.replace('_', ' ')}"


def _other_prices(card: ModelCard) -> list[tuple[str, str]]:
    """Prices that are not per token (``cost_per_image: 0.025`` → ``$0.025 per image``)."""
    from glmtui.api.models import CACHED_PRICE_FIELDS

    pricing = card.raw.get("pricing")
    if not isinstance(pricing, dict):
        return []
    shown = {"input_cost_per_token", "output_cost_per_token", *CACHED_PRICE_FIELDS}
    if card.pricing.by_time:
        shown.add("cost_per_second")  # in the Billing row
    rows = []
    for key, value in pricing.items():
        if key in shown or "cost" not in key:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        unit = key.replace("cost_per_", "per ").replace("_cost", "").replace("_", " ").strip()
        rows.append(("Price", f"${value:g} {unit}"))
    return rows


def _price_text(per_token: float | None, builtin: bool = False) -> str:
    """``$1.00 / 1M tokens``; with no price, "not published" (the provider gives none) or,
    for the built-in card, which ships without prices, "unknown (built-in card)"."""
    if per_token is None:
        return "unknown (built-in card)" if builtin else "not published"
    return f"{per_million(per_token)} tokens"


def count(number: int, noun: str, *, approx: str = "") -> str:
    """``1 token``, ``1,204 tokens``: a count with its noun in the right number."""
    return f"{approx}{number:,} {noun}{'' if number == 1 else 's'}"


_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Characters a terminal obeys instead of showing: C0/C1 controls (escape sequences, carriage
return) and the bidirectional overrides that reorder what is shown. Newline and tab are kept."""


def visible(text: str, *, for_json: bool = False) -> str:
    """Text from a server made safe to show: each control or bidi override becomes a visible
    escape (``\\x1b``, ``\\u202e``), so nothing a provider sends can move the cursor, clear
    the screen or disguise itself. ``for_json`` uses ``\\u001b`` forms, which keep JSON valid.
    """

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\u{code:04x}" if for_json or code > 0xFF else f"\\x{code:02x}"

    return _UNSAFE.sub(escape, text)
