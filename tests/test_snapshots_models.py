"""How the model-info screen and the catalogue look: GLM-5 live at 120x40 and 80x24, offline
from the cache, the built-in card with no key, and the catalogue.

Each test's docstring says what you should see in its SVG under tests/__snapshots__/. The
clock is fixed (fetched 14:30 UTC) and the cursor does not blink, so every run draws the same
frame.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.api.errors import ApiError, NetworkError, missing_key_error
from glmtui.chat.catalog import ModelCatalog
from glmtui.ui.screens.catalogue import CatalogueScreen
from glmtui.ui.screens.model_info import ModelInfoScreen
from tests.conftest import FAKE_KEY
from tests.server import WIDE_CATALOGUE, JsonReply, LoopbackServer
from tests.ui_helpers import FIXED_TIME, make_app, settle, until

SIZES = [(120, 40), (80, 24)]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("glmtui.domain.utc_now", lambda: FIXED_TIME)


def live_catalog(server: LoopbackServer, cache: Path) -> ModelCatalog:
    return ModelCatalog(
        lambda: ChatClient(server.base_url, FAKE_KEY, retry=RetryPolicy(max_retries=0)),
        cache,
        label="127.0.0.1",
    )


def failing_catalog(cache: Path, error: ApiError) -> ModelCatalog:
    """A catalogue whose provider always fails with ``error`` (a fixed message, no port)."""

    def factory() -> ChatClient:
        raise error

    return ModelCatalog(factory, cache, label="hub.oxen.ai")


def showing(screen: ModelInfoScreen | CatalogueScreen):  # type: ignore[no-untyped-def]
    """A ``run_before`` that opens ``screen`` over the chat and waits until it is drawn."""

    async def run_before(pilot: Pilot[int]) -> None:
        await until(pilot, lambda: pilot.app.screen.__class__.__name__ == "ChatScreen")
        await settle(pilot)
        pilot.app.push_screen(screen)
        await until(pilot, lambda: screen.result is not None)
        await settle(pilot)  # the loading worker waits for the description's Markdown

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_glm5_info_live(
    snap_compare, server: LoopbackServer, tmp_path: Path, size: tuple[int, int]
) -> None:
    """You should see "◆ glmtui — Model · GLM-5", a green "● Live from 127.0.0.1 · fetched
    14:30", then "GLM-5  zai-org-glm-5  ● current model", the italic summary, and Facts:
    Developer Z.ai, Released 2026-02-11, Input/Output text, Context length 200,000 tokens, Max
    output not stated, prices $1.00 / 1M and $3.20 / 1M tokens, Parameters 744 billion, Mixture
    of Experts yes, Active parameters 40 billion, Precision NVFP4, Multilingual yes. At 120
    columns the Description (a paragraph and the metric table) sits to the right of the facts
    and "Request parameters" follows below; at 80 columns everything stacks and scrolls. The
    footer offers Back, Use this model, Refresh and Raw JSON."""
    screen = ModelInfoScreen(
        live_catalog(server, tmp_path), "zai-org-glm-5", current_model="zai-org-glm-5"
    )
    assert snap_compare(make_app(server), terminal_size=size, run_before=showing(screen))


def test_glm5_info_offline_from_cache(
    snap_compare, server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """You should see the same GLM-5 details (prices included), under an amber line "◐ Cached
    copy, fetched 2 h ago — offline: Could not connect to hub.oxen.ai: connection refused."."""
    import asyncio

    monkeypatch.setattr("glmtui.domain.utc_now", lambda: FIXED_TIME - timedelta(hours=2))
    asyncio.run(live_catalog(server, tmp_path).card("zai-org-glm-5"))
    monkeypatch.setattr("glmtui.domain.utc_now", lambda: FIXED_TIME)
    offline = NetworkError("Could not connect to hub.oxen.ai: connection refused.")
    screen = ModelInfoScreen(failing_catalog(tmp_path, offline), "zai-org-glm-5")
    app = make_app(server)
    assert snap_compare(app, terminal_size=(120, 40), run_before=showing(screen))


def test_glm5_info_builtin_without_key(
    snap_compare, server: LoopbackServer, tmp_path: Path
) -> None:
    """You should see an amber "○ Built-in card shipped with glmtui — No API key found." line,
    then GLM-5's facts with the context length "~200,000 tokens (assumed)", prices "unknown
    (built-in card)", "744 billion", "40 billion" and "NVFP4"."""
    screen = ModelInfoScreen(
        failing_catalog(tmp_path, missing_key_error("OXEN_API_KEY")), "zai-org-glm-5"
    )
    assert snap_compare(make_app(server), terminal_size=(80, 24), run_before=showing(screen))


def test_catalogue(snap_compare, server: LoopbackServer, tmp_path: Path) -> None:
    """You should see a search box, the filters "Any developer", "Any input" and a ticked
    "Chat models only", a green "● 3 of 4 models · Live from 127.0.0.1 · fetched 14:30", and
    a table (Id, Name, Developer, Input, Context, $/1M in, $/1M out) listing GLM-5 (marked ●,
    highlighted), Llama 3.2 3B Instruct and Qwen3 VL 32B Instruct (text, image); the image
    model is filtered out."""
    server.set_default(JsonReply(200, WIDE_CATALOGUE), path="/models")
    screen = CatalogueScreen(live_catalog(server, tmp_path), "zai-org-glm-5")
    assert snap_compare(make_app(server), terminal_size=(120, 40), run_before=showing(screen))
