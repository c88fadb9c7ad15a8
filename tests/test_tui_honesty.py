"""The TUI says what is true: estimates and assumptions are marked, canned replies are not
priced, the composer names the model in use, a reply that is not streamed says what it waits
for, and the status bar keeps what matters in view at any width."""

from __future__ import annotations

import math
import re

import pytest
from rich.text import Text

from glmtui.domain import Parameters, Session
from glmtui.domain.stats import ContextUse
from glmtui.ui.screens.chat import WAITING_NOTE, ChatScreen
from glmtui.ui.screens.compare import CompareScreen
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.sidebar import ParameterSidebar
from glmtui.ui.widgets.status import StatusBar, StatusInfo, render_status
from tests.server import JsonReply, LoopbackServer, StallReply, stream_of
from tests.ui_helpers import (
    chat,
    chat_opened,
    live_reply,
    make_app,
    sample_session,
    send,
    settle,
    sidebar_ready,
    until,
    visible_text,
)

SIZE = (120, 40)


def status_line(app: object) -> str:
    return chat(app).query_one(StatusBar).text  # type: ignore[arg-type]


# --- the demo ------------------------------------------------------------------------------


async def test_canned_demo_replies_are_not_priced() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await settle(pilot)
        status = status_line(app)
        assert "GLM-5 (demo)" in status
        assert "in " in status
        assert "of 200k" in status
        assert "$" not in status  # but nothing is priced


async def test_compare_in_the_demo_shows_no_cost() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await settle(pilot)
        chat(app).action_compare()
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        await until(pilot, lambda: "right" in compare.results)  # type: ignore[attr-defined]
        await settle(pilot)
        text = visible_text(app)
        assert "token" in text
        assert "$" not in text
        assert "cost unknown" not in text
        await pilot.press("escape")


# --- compare prices a model the catalogue knows --------------------------------------------


async def test_compare_prices_the_alternative_from_the_catalogue(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["first"], usage=True))
    server.enqueue(stream_of(["second"], usage=True))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "the question")
        await settle(pilot)
        chat(app).action_compare()
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", *"meta-llama-3.2-3b-instruct", "enter")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        await until(pilot, lambda: "right" in compare.cards and "right" in compare.results)
        await settle(pilot)
        right = str(compare.query_one("#stats-right").render())
        assert "cost unknown" not in right
        assert "$0.0000" in right  # 11 × $0.1/1M + 1 × $0.2/1M: priced, if cheaply
        await pilot.press("escape")


# --- the composer names the model ----------------------------------------------------------


async def test_the_composer_names_the_sessions_model(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        composer = screen.query_one(Composer)
        assert composer.placeholder.startswith("Ask GLM-5…")
        screen.use_model("meta-llama-3.2-3b-instruct")
        await until(pilot, lambda: composer.placeholder.startswith("Ask Llama 3.2 3B Instruct…"))
        await settle(pilot)
        assert "Ask Llama 3.2 3B Instruct…" in visible_text(app)


async def test_a_resumed_sessions_model_is_named(server: LoopbackServer) -> None:
    session = Session(model="meta-llama-3.2-3b-instruct", base_url=server.base_url)
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        await settle(pilot)
        assert screen.query_one(Composer).placeholder.startswith("Ask Llama 3.2 3B Instruct…")


# --- a reply that is not streamed -----------------------------------------------------------


async def test_a_reply_that_is_not_streamed_says_what_it_waits_for(server: LoopbackServer) -> None:
    server.enqueue(StallReply(math.inf))
    session = Session(base_url=server.base_url, parameters=Parameters(stream=False))
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "take your time")
        await live_reply(pilot)
        await until(pilot, lambda: "waiting for the complete reply…" in visible_text(app))
        lines = visible_text(app).splitlines()
        at = next(n for n, line in enumerate(lines) if WAITING_NOTE in line)
        assert re.search(r"Thinking… \d+\.\d s", lines[at - 1])  # the seconds, just above
        assert server.chat_requests[0].json()["stream"] is False
        await pilot.press("escape")
        await settle(pilot)


async def test_the_waiting_note_goes_when_the_reply_arrives(server: LoopbackServer) -> None:
    session = Session(base_url=server.base_url, parameters=Parameters(stream=False))
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        assert chat(app).session.messages[-1].status == "complete"
        assert "waiting for the complete reply" not in visible_text(app)


# --- estimates and assumptions --------------------------------------------------------------


async def test_an_assumed_context_length_is_marked(server: LoopbackServer) -> None:
    """No card from the server: the built-in card's 200k is glmtui's assumption."""
    server.set_default(JsonReply(404, {"error": {"message": "no such route"}}), path="/models")
    server.enqueue(
        stream_of(["ok"], usage={"prompt_tokens": 165_000, "completion_tokens": 5}),
    )
    server.enqueue(JsonReply(404, {"error": {"message": "no"}}), path="/models/zai-org-glm-5")
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "big")
        await settle(pilot)
        status = status_line(app)
        assert "83% of ~200k ⚠" in status  # assumed, and still warns


async def test_a_reported_context_length_is_not_marked(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        assert re.search(r"\d+% of 200k", status_line(app))
        assert "~200k" not in status_line(app)


async def test_estimated_speeds_carry_a_tilde(server: LoopbackServer) -> None:
    """While a reply streams its counts are estimates (usage comes at the end): the speed is
    one too, in the status bar and in the reply's header."""
    server.default_tokens, server.default_rate = 400, 40.0
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "a long one")
        reply = await live_reply(pilot)
        await until(pilot, lambda: "tok/s" in status_line(app), within=60)
        assert re.search(r"~[\d,]+ tok/s", status_line(app))
        await until(pilot, lambda: "tok/s" in reply._meta_text(), within=60)
        assert re.search(r"~[\d,]+ tok/s", reply._meta_text())
        await pilot.press("escape")
        await settle(pilot)


def test_costs_from_estimated_counts_are_marked() -> None:
    info = StatusInfo(model="GLM-5", cost=0.0123, cost_estimated=True)
    assert "~$0.0123" in render_status(info).plain
    assert "~" not in render_status(StatusInfo(model="GLM-5", cost=0.0123)).plain


async def test_a_cost_from_estimated_usage_is_marked(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["no usage here"], usage=None))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        assert re.search(r"~\$\d", status_line(app))


# --- the status bar fits -------------------------------------------------------------------


FULL = StatusInfo(
    model="GLM-5",
    note="⚠ not saved",
    streaming=True,
    time_to_first_token=0.52,
    tokens_per_second=48.0,
    prompt_tokens=12_345,
    completion_tokens=678,
    reasoning_tokens=120,
    estimated=True,
    context=ContextUse(24_000, 200_000, estimated=True),
    cost=0.0123,
)


@pytest.mark.parametrize("width", [200, 120, 100, 80, 70, 60, 50, 40, 30, 20, 12])
def test_the_status_line_fits_any_width(width: int) -> None:
    text = render_status(FULL, width=width)
    assert text.cell_len <= width
    plain = text.plain
    assert plain.startswith("GLM-5")
    if width >= 50:
        assert "not saved" in plain  # a note is never dropped while there is room for it
        assert "12% of 200k" in plain  # the share of the context and its size
        assert "$0.0123" in plain
    if width >= 30:
        assert "~12%" in plain


def test_the_least_useful_parts_go_first() -> None:
    full = render_status(FULL).plain
    assert all(part in full for part in ("TTFT", "thinking", "▰", "tok/s", "in ~", "$"))
    widths = range(len(full), 10, -1)
    gone = {}
    for width in widths:
        plain = render_status(FULL, width=width).plain
        for part in ("TTFT", "thinking", "▰", "tok/s", "in ~", "$"):
            if part not in plain:
                gone.setdefault(part, width)
    order = sorted(gone, key=lambda part: -gone[part])
    assert order == ["TTFT", "thinking", "▰", "tok/s", "in ~", "$"]


def test_a_context_warning_is_never_dropped() -> None:
    """At the narrowest, a long model name gives way to the warning, not the other way."""
    info = StatusInfo(
        model="Llama 3.2 3B Instruct",
        cost=1.5,
        prompt_tokens=190_000,
        completion_tokens=10,
        context=ContextUse(190_000, 200_000, estimated=False),
    )
    for width in (30, 24, 20):
        text = render_status(info, width=width)
        assert text.cell_len <= width
        assert text.plain.startswith("Llama")
        assert text.plain.endswith("ctx 95% ⚠")


def test_no_fitting_without_a_width() -> None:
    assert render_status(FULL).plain == render_status(FULL, width=None).plain
    assert isinstance(render_status(FULL), Text)


@pytest.mark.parametrize("width", [120, 140, 160])
async def test_the_status_bar_beside_the_sidebar_shows_cost_and_context(
    server: LoopbackServer, width: int
) -> None:
    """While a reply streams the bar has the most to say (time to first token, speed, counts,
    the gauge, the cost so far); beside a docked sidebar it is ~80 cells of a 120-column
    terminal, and the share of the context and the cost stay in view."""
    server.default_tokens, server.default_rate = 400, 20.0
    session = sample_session()
    session.base_url = server.base_url
    app = make_app(server, session=session)
    async with app.run_test(size=(width, 40)) as pilot:
        await sidebar_ready(pilot)
        await send(pilot, "and another thing")
        bar = chat(app).query_one(StatusBar)
        await until(pilot, lambda: bar.info is not None and bar.info.tokens_per_second is not None)
        await pilot.pause()  # drawn
        assert chat(app).query_one("#sidebar").display
        status = visible_text(app).splitlines()[-2]
        assert bar.info is not None
        assert bar.info.streaming
        assert bar.info.cost is not None
        assert re.search(r"\d+% of 200k", status)
        assert "$" in status
        await pilot.press("escape")
        await settle(pilot)


# --- Ctrl+B ---------------------------------------------------------------------------------


async def test_ctrl_b_first_focuses_the_docked_sidebar(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        sidebar = await sidebar_ready(pilot)
        screen = chat(app)
        assert screen.query_one(Composer).has_focus
        await pilot.press("ctrl+b")
        await until(pilot, lambda: sidebar.has_focus_within)
        assert sidebar.display  # focused, not hidden
        await pilot.press("ctrl+b")  # from the sidebar: hide it, back to the composer
        await until(pilot, lambda: not sidebar.display)
        assert screen.query_one(Composer).has_focus
        await pilot.press("ctrl+b")  # hidden: show it, and go there
        await until(pilot, lambda: sidebar.display and sidebar.has_focus_within)


async def test_ctrl_b_in_a_narrow_terminal_opens_the_overlay(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(80, 30)) as pilot:
        await chat_opened(pilot)
        await pilot.press("ctrl+b")
        await until(pilot, lambda: not isinstance(app.screen, ChatScreen))
        assert app.screen.query_one(ParameterSidebar).has_focus_within
        await pilot.press("escape")
