"""``glmtui models`` and ``glmtui models show ID``: the provider's catalogue and one card."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TYPE_CHECKING

from glmtui.cli.common import EXIT_API_ERROR, EXIT_OK, load_settings_for, say

if TYPE_CHECKING:
    from glmtui.chat.catalog import CardResult, CatalogueResult, ModelCatalog
    from glmtui.config import Settings
    from glmtui.domain import ModelCard


def run(args: argparse.Namespace) -> int:
    """List the models or show one; the exit status.

    No key check: without a key the catalogue answers from its cache or the built-in card
    (and says so), which is what someone offline or not yet signed up wants to see.
    """
    return asyncio.run(_run(load_settings_for(args), args))


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from glmtui.chat.catalog import ModelCatalog, filter_cards
    from glmtui.chat.formatting import context_cell, per_million, visible

    catalog = ModelCatalog.from_settings(settings)
    if args.models_command == "show":
        result = await catalog.card(args.model_id, refresh=True)
        if result.card is None:
            reason = result.error.describe() if result.error else "no card."
            say(f"glmtui: error: {visible(reason)}")
            return EXIT_API_ERROR
        _note(catalog, result)
        if args.json:
            print(json.dumps(result.card.raw, indent=2, ensure_ascii=False))
        else:
            print(visible(card_text(result.card)), end="")
        return EXIT_OK
    listing = await catalog.catalogue(refresh=True)
    _note(catalog, listing)
    cards = filter_cards(listing.cards, args.search or "")
    if args.json:
        print(json.dumps([c.raw for c in cards], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not cards:
        say("No models found.")
        return EXIT_OK
    header = ("ID", "NAME", "CONTEXT", "PRICE IN", "PRICE OUT")
    table = [
        (
            c.id,
            c.display_name or "",
            context_cell(c),
            "by time" if c.pricing.by_time else per_million(c.pricing.input_per_token),
            "by time" if c.pricing.by_time else per_million(c.pricing.output_per_token),
        )
        for c in cards
    ]
    widths = [max(len(r[i]) for r in (header, *table)) for i in range(len(header))]
    for row in (header, *table):
        print(visible("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()))
    return EXIT_OK


def _note(catalog: ModelCatalog, result: CardResult | CatalogueResult) -> None:
    """Say on stderr when the data is not live: how old the copy is and why (offline, no key,
    key rejected …), with what to do about it."""
    from glmtui.chat.formatting import visible

    if result.source == "live":
        return
    note = catalog.describe(result)
    if result.error is not None and result.error.hint:
        note += f" {result.error.hint}"
    say(f"glmtui: note: {visible(note)}")


def card_text(card: ModelCard) -> str:
    """``glmtui models show``: the facts, the summary, the request parameters, the description."""
    from glmtui.api.models import schema_rows
    from glmtui.chat.formatting import model_fact_rows

    rows = [("Name", card.name), ("Id", card.id), *model_fact_rows(card)]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    if card.summary:
        lines += ["", card.summary]
    parameters = schema_rows(card.request_schema)
    lines.append("")
    if parameters:
        lines.append("Request parameters:")
        header = ("NAME", "TYPE", "RANGE", "DEFAULT", "DESCRIPTION")
        table = [
            (p.name + ("*" if p.required else ""), p.type, p.range, p.default, p.description)
            for p in parameters
        ]
        widths = [max(len(r[i]) for r in (header, *table)) for i in range(4)]
        for row in (header, *table):
            cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:4])]
            lines.append("  " + "  ".join([*cells, row[4]]).rstrip())
        if any(p.required for p in parameters):
            lines.append("  (* required)")
    else:
        lines.append("Request parameters: none published (the chat-completions parameters apply).")
    if card.description.strip():
        lines += ["", "Description:", "", card.description.strip()]
    return "\n".join(lines) + "\n"
