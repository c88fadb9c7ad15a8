"""First run without a key: explain, accept a pasted key (saved 0600), or go to the demo."""

from __future__ import annotations

import stat
from dataclasses import replace

from glmtui.api.errors import OXEN_KEY_URL
from glmtui.config import load_settings
from glmtui.ui.app import GlmApp
from glmtui.ui.screens.chat import ChatScreen
from glmtui.ui.screens.first_run import FirstRunScreen
from tests.server import JsonReply, LoopbackServer
from tests.ui_helpers import Notices, send, settings_for, settle, until, visible_text

SIZE = (100, 30)
NEW_KEY = "sk-pasted-key-XYZ-9876"


def keyless_app(server: LoopbackServer) -> GlmApp:
    settings = settings_for(server, api_key="")
    provider = replace(settings.provider, api_key_required=True)
    return GlmApp(replace(settings, provider=provider))


async def test_no_key_shows_first_run(server: LoopbackServer) -> None:
    app = keyless_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        text = visible_text(app)
        assert "oxen.ai" in text.lower()
        assert "Try the offline demo" in text


async def test_pasted_key_is_checked_saved_privately_and_used(server: LoopbackServer) -> None:
    app = keyless_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*NEW_KEY)
        assert NEW_KEY not in visible_text(app)  # never echoed
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        config = app.settings.config_path
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        assert load_settings().api_key == NEW_KEY
        assert server.requests[0].path == "/models"  # the check
        await send(pilot, "hi")
        await settle(pilot)
        assert server.chat_requests[0].headers["authorization"] == f"Bearer {NEW_KEY}"
        assert NEW_KEY not in visible_text(app)


async def test_rejected_key_is_not_saved(server: LoopbackServer) -> None:
    server.enqueue(JsonReply(401, {"error": {"message": "bad key"}}), path="/models")
    app = keyless_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*"sk-wrong-key-0000")
        await pilot.press("enter")
        await until(pilot, lambda: "rejected" in visible_text(app))
        assert isinstance(app.screen, FirstRunScreen)
        assert not app.settings.config_path.exists()


async def test_demo_choice(server: LoopbackServer) -> None:
    app = keyless_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert app.settings.demo
        await until(pilot, lambda: "Demo mode: replies are canned" in visible_text(app))
        assert "New chat with zai-org-glm-5" in visible_text(app)
        await send(pilot, "hello")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        assert "offline demo" in screen.session.messages[-1].content
        assert "Demo mode: replies are canned" not in visible_text(app)  # the chat took over
        assert server.chat_requests == []


async def test_quit_from_first_run(server: LoopbackServer) -> None:
    app = keyless_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.click("#quit")
        await pilot.pause()
    assert app.return_code == 0


async def test_the_address_for_a_key_is_shown_as_text(server: LoopbackServer) -> None:
    """Over SSH a link in the terminal is not clickable: the address itself is on screen."""
    app = keyless_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FirstRunScreen))
        await pilot.pause()
        assert OXEN_KEY_URL in visible_text(app)


async def save_key(app: GlmApp) -> Notices:
    """Paste :data:`NEW_KEY` and press Enter; what the user was told."""
    notices = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*NEW_KEY, "enter")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await until(pilot, lambda: "Key …9876" in notices.text)
        await settle(pilot)
    return notices


async def test_a_checked_key_says_who_checked_it(server: LoopbackServer) -> None:
    app = keyless_app(server)
    notices = await save_key(app)
    host = f"127.0.0.1:{server.port}"
    assert f"Key …9876 checked with {host} and saved to" in notices.text
    assert "not checked" not in notices.text
    assert load_settings().api_key == NEW_KEY


async def test_a_key_that_could_not_be_checked_is_saved_and_says_so(
    server: LoopbackServer, unused_port: int
) -> None:
    app = keyless_app(server)
    app.settings = replace(app.settings, base_url=f"http://127.0.0.1:{unused_port}/v1")
    notices = await save_key(app)
    host = f"127.0.0.1:{unused_port}"
    assert f"not checked: could not reach {host} (could not connect to {host}" in notices.text
    assert "connection refused" in notices.text
    assert "checked with" not in notices.text
    assert load_settings().api_key == NEW_KEY  # saved all the same: it may well be right


async def test_a_key_the_server_could_not_check_is_saved_and_says_so(
    server: LoopbackServer,
) -> None:
    server.set_default(JsonReply(503, {"error": {"message": "down for maintenance"}}), "/models")
    app = keyless_app(server)
    notices = await save_key(app)
    assert f"not checked: 127.0.0.1:{server.port} could not check it (" in notices.text
    assert "maintenance" in notices.text
    assert load_settings().api_key == NEW_KEY
