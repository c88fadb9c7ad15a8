"""Costs that match the bill: cached prompt tokens priced at the cached-input rate (or the cost
marked as an upper bound), and models billed by time labelled as such, never given a token cost.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from glmtui.api.models import parse_model
from glmtui.chat.formatting import model_fact_rows
from glmtui.domain import Message, Pricing, Session, Usage
from glmtui.domain.costs import cost_summary, reply_cost
from glmtui.ui.chat.status import status_info
from glmtui.ui.screens.compare import _cost_text
from glmtui.ui.widgets.status import StatusBar, StatusInfo, render_status
from tests.server import GLM5_MODEL, JsonReply, LoopbackServer, stream_of
from tests.ui_helpers import chat, make_app, send, settle, until

PRICES = Pricing(input_per_token=1e-6, output_per_token=4e-6, cached_input_per_token=2e-7)
"""$1 in, $4 out, $0.20 cached per 1M tokens."""

CACHED = Usage(
    prompt_tokens=10_000, completion_tokens=500, total_tokens=10_500, cached_tokens=8_000
)


def timed_model(model_id: str = "glm-timed") -> dict[str, Any]:
    """An Oxen-shaped chat model billed by the second (``pricing.method = "time"``)."""
    model = copy.deepcopy(GLM5_MODEL)
    model["id"] = model_id
    model["display_name"] = "GLM Timed"
    model["pricing"] = {
        "method": "time",
        "input_cost_per_token": None,
        "output_cost_per_token": None,
        "cost_per_second": 0.0012,
        "cost_per_image": None,
    }
    return model


# --- pricing ---------------------------------------------------------------------------------


def test_cached_tokens_are_priced_at_the_cached_rate() -> None:
    cost = PRICES.cost(CACHED)
    assert cost == pytest.approx(2_000 * 1e-6 + 8_000 * 2e-7 + 500 * 4e-6)
    assert not PRICES.upper_bound(CACHED)


def test_without_a_cached_price_the_cost_is_an_upper_bound() -> None:
    prices = Pricing(input_per_token=1e-6, output_per_token=4e-6)
    assert prices.cost(CACHED) == pytest.approx(10_000 * 1e-6 + 500 * 4e-6)
    assert prices.upper_bound(CACHED)
    uncached = Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15)
    assert not prices.upper_bound(uncached)


def test_more_cached_than_prompt_tokens_is_not_a_negative_cost() -> None:
    odd = Usage(prompt_tokens=100, completion_tokens=0, total_tokens=100, cached_tokens=500)
    assert PRICES.cost(odd) == pytest.approx(100 * 2e-7)


def test_a_model_billed_by_time_has_no_token_cost() -> None:
    card = parse_model(timed_model())
    assert card.pricing.by_time
    assert not card.pricing.by_token
    assert card.pricing.per_second == 0.0012
    assert card.pricing.cost(CACHED) is None
    assert reply_cost(CACHED, card.pricing).by_time
    # A cost the provider reports is the bill, whatever the method.
    reported = Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2, cost=0.01)
    assert reply_cost(reported, card.pricing).usd == 0.01


@pytest.mark.parametrize(
    ("pricing", "cached"),
    [
        ({"method": "token", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}, None),
        ({"input_cost_per_token": 1e-6, "cached_input_cost_per_token": 1e-7}, 1e-7),
        ({"prompt": "0.000001", "completion": "0.000002", "input_cache_read": "0.0000001"}, 1e-7),
        ({"input_cost_per_token": 1e-6, "cache_read_input_token_cost": 2.5e-7}, 2.5e-7),
    ],
)
def test_cached_input_prices_are_read_where_providers_put_them(
    pricing: dict[str, Any], cached: float | None
) -> None:
    card = parse_model({"id": "m", "pricing": pricing})
    assert card.pricing.by_token
    assert card.pricing.cached_input_per_token == cached


def test_the_oxen_fixtures_methods() -> None:
    """The catalogue's ``per_token`` and Oxen's documented ``token`` are billed by the token;
    ``per_image`` is neither token nor time."""
    assert parse_model(GLM5_MODEL).pricing.by_token
    assert parse_model({"id": "m", "pricing": {"method": "token"}}).pricing.by_token
    image = parse_model({"id": "m", "pricing": {"method": "per_image", "cost_per_image": 0.02}})
    assert not image.pricing.by_token
    assert not image.pricing.by_time


def test_conversation_costs_say_what_kind_of_number_they_are() -> None:
    prices = Pricing(input_per_token=1e-6, output_per_token=4e-6)
    plain = Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15)
    guessed = Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15, estimated=True)
    replies = [Message("assistant", "a", usage=plain), Message("assistant", "b", usage=CACHED)]
    summary = cost_summary(replies, prices)
    assert summary.upper_bound
    assert not summary.estimated
    assert summary.prefix == "≤"
    summary = cost_summary([Message("assistant", "c", usage=guessed)], prices)
    assert summary.estimated
    assert summary.prefix == "~"
    timed = parse_model(timed_model()).pricing
    assert cost_summary(replies, timed).by_time
    assert cost_summary(replies, timed).usd is None


# --- where costs are shown ---------------------------------------------------------------------


def test_the_status_line_shows_cached_tokens_and_the_kind_of_cost() -> None:
    info = StatusInfo(
        model="GLM-5", prompt_tokens=12_000, completion_tokens=388, cached_tokens=9_000, cost=0.01
    )
    text = render_status(info).plain
    assert "in 12k (9,000 cached) · out 388" in text
    assert "$0.0100" in text
    assert "≤" not in text
    assert "≤$0.0100" in render_status(StatusInfo(model="m", cost=0.01, cost_bound=True)).plain
    timed = render_status(StatusInfo(model="m", cost=None, billing="billed by time")).plain
    assert "billed by time" in timed
    assert "$" not in timed


def test_status_info_labels_a_model_billed_by_time() -> None:
    session = Session(messages=[Message("user", "q"), Message("assistant", "a", usage=CACHED)])
    card = parse_model(timed_model())
    info = status_info(
        session,
        stats=None,
        card=card,
        window=(None, False),
        model_label="GLM Timed",
        demo=False,
        unsaved=False,
    )
    assert info.billing == "billed by time"
    assert info.cost is None
    assert info.cached_tokens == 8_000


def test_model_details_say_how_a_model_is_billed() -> None:
    rows = dict(model_fact_rows(parse_model(timed_model())))
    assert rows["Billing"] == "by time ($0.0012 per second); token counts do not give its cost"
    assert "Input price" not in rows
    assert "Output price" not in rows
    assert not any("per second" in value for key, value in rows.items() if key == "Price")
    token = copy.deepcopy(GLM5_MODEL)
    token["pricing"]["cached_input_cost_per_token"] = 2e-7
    rows = dict(model_fact_rows(parse_model(token)))
    assert rows["Cached input price"] == "$0.20 / 1M tokens"
    assert rows["Input price"] == "$1.00 / 1M tokens"
    assert "Billing" not in rows
    assert not any(key == "Price" for key in rows)  # the cached price is not listed twice


def test_compare_panes_price_the_same_way() -> None:
    reply = Message("assistant", "a", usage=CACHED)
    assert _cost_text(reply, parse_model(timed_model())) == "billed by time"
    assert _cost_text(reply, None) == "cost unknown"
    bound = _cost_text(reply, parse_model(GLM5_MODEL))  # no cached price published
    assert bound.startswith("≤$")


# --- in the app, against the loopback server ----------------------------------------------------

SIZE = (140, 40)


async def test_the_status_bar_shows_cached_tokens_and_an_upper_bound(
    server: LoopbackServer,
) -> None:
    usage = {
        "prompt_tokens": 12_000,
        "completion_tokens": 2,
        "total_tokens": 12_002,
        "prompt_tokens_details": {"cached_tokens": 9_000},
    }
    server.enqueue(stream_of(["Hi", "."], usage=usage))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await settle(pilot)
        bar = chat(app).query_one(StatusBar)
        await until(pilot, lambda: "cached" in bar.text and "$" in bar.text)
        assert "in 12k (9,000 cached) · out 2" in bar.text
        # GLM-5 on Oxen: no cached price published, so priced at $1/1M and an upper bound.
        assert "≤$0.0120" in bar.text


async def test_a_model_billed_by_time_shows_no_token_cost(server: LoopbackServer) -> None:
    server.set_default(JsonReply(200, timed_model()), path="/models/glm-timed")
    server.enqueue(stream_of(["Hi"], usage=True))
    app = make_app(server, model="glm-timed")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await settle(pilot)
        screen = chat(app)
        await until(pilot, lambda: screen.card_for_model() is not None)
        screen.refresh_status()
        bar = screen.query_one(StatusBar)
        await until(pilot, lambda: "billed by time" in bar.text)
        assert "$" not in bar.text
