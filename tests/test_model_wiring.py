"""The model screens from the chat: F3 shows the current model, F4 the catalogue, "use" switches
the chat (request, sidebar limits, context gauge), and ``--model-info ID`` starts on a model."""

from __future__ import annotations

from textual.widgets import Input

from glmtui.ui.screens.catalogue import CatalogueScreen
from glmtui.ui.screens.model_info import ModelInfoScreen
from tests.server import WIDE_CATALOGUE, JsonReply, LoopbackServer
from tests.ui_helpers import chat, make_app, send, settle, sidebar_ready, until, visible_text

SIZE = (120, 40)


async def test_f3_shows_the_current_model(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ModelInfoScreen))
        info = app.screen
        await until(pilot, lambda: info.result is not None)  # type: ignore[attr-defined]
        await pilot.pause()
        text = visible_text(app)
        assert "zai-org-glm-5" in text
        assert "200,000 tokens" in text
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is chat(app))
        assert chat(app).session.model == "zai-org-glm-5"


async def test_use_a_model_from_the_catalogue(server: LoopbackServer) -> None:
    server.set_default(JsonReply(200, WIDE_CATALOGUE), path="/models")
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, CatalogueScreen))
        catalogue = app.screen
        await until(pilot, lambda: catalogue.result is not None)  # type: ignore[attr-defined]
        await pilot.press("slash", *"llama", "enter")
        await pilot.press("u")
        screen = chat(app)
        await until(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert screen.session.model == "meta-llama-3.2-3b-instruct"
        await sidebar_ready(pilot)
        assert screen.query_one("#sidebar #model", Input).value == "meta-llama-3.2-3b-instruct"
        assert screen.context_limit == 128_000  # the gauge uses the new model's context
        assert "128k" in visible_text(app)
        await send(pilot, "hi")
        await settle(pilot)
    assert server.chat_requests[-1].json()["model"] == "meta-llama-3.2-3b-instruct"


async def test_model_info_on_start(server: LoopbackServer) -> None:
    app = make_app(server)
    app._model_info = "zai-org-glm-5"  # what `glmtui --model-info zai-org-glm-5` passes
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ModelInfoScreen))
        info = app.screen
        await until(pilot, lambda: info.result is not None)  # type: ignore[attr-defined]
        assert info.model_id == "zai-org-glm-5"  # type: ignore[attr-defined]


def test_model_info_flag_is_parsed() -> None:
    from glmtui.cli import build_parser

    args = build_parser().parse_args(["--model-info", "zai-org-glm-5"])
    assert args.model_info == "zai-org-glm-5"
