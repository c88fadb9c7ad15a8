"""Provider limits (z.ai: temperature 0–1, one stop sequence, no penalties or seed) and JSON mode:
shown and enforced by the sidebar, refused by ``glmtui ask`` before anything is sent, and never
carried by a request, whatever a session saved under another provider holds."""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static, Switch, TextArea

from glmtui.api.models import model_traits, parse_model
from glmtui.api.request import ChatRequest
from glmtui.cli import main
from glmtui.config import BUILTIN_PROVIDERS, ZAI_LIMITS, ConfigError, Overrides, load_settings
from glmtui.domain import Parameters, Session
from glmtui.domain.params import (
    NO_LIMITS,
    ParameterError,
    check,
    parse_limits,
    parse_stop,
    ranges_for,
    validate,
)
from glmtui.ui.app import GlmApp
from tests.server import LoopbackServer
from tests.ui_helpers import chat, make_app, send, settle, sidebar_ready, until, visible_text

# --- the limits themselves ------------------------------------------------------------------------


def test_zai_limits_narrow_the_ranges_and_say_whose_they_are() -> None:
    ranges = ranges_for(None, ZAI_LIMITS)
    assert (ranges["temperature"].minimum, ranges["temperature"].maximum) == (0, 1)
    assert ranges["top_p"].minimum == 0.01
    assert ranges["max_tokens"] == ranges_for(None)["max_tokens"]  # untouched
    with pytest.raises(ParameterError, match=r"must be 0–1 for zai \(got 1.5\)"):
        check("temperature", 1.5, ranges)
    assert check("temperature", 0.5, ranges) == 0.5


def test_validate_names_what_the_provider_does_not_take() -> None:
    parameters = Parameters(temperature=1.5, frequency_penalty=0.5, stop=("a", "b"))
    problems = {
        p.name: p.reason for p in validate(parameters, ranges_for(None, ZAI_LIMITS), ZAI_LIMITS)
    }
    assert problems == {
        "temperature": "must be 0–1 for zai (got 1.5)",
        "frequency_penalty": "zai does not take frequency_penalty",
        "stop": "at most 1 stop sequence for zai",
    }
    assert validate(parameters, ranges_for(None), NO_LIMITS) == []
    with pytest.raises(ParameterError, match="at most 1 stop sequence for zai"):
        parse_stop("one\ntwo", ZAI_LIMITS)


def test_a_request_never_carries_what_the_provider_does_not_take() -> None:
    parameters = Parameters(
        temperature=1.5, top_p=0.5, seed=3, frequency_penalty=0.1, stop=("a", "b"), max_tokens=9
    )
    body = ChatRequest(model="glm-5", messages=(), parameters=parameters, limits=ZAI_LIMITS).body()
    assert body["top_p"] == 0.5
    assert body["max_tokens"] == 9
    for name in ("temperature", "seed", "frequency_penalty", "stop"):
        assert name not in body
    one_stop = replace(parameters, stop=("a",))
    body = ChatRequest(model="glm-5", messages=(), parameters=one_stop, limits=ZAI_LIMITS).body()
    assert body["stop"] == ["a"]


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("{temperature = [0, 1], max_stop = 1}", None),
        ('{top_p = [0.01, "none"], unsupported = ["seed", "stop"]}', None),
        ("{}", None),
        ("{temperature = [1, 0]}", "minimum is above the maximum"),
        ("{temperature = 1}", "temperature must be [minimum, maximum]"),
        ("{max_stop = 9}", "max_stop must be a whole number from 0 to 4"),
        ('{unsupported = ["colour"]}', "unknown parameter 'colour'"),
        ("{colour = [0, 1]}", "unknown limit 'colour'"),
        ('"none"', "must be a table"),
    ],
)
def test_limits_in_the_config(config_file: Path, table: str, words: str | None) -> None:
    config_file.write_text(
        f'[providers.gate]\nbase_url = "http://127.0.0.1:9/v1"\nlimits = {table}\n'
    )
    if words is None:
        profile = load_settings(Overrides(provider="gate")).provider
        assert profile.limits.provider == "gate"
        return
    with pytest.raises(ConfigError, match="limits") as raised:
        load_settings(Overrides(provider="gate"))
    assert words in str(raised.value)
    assert "[providers.gate]" in str(raised.value)


def test_a_limits_table_replaces_the_built_in_one(config_file: Path) -> None:
    assert load_settings(Overrides(provider="zai")).provider.limits == ZAI_LIMITS
    config_file.write_text("[providers.zai]\nlimits = {}\n")
    assert load_settings(Overrides(provider="zai")).provider.limits.describe() == "none"
    assert parse_limits({"seed": [0, 10]}, "x").describe() == "seed 0–10"


# --- glmtui ask: refused before anything is sent --------------------------------------------------


@pytest.fixture(autouse=True)
def empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def ask(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["ask", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("options", "line"),
    [
        (
            ["--temperature", "1.5"],
            "--temperature: must be 0–1 for zai (got 1.5); nothing was sent.",
        ),
        (
            ["--presence-penalty", "0.5"],
            "--presence-penalty: zai does not take presence_penalty; nothing was sent.",
        ),
        (
            ["--stop", "a", "--stop", "b"],
            "--stop: at most 1 stop sequence for zai; nothing was sent.",
        ),
        (["--top-p", "0"], "--top-p: must be 0.01–1 for zai (got 0); nothing was sent."),
    ],
)
def test_ask_refuses_what_zai_does_not_take(
    server: LoopbackServer, capsys: pytest.CaptureFixture[str], options: list[str], line: str
) -> None:
    code, out, err = ask(capsys, "--provider", "zai", "--base-url", server.base_url, *options, "hi")
    assert (code, out, err) == (2, "", f"glmtui: {line}\n")
    assert server.chat_requests == []


def test_ask_within_the_limits_is_sent(
    server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = ask(
        capsys, "--provider", "zai", "--base-url", server.base_url, "--temperature", "0.7", "hi"
    )
    assert code == 0
    assert server.chat_requests[0].json()["temperature"] == 0.7


def test_ask_json_mode_is_sent_where_taken_and_refused_elsewhere(
    server: LoopbackServer,
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OXEN_API_KEY", "k")
    code, _, _ = ask(capsys, "--base-url", server.base_url, "--json-mode", "list 3 colours")
    assert code == 0
    assert server.chat_requests[0].json()["response_format"] == {"type": "json_object"}
    config_file.write_text(
        f'[providers.plain]\nbase_url = "{server.base_url}"\njson_mode = false\n'
    )
    code, out, err = ask(capsys, "--provider", "plain", "--json-mode", "list 3 colours")
    assert (code, out) == (2, "")
    assert err == (
        "glmtui: --json-mode: plain does not take JSON mode (json_mode = false in its profile); "
        "nothing was sent.\n"
    )
    assert len(server.chat_requests) == 1
    code, _, _ = ask(capsys, "--provider", "plain", "list 3 colours")  # without it: fine
    assert code == 0
    assert "response_format" not in server.chat_requests[1].json()


def test_a_model_says_whether_it_takes_json_mode() -> None:
    def card(properties: dict[str, Any] | None = None, **raw: Any) -> Any:
        schema = {"type": "object", "properties": properties} if properties else {}
        return parse_model({"id": "m", "request_schema": schema, **raw})

    assert model_traits(card({"response_format": {"enum": ["text", "json_object"]}}), "m").json_mode
    refused = model_traits(card({"response_format": {"enum": ["text"]}}), "m")
    assert (refused.json_mode, refused.json_reason) == (
        False,
        "the model's request schema does not list json_object",
    )
    assert model_traits(card(supported_parameters=["tools", "response_format"]), "m").json_mode
    assert model_traits(card(supported_parameters=["tools"]), "m").json_mode is False
    assert model_traits(card(), "m").json_mode is None  # not said: the profile decides


# --- the sidebar ----------------------------------------------------------------------------------

WIDE = (130, 48)


def zai_app(server: LoopbackServer, **changes: Any) -> GlmApp:
    """The app with the built-in zai profile (its limits) pointed at the loopback server."""
    zai = replace(BUILTIN_PROVIDERS["zai"], base_url=server.base_url, model="glm-5")
    providers = {**BUILTIN_PROVIDERS, "zai": zai}
    return make_app(server, provider=zai, providers=providers, model="glm-5", **changes)


def hint(app: GlmApp, name: str) -> str:
    return str(chat(app).query_one(f"#sidebar #{name}-hint", Static).render())


async def test_the_sidebar_keeps_to_zai_limits(server: LoopbackServer) -> None:
    """Ranges say whose they are, what zai does not take is disabled with the reason, a value
    outside them is marked and not sent, and a value saved under another provider is left
    out of the request."""
    session = Session(
        model="glm-5",
        provider="zai",
        base_url=server.base_url,
        parameters=Parameters(temperature=0.5, frequency_penalty=0.4),
    )
    app = zai_app(server, session=session)
    async with app.run_test(size=WIDE) as pilot:
        sidebar = await sidebar_ready(pilot)
        await settle(pilot)
        assert hint(app, "temperature") == "0–1 for zai · blank = default"
        assert hint(app, "top_p") == "0.01–1 for zai · blank = default"
        assert hint(app, "stop") == "at most 1 sequence for zai"
        seed = sidebar.query_one("#seed", Input)
        assert seed.disabled
        assert hint(app, "seed") == "not taken by zai"
        penalty = sidebar.query_one("#frequency_penalty", Input)
        assert penalty.disabled
        assert penalty.has_class("-invalid")
        assert hint(app, "frequency_penalty") == "✗ not taken by zai — not sent"
        field = sidebar.query_one("#temperature", Input)
        field.focus()
        field.value = ""
        await pilot.press(*"1.5", "enter")
        await pilot.pause()
        assert field.has_class("-invalid")
        assert "must be 0–1 for zai (got 1.5)" in visible_text(app)
        stop = sidebar.query_one("#stop", TextArea)
        stop.text = "END\nSTOP"
        await until(pilot, lambda: "at most 1 stop sequence for zai" in hint(app, "stop"))
        await send(pilot, "hi")
        await settle(pilot)
        saved = chat(app).session.parameters
        assert (saved.temperature, saved.frequency_penalty, saved.stop) == (0.5, 0.4, None)
    body = server.chat_requests[0].json()
    assert body["temperature"] == 0.5  # the last good value
    assert "frequency_penalty" not in body  # saved, but zai does not take it
    assert "stop" not in body


async def test_the_json_mode_switch_is_sent(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=WIDE) as pilot:
        sidebar = await sidebar_ready(pilot)
        switch = sidebar.query_one("#json_mode", Switch)
        assert not switch.disabled
        switch.value = True
        await until(pilot, lambda: chat(app).session.parameters.json_mode is True)
        await send(pilot, "three colours as JSON")
        await settle(pilot)
    assert server.chat_requests[0].json()["response_format"] == {"type": "json_object"}


async def test_json_mode_where_it_is_not_taken(server: LoopbackServer) -> None:
    plain = replace(
        BUILTIN_PROVIDERS["oxen"], name="plain", base_url=server.base_url, json_mode=False
    )
    session = Session(
        provider="plain", base_url=server.base_url, parameters=Parameters(json_mode=True)
    )
    app = make_app(
        server,
        provider=plain,
        providers={**BUILTIN_PROVIDERS, "plain": plain},
        session=session,
    )
    async with app.run_test(size=WIDE) as pilot:
        sidebar = await sidebar_ready(pilot)
        await settle(pilot)
        assert sidebar.query_one("#json_mode", Switch).disabled
        assert hint(app, "json_mode") == (
            "plain does not take JSON mode (json_mode = false in its profile) — not sent"
        )
        await send(pilot, "hi")
        await settle(pilot)
    assert "response_format" not in server.chat_requests[0].json()
