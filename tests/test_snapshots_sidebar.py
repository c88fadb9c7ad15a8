"""How the parameter sidebar, its overlay, the request preview and compare look.

Each test's docstring says what you should see in its SVG under tests/__snapshots__/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.server import LoopbackServer, stream_of
from tests.test_snapshots_chat import settled
from tests.ui_helpers import FIXED_TIME, chat, make_app, send, sidebar_ready, until


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("glmtui.domain.utc_now", lambda: FIXED_TIME)


async def _fill(pilot: Pilot[int], selector: str, text: str, *, commit: bool = True) -> None:
    if selector.startswith("#sidebar "):
        await sidebar_ready(pilot)
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)
    if commit:
        await pilot.press("enter")
    await pilot.pause()


def test_sidebar_with_a_bad_value(snap_compare, server: LoopbackServer) -> None:
    """At 120x40 you should see the sidebar docked at the right: Provider "oxen", Model
    zai-org-glm-5, a System prompt box, Temperature 0.3 with its hint, Top p "7" marked red with
    "✗ must be 0–1 — not sent", then Max tokens, penalties, Seed, Stop, Stream (on), JSON mode
    (off), and the Reset / Request… / Compare… buttons at the bottom (no reasoning control: the
    oxen profile has no switch, and GLM-5 no effort levels)."""

    async def run_before(pilot: Pilot[int]) -> None:
        await _fill(pilot, "#sidebar #temperature", "0.3")
        await _fill(pilot, "#sidebar #top_p", "7", commit=False)
        await settled(pilot)

    assert snap_compare(make_app(server), terminal_size=(120, 40), run_before=run_before)


def test_overlay_in_a_narrow_terminal(snap_compare, server: LoopbackServer) -> None:
    """At 80x24 the chat fills the screen and Ctrl+B lays the parameters over its right edge (40
    columns): the chat shows dimmed behind it, the footer offers "Close"."""

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.press("ctrl+b")
        from glmtui.ui.screens.parameters import ParametersScreen

        await until(pilot, lambda: isinstance(pilot.app.screen, ParametersScreen))
        await settled(pilot)

    assert snap_compare(make_app(server), terminal_size=(80, 24), run_before=run_before)


def test_request_preview(snap_compare, server: LoopbackServer) -> None:
    """You should see "Next request" with tabs cURL / Python / JSON, the cURL command with the
    URL http://gpu-box:8000/v1/chat/completions, "Authorization: Bearer $OXEN_API_KEY" (never
    the key), and a JSON body holding the composer's draft "What is a monad?" and temperature
    0.3; keys 1/2/3 switch, c copies."""

    async def run_before(pilot: Pilot[int]) -> None:
        await _fill(pilot, "#sidebar #temperature", "0.3")
        screen = chat(pilot.app)
        screen.query_one("#composer").text = "What is a monad?"  # type: ignore[attr-defined]
        screen.action_preview_request()
        await settled(pilot)

    app = make_app(server)  # the client talks to the loopback server; the preview shows
    app.settings = replace(app.settings, base_url="http://gpu-box:8000/v1")  # a fixed URL
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_compare_side_by_side(
    snap_compare, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """You should see two panes: on the left zai-org-glm-5's reply "Paris is the capital.", on
    the right the same model at temperature 0.2 with "Paris.", each with its tokens and time;
    the footer offers Copy, Copy code, "Keep left" (1), "Keep right" (2) and "Close" (no edit,
    regenerate, delete or fork: the panes are read-only). The right pane took 0.8 s."""
    from functools import partial

    from glmtui.domain.stats import TurnStats

    def clock() -> Iterator[float]:
        yield 0.0  # the request goes out; everything after happens 0.8 s later
        while True:
            yield 0.8

    def stats() -> TurnStats:
        return TurnStats(clock=partial(next, clock()))

    monkeypatch.setattr("glmtui.ui.screens.compare.TurnStats", stats)
    server.enqueue(stream_of(["Paris is the capital."], usage=True))
    server.enqueue(stream_of(["Paris."], usage=True))

    async def run_before(pilot: Pilot[int]) -> None:
        from glmtui.ui.screens.compare import CompareScreen

        await send(pilot, "Capital of France?")
        await settled(pilot)
        chat(pilot.app).action_compare()
        await pilot.pause()
        await pilot.press(*" temperature=0.2", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
        compare = pilot.app.screen
        await until(pilot, lambda: "right" in compare.results)  # type: ignore[attr-defined]
        await settled(pilot)

    assert snap_compare(make_app(server), terminal_size=(120, 40), run_before=run_before)


def test_sidebar_with_zai_limits_and_effort_levels(snap_compare, server: LoopbackServer) -> None:
    """At 120x48 you should see the sidebar of a zai chat with GLM-5.2: Temperature "0–1 for
    zai", Top p "0.01–1 for zai", the penalties and Seed greyed out, Frequency penalty's saved
    0.4 marked red "✗ not taken by zai — not sent", the other two "not taken by zai", "at most
    1 sequence for zai" under Stop, Stream on, JSON mode on, and Reasoning showing "effort max"
    with "sent as thinking_type · levels high, max (default max) · glmtui's GLM table" under
    it."""
    from glmtui.config import BUILTIN_PROVIDERS
    from glmtui.domain import Parameters, Session

    zai = replace(BUILTIN_PROVIDERS["zai"], base_url=server.base_url, model="glm-5.2")
    session = Session(
        model="glm-5.2",
        provider="zai",
        base_url=server.base_url,
        created_at=FIXED_TIME,
        updated_at=FIXED_TIME,
        parameters=Parameters(
            frequency_penalty=0.4, reasoning=True, reasoning_effort="max", json_mode=True
        ),
    )
    app = make_app(
        server,
        provider=zai,
        providers={**BUILTIN_PROVIDERS, "zai": zai},
        model="glm-5.2",
        session=session,
    )

    async def run_before(pilot: Pilot[int]) -> None:
        await sidebar_ready(pilot)
        await settled(pilot)

    assert snap_compare(app, terminal_size=(120, 48), run_before=run_before)
