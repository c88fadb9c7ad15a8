"""The reasoning control offers what the model takes (on/off, effort levels, no "off" for a model
that always thinks), and the request carries only that: checked on the body the loopback server
received, from the sidebar and from ``glmtui ask``.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Select

from glmtui.api.models import model_traits, parse_model
from glmtui.api.request import ChatRequest, thinking_fields
from glmtui.cli import main
from glmtui.config import BUILTIN_PROVIDERS, Overrides, load_settings
from glmtui.domain import Parameters, Session
from glmtui.domain.thinking import (
    GLM_THINKING,
    ThinkingSupport,
    chosen_value,
    glm_thinking,
    glm_version,
    thinking_choices,
)
from glmtui.store.codecs import decode_session, encode_session
from glmtui.ui.app import GlmApp
from glmtui.ui.widgets.sidebar import ParameterSidebar
from tests.server import LoopbackServer
from tests.ui_helpers import chat, make_app, send, settle, sidebar_ready, until

ALWAYS = GLM_THINKING[(5, 3)]
LEVELS = GLM_THINKING[(5, 2)]


# --- the table -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "version"),
    [
        ("zai-org-glm-5", (5, 0)),
        ("zai-org/GLM-5-FP8", (5, 0)),
        ("glm-5", (5, 0)),
        ("glm-5.1", (5, 1)),
        ("glm-5.2", (5, 2)),
        ("glm-5-3-flash", (5, 3)),
        ("zai-org-glm-4.7-flash", (4, 7)),
        ("z-ai/glm-4.6", (4, 6)),
        ("glm-4.5-air", (4, 5)),
        ("glm-4-32b-0414-128k", (4, 0)),  # a size, not a minor version
        ("glm-5v-turbo", None),  # a vision model: not guessed
        ("meta-llama-3.2-3b-instruct", None),
    ],
)
def test_glm_versions_are_read_from_model_ids(model_id: str, version: object) -> None:
    assert glm_version(model_id) == version


def test_the_table_of_the_glm_family() -> None:
    for model_id in ("zai-org-glm-5", "glm-4.7", "glm-5.1", "zai-org/GLM-5-FP8"):
        support = glm_thinking(model_id)
        assert support is not None
        assert (support.levels, support.can_disable) == ((), True)
    assert glm_thinking("glm-5.2") == LEVELS
    assert LEVELS.levels == ("high", "max")
    assert LEVELS.can_disable
    assert glm_thinking("glm-5-3-flash") == ALWAYS
    assert ALWAYS.levels == ("low", "high", "max")
    assert not ALWAYS.can_disable
    assert glm_thinking("glm-6") is None  # later versions are not guessed
    assert glm_thinking("glm-4-32b-0414-128k") is None


# --- what the model object publishes --------------------------------------------------------------


def with_schema(model_id: str, properties: dict[str, Any]) -> Any:
    return parse_model(
        {"id": model_id, "request_schema": {"type": "object", "properties": properties}}
    )


def test_published_effort_levels_win_over_the_table() -> None:
    card = with_schema(
        "glm-5.2",
        {"reasoning_effort": {"enum": ["none", "low", "high", "max"], "default": "high"}},
    )
    thinking = model_traits(card, "glm-5.2").thinking
    assert thinking == ThinkingSupport(("low", "high", "max"), True, "high", source="model")


def test_a_published_thinking_type_without_disabled_means_always_on() -> None:
    card = with_schema(
        "some-model",
        {
            "thinking": {"type": "object", "properties": {"type": {"enum": ["enabled"]}}},
            "reasoning_effort": {"enum": ["low", "max"]},
        },
    )
    thinking = model_traits(card, "some-model").thinking
    assert (thinking.levels, thinking.can_disable, thinking.source) == (
        ("low", "max"),
        False,
        "model",
    )


def test_without_a_card_the_table_decides() -> None:
    assert model_traits(None, "glm-5-3-flash").thinking == ALWAYS
    other = parse_model({"id": "other"})
    assert model_traits(other, "glm-5.2").thinking == LEVELS  # another model's card: ignored
    assert model_traits(None, "llama").thinking.source == "default"


# --- what is offered and what is sent -------------------------------------------------------------


def values(style: str, support: ThinkingSupport) -> list[str]:
    return [choice.value for choice in thinking_choices(style, support)]


def test_choices_per_style_and_model() -> None:
    on_off = ThinkingSupport()
    assert values("thinking_type", on_off) == ["default", "on", "off"]
    assert values("thinking_type", LEVELS) == ["default", "off", "high", "max"]
    assert values("thinking_type", ALWAYS) == ["default", "low", "high", "max"]
    assert values("chat_template_kwargs", LEVELS) == ["default", "on", "off"]  # no levels there
    assert values("chat_template_kwargs", ALWAYS) == ["default", "on"]
    assert values("none", on_off) == ["default"]  # nothing to choose: hidden
    assert values("none", ALWAYS) == ["default", "low", "high", "max"]
    assert values("reasoning_effort", LEVELS) == ["default", "off", "high", "max"]


def test_a_saved_choice_not_on_offer_shows_as_the_default() -> None:
    choices = thinking_choices("thinking_type", ALWAYS)
    assert chosen_value(False, None, choices) == "default"  # "off" for a model that cannot
    assert chosen_value(True, "max", choices) == "max"
    assert chosen_value(True, "xhigh", choices) == "default"


@pytest.mark.parametrize("style", ["thinking_type", "chat_template_kwargs", "reasoning_effort"])
def test_never_a_disable_for_a_model_that_always_thinks(style: str) -> None:
    assert thinking_fields(style, False, support=ALWAYS) == {}
    request = ChatRequest(
        model="glm-5.3", messages=(), parameters=Parameters(reasoning=False), thinking_style=style
    )
    body = request.body()
    assert "thinking" not in body
    assert "chat_template_kwargs" not in body
    assert body.get("reasoning_effort") != "none"


def test_levels_go_only_where_the_model_and_style_take_them() -> None:
    assert thinking_fields("thinking_type", True, effort="max", support=LEVELS) == {
        "thinking": {"type": "enabled"},
        "reasoning_effort": "max",
    }
    assert thinking_fields("reasoning_effort", None, effort="high", support=LEVELS) == {
        "reasoning_effort": "high"
    }
    assert thinking_fields("none", True, effort="low", support=ALWAYS) == {
        "reasoning_effort": "low"
    }
    # A level the model does not list, or a style that cannot carry one, is not sent.
    assert thinking_fields("thinking_type", True, effort="low", support=LEVELS) == {
        "thinking": {"type": "enabled"}
    }
    assert thinking_fields("chat_template_kwargs", True, effort="max", support=LEVELS) == {
        "chat_template_kwargs": {"enable_thinking": True}
    }
    # Off wins over a saved level.
    assert thinking_fields("thinking_type", False, effort="max", support=LEVELS) == {
        "thinking": {"type": "disabled"}
    }


# --- saved with the session, read by older and newer files ----------------------------------------


def test_levels_and_json_mode_round_trip_and_old_files_still_load() -> None:
    session = Session(
        id="s1", parameters=Parameters(reasoning=True, reasoning_effort="max", json_mode=True)
    )
    for fmt in ("toml", "json"):
        back = decode_session(encode_session(session, fmt), fmt=fmt)  # type: ignore[arg-type]
        assert back.parameters == session.parameters
    text = encode_session(session, "toml").decode()
    assert "reasoning = true" in text  # a glmtui without levels still reads "thinking on"
    old = text.replace('reasoning_effort = "max"\n', "").replace("json_mode = true\n", "")
    assert decode_session(old.encode(), fmt="toml").parameters == Parameters(reasoning=True)


def test_the_config_takes_a_level(config_file: Path) -> None:
    config_file.write_text('[parameters]\nreasoning_effort = "max"\njson_mode = true\n')
    settings = load_settings(Overrides())
    assert settings.parameters == Parameters(reasoning_effort="max", json_mode=True)


# --- the sidebar and the request, against the loopback server -------------------------------------


def zai_app(server: LoopbackServer, model: str, **changes: Any) -> GlmApp:
    """The app with the built-in zai profile (thinking_type, z.ai's limits) pointed at the
    loopback server: nothing leaves this machine."""
    zai = replace(BUILTIN_PROVIDERS["zai"], base_url=server.base_url, model=model)
    providers = {**BUILTIN_PROVIDERS, "zai": zai}
    return make_app(server, provider=zai, providers=providers, model=model, **changes)


def offered(app: GlmApp) -> list[str]:
    sidebar = chat(app).query_one("#sidebar", ParameterSidebar)
    return [choice.value for choice in sidebar._reasoning_choices()]


WIDE = (130, 44)


async def test_the_sidebar_offers_effort_levels_and_sends_the_chosen_one(
    server: LoopbackServer,
) -> None:
    app = zai_app(server, "glm-5.2")
    async with app.run_test(size=WIDE) as pilot:
        sidebar = await sidebar_ready(pilot)
        await settle(pilot)
        assert offered(app) == ["default", "off", "high", "max"]
        select = sidebar.query_one("#reasoning", Select)
        assert select.display
        select.value = "max"
        await until(pilot, lambda: chat(app).session.parameters.reasoning_effort == "max")
        await send(pilot, "think hard")
        await settle(pilot)
    body = server.chat_requests[0].json()
    assert body["thinking"] == {"type": "enabled"}
    assert body["reasoning_effort"] == "max"


async def test_an_always_thinking_model_is_never_sent_a_disable(server: LoopbackServer) -> None:
    """A session saved with thinking off, reopened on a model that always thinks: no "off" is
    offered, the control shows the default, and the request carries no disable."""
    session = Session(
        model="glm-5-3-flash",
        provider="zai",
        base_url=server.base_url,
        parameters=Parameters(reasoning=False),
    )
    app = zai_app(server, "glm-5-3-flash", session=session)
    async with app.run_test(size=WIDE) as pilot:
        sidebar = await sidebar_ready(pilot)
        await settle(pilot)
        assert "off" not in offered(app)
        assert sidebar.query_one("#reasoning", Select).value == "default"
        await send(pilot, "hi")
        await settle(pilot)
        assert chat(app).session.parameters.reasoning is False  # the saved choice stays
    body = server.chat_requests[0].json()
    assert "thinking" not in body
    assert "reasoning_effort" not in body


def test_ask_never_sends_a_disable_to_an_always_thinking_model(
    server: LoopbackServer,
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    config_file.write_text('[parameters]\nreasoning = false\nreasoning_effort = "max"\n')
    base = ["ask", "--provider", "zai", "--base-url", server.base_url]
    assert main([*base, "--model", "glm-5-3-flash", "hi"]) == 0
    assert main([*base, "--model", "glm-5.1", "hi"]) == 0
    capsys.readouterr()
    always, on_off = (request.json() for request in server.chat_requests)
    assert "thinking" not in always
    assert "reasoning_effort" not in always
    assert on_off["thinking"] == {"type": "disabled"}  # GLM-5.1 can stop; it takes no level
    assert "reasoning_effort" not in on_off


async def test_new_options_keep_the_saved_level(server: LoopbackServer) -> None:
    """The card arrives and says what the model takes: the control's options change, and the
    level the session holds stays (setting new options passes through "default" on the way)."""
    from glmtui.api.models import ModelTraits

    session = Session(
        model="glm-5.2",
        provider="zai",
        base_url=server.base_url,
        parameters=Parameters(reasoning=True, reasoning_effort="max"),
    )
    app = zai_app(server, "glm-5.2", session=session)
    async with app.run_test(size=WIDE) as pilot:
        sidebar = await sidebar_ready(pilot)
        await settle(pilot)
        published = ThinkingSupport(("low", "max"), True, None, source="model")
        sidebar.set_traits(ModelTraits(thinking=published))
        await settle(pilot)
        assert offered(app) == ["default", "off", "low", "max"]
        assert sidebar.query_one("#reasoning", Select).value == "max"
        assert chat(app).session.parameters.reasoning_effort == "max"
        sidebar.set_traits(ModelTraits(thinking=GLM_THINKING[(5, 1)]))  # no levels now
        await settle(pilot)
        assert sidebar.query_one("#reasoning", Select).value == "on"
        assert chat(app).session.parameters.reasoning_effort == "max"  # kept, not sent
