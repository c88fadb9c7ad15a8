"""How the chat and first-run screens look, at 120x40 and 80x24.

Each test's docstring says what you should see in its SVG under tests/__snapshots__/.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot

from glmtui.ui.app import GlmApp
from tests.server import JsonReply, LoopbackServer
from tests.ui_helpers import FIXED_TIME, make_app, sample_session, send, settle

SIZES = [(120, 40), (80, 24)]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("glmtui.domain.utc_now", lambda: FIXED_TIME)


async def settled(pilot: Pilot[int]) -> None:
    """Wait for workers (the test app's cursors do not blink: every run draws one frame)."""
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_empty_chat(snap_compare, server: LoopbackServer, size: tuple[int, int]) -> None:
    """You should see the header (glmtui, model, "New chat"), an empty conversation, the composer
    with its placeholder, the status bar (GLM-5, an empty context gauge of 200k) and the footer
    with Send, New line, Regenerate (dimmed), New chat, Help and Quit."""
    assert snap_compare(make_app(server), terminal_size=size, run_before=settled)


@pytest.mark.parametrize("size", SIZES)
def test_finished_exchange(snap_compare, server: LoopbackServer, size: tuple[int, int]) -> None:
    """You should see the user's prompt shown literally (with its square brackets), then the
    reply: a folded "Reasoning · 13 words" line, a highlighted Python block, a bullet list, a
    table and a bash block; the status bar shows in 21 · out 96 (thinking 18) and a cost."""
    app = make_app(server, session=sample_session())
    assert snap_compare(app, terminal_size=size, run_before=settled)


@pytest.mark.parametrize("size", SIZES)
def test_error_with_retry(snap_compare, server: LoopbackServer, size: tuple[int, int]) -> None:
    """You should see the prompt, then a reply with only a red line "⚠ The server failed (500
    Internal Server Error): upstream exploded. …" and a Retry button at its right."""
    server.enqueue(JsonReply(500, {"error": {"message": "upstream exploded"}}))

    async def run_before(pilot: Pilot[int]) -> None:
        await send(pilot, "Why is the sky blue?")
        await settled(pilot)

    assert snap_compare(make_app(server), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_first_run(snap_compare, size: tuple[int, int]) -> None:
    """You should see a centred "Welcome to glmtui" panel: where to get an Oxen key (its
    address, https://www.oxen.ai/settings/profile, written out), where it is saved (mode
    0600), a masked key field, and buttons "Save key and start", "Try the offline demo" and
    "Quit"."""
    app = make_app(None)
    app.settings = replace(
        app.settings,
        demo=False,
        config_path=Path("/home/you/.config/glmtui/config.toml"),
    )
    assert isinstance(app, GlmApp)
    assert snap_compare(app, terminal_size=size, run_before=settled)
