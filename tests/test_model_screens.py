"""The model-info and catalogue screens, driven with Pilot inside the real app.

The screens are pushed on top of the chat screen the way the chat screen will push them, and
their dismiss results are recorded: the id of the model to use, or None.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.api.errors import NetworkError
from glmtui.chat.catalog import ModelCatalog
from glmtui.ui.app import GlmApp
from glmtui.ui.screens.catalogue import CatalogueScreen
from glmtui.ui.screens.model_info import ModelInfoScreen
from tests.conftest import FAKE_KEY
from tests.server import GLM5_MODEL, WIDE_CATALOGUE, JsonReply, LoopbackServer
from tests.ui_helpers import make_app, until, visible_text


def catalog_for(server: LoopbackServer, cache: Path) -> ModelCatalog:
    return ModelCatalog(
        lambda: ChatClient(server.base_url, FAKE_KEY, retry=RetryPolicy(max_retries=0)),
        cache,
        label="loopback",
    )


def offline_catalog(cache: Path) -> ModelCatalog:
    def unreachable() -> ChatClient:
        raise NetworkError("Could not connect to hub.oxen.ai: connection refused.")

    return ModelCatalog(unreachable, cache, label="hub.oxen.ai")


async def open_screen(
    pilot: Pilot[int], screen: ModelInfoScreen | CatalogueScreen, results: list[str | None]
) -> None:
    """Push ``screen`` over the chat and wait until it has shown its first answer."""
    await until(pilot, lambda: pilot.app.screen.__class__.__name__ == "ChatScreen")
    pilot.app.push_screen(screen, results.append)
    await until(pilot, lambda: screen.result is not None)
    await pilot.pause()


def source_line(screen: ModelInfoScreen | CatalogueScreen) -> str:
    selector = "#info-source" if isinstance(screen, ModelInfoScreen) else "#catalogue-status"
    return str(screen.query_one(selector, Static).render())


async def test_catalogue_search_then_info_then_use(server: LoopbackServer, tmp_path: Path) -> None:
    """The whole journey: search the list, open a model's details, choose "use this model"."""
    server.set_default(JsonReply(200, WIDE_CATALOGUE), path="/models")
    app = make_app(server)
    results: list[str | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        catalogue = CatalogueScreen(catalog_for(server, tmp_path), "zai-org-glm-5")
        await open_screen(pilot, catalogue, results)
        assert [c.id for c in catalogue.shown] == [
            "zai-org-glm-5",
            "meta-llama-3.2-3b-instruct",
            "qwen-qwen3-vl-32b-instruct",
        ]  # chat models only: the image model is filtered out
        assert "3 of 4 models · Live from loopback" in source_line(catalogue)

        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"llama")
        assert [c.id for c in catalogue.shown] == ["meta-llama-3.2-3b-instruct"]
        await pilot.press("enter")  # search box → table
        assert isinstance(app.focused, DataTable)
        await pilot.press("enter")  # open the details
        await until(pilot, lambda: isinstance(app.screen, ModelInfoScreen))
        info = app.screen
        assert isinstance(info, ModelInfoScreen)
        await until(pilot, lambda: info.result is not None)
        await pilot.pause()
        text = visible_text(app)
        assert "Llama 3.2 3B Instruct  meta-llama-3.2-3b-instruct" in text
        assert "Context length      128,000 tokens" in text
        assert "Input price         $0.10 / 1M tokens" in text
        await pilot.press("u")
        await until(pilot, lambda: bool(results))
    assert results == ["meta-llama-3.2-3b-instruct"]
    # (The chat screen underneath fetched its own model's card first.)
    assert [r.path for r in server.requests if r.path.startswith("/models")][-2:] == [
        "/models",
        "/models/meta-llama-3.2-3b-instruct",
    ]


async def test_catalogue_filters_and_use_from_the_list(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.set_default(JsonReply(200, WIDE_CATALOGUE), path="/models")
    app = make_app(server)
    results: list[str | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = CatalogueScreen(catalog_for(server, tmp_path), "zai-org-glm-5")
        await open_screen(pilot, screen, results)
        await pilot.press("c")  # chat models only → off
        assert not screen.query_one("#filter-chat", Checkbox).value
        assert len(screen.shown) == 4
        screen.query_one("#filter-input", Select).value = "image"
        await pilot.pause()
        assert [c.id for c in screen.shown] == ["qwen-qwen3-vl-32b-instruct"]
        screen.query_one("#filter-input", Select).clear()
        screen.query_one("#filter-developer", Select).value = "Black Forest Labs"
        await pilot.pause()
        assert [c.id for c in screen.shown] == ["black-forest-labs-flux-1-dev"]
        screen.query_one("#filter-developer", Select).clear()
        await pilot.pause()
        assert screen.highlighted is not None
        assert screen.highlighted.id == "black-forest-labs-flux-1-dev"  # the highlight stays
        await pilot.press("up", "up", "u")
        await until(pilot, lambda: bool(results))
    assert results == ["meta-llama-3.2-3b-instruct"]


async def test_catalogue_escape_clears_the_search_then_closes(
    server: LoopbackServer, tmp_path: Path
) -> None:
    app = make_app(server)
    results: list[str | None] = []
    async with app.run_test(size=(100, 30)) as pilot:
        screen = CatalogueScreen(catalog_for(server, tmp_path), "zai-org-glm-5")
        await open_screen(pilot, screen, results)
        await pilot.press("slash", "x", "y", "z")
        assert screen.shown == []
        await pilot.press("escape")
        assert len(screen.shown) == 2
        await pilot.press("escape")
        await until(pilot, lambda: bool(results))
    assert results == [None]


async def test_catalogue_offline_shows_the_builtin_card(tmp_path: Path) -> None:
    app = make_app(None)
    results: list[str | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = CatalogueScreen(offline_catalog(tmp_path), "zai-org-glm-5")
        await open_screen(pilot, screen, results)
        assert [c.id for c in screen.shown] == ["zai-org-glm-5"]
        assert source_line(screen).startswith(
            "○ 1 model · Built-in card shipped with glmtui — offline: Could not connect"
        )


async def test_info_raw_json_refresh_and_back(server: LoopbackServer, tmp_path: Path) -> None:
    app = make_app(server)
    results: list[str | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = ModelInfoScreen(catalog_for(server, tmp_path), "zai-org-glm-5")
        await open_screen(pilot, screen, results)
        assert source_line(screen).startswith("● Live from loopback · fetched ")
        await pilot.press("j")
        assert '"display_name": "GLM-5",' in visible_text(app)
        server.enqueue(
            JsonReply(200, {**GLM5_MODEL, "max_output_tokens": 131072}),
            path="/models/zai-org-glm-5",
        )
        await pilot.press("escape")  # back from the JSON to the details, not out
        assert isinstance(app.screen, ModelInfoScreen)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Max output          131,072 tokens" in visible_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: bool(results))
    assert results == [None]


async def test_info_unknown_model_says_so(server: LoopbackServer, tmp_path: Path) -> None:
    app = make_app(server)
    results: list[str | None] = []
    async with app.run_test(size=(100, 30)) as pilot:
        screen = ModelInfoScreen(catalog_for(server, tmp_path), "no-such-model")
        await open_screen(pilot, screen, results)
        text = visible_text(app)
        assert "Model not found" in text
        assert "Model 'no-such-model' does not exist on this provider" in " ".join(text.split())
        await pilot.press("u")  # nothing to use: the binding is disabled
        await pilot.pause()
        assert results == []
        assert isinstance(app.screen, ModelInfoScreen)


async def test_info_rejected_key_says_the_key_is_wrong(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.enqueue(JsonReply(401, {"error": {"message": "bad key"}}), path="/models/other")
    app = make_app(server)
    results: list[str | None] = []
    async with app.run_test(size=(100, 30)) as pilot:
        screen = ModelInfoScreen(catalog_for(server, tmp_path), "other")
        await open_screen(pilot, screen, results)
        text = " ".join(visible_text(app).split())
        assert "No access" in text
        assert "The API key was rejected (401 Unauthorized): bad key." in text


async def test_info_offline_uses_the_cache_and_says_how_old(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    then = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    online = catalog_for(server, tmp_path)
    monkeypatch.setattr("glmtui.domain.utc_now", lambda: then)
    await online.card("zai-org-glm-5")
    monkeypatch.setattr("glmtui.domain.utc_now", lambda: then + timedelta(hours=2))
    app = make_app(server)
    results: list[str | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = ModelInfoScreen(offline_catalog(tmp_path), "zai-org-glm-5")
        await open_screen(pilot, screen, results)
        assert source_line(screen) == (
            "◐ Cached copy, fetched 2 h ago — offline: Could not connect to hub.oxen.ai: "
            "connection refused."
        )
        assert "$3.20 / 1M tokens" in visible_text(app)  # the cached prices, not the built-in
        await pilot.press("u")
        await until(pilot, lambda: bool(results))
    assert results == ["zai-org-glm-5"]


async def test_server_text_is_never_markup_nor_obeyed(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """Markup is shown as typed; escape sequences and bidi overrides are shown escaped."""
    sneaky = {
        **GLM5_MODEL,
        "id": "sneaky",
        "display_name": "GLM [bold]5[/bold]",
        "summary": "Costs [red]nothing[/red] \x1b[2J\x1b]0;pwned\x07 \u202eevil \x9b31m",
        "developer": {"name": "[link=x]Z[/link]"},
    }
    server.enqueue(JsonReply(200, sneaky), path="/models/sneaky")
    app: GlmApp = make_app(server)
    results: list[str | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = ModelInfoScreen(catalog_for(server, tmp_path), "sneaky")
        await open_screen(pilot, screen, results)
        text = visible_text(app)
        assert "GLM [bold]5[/bold]" in text
        assert "Costs [red]nothing[/red]" in text
        assert "[link=x]Z[/link]" in text
        assert "\\x1b[2J\\x1b]0;pwned\\x07 \\u202eevil \\x9b31m" in text
        assert not any(char in text for char in "\x1b\x07\u202e\x9b")
        await pilot.press("j")
        assert "\\u001b[2J" in visible_text(app)  # the raw JSON view escapes them too
