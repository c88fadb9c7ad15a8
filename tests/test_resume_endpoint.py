"""A session goes back to the server it talked to, and a key goes only where it is configured.

A chat held with a local model (``--base-url http://127.0.0.1:8000/v1``) was once saved as
provider ``oxen`` with no URL; resumed, the whole conversation went to hub.oxen.ai with the
Oxen key. Here two loopback servers play "the configured server" and "the server the session
was held with"; each records what reached it, headers included.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from textual.widgets import Select

from glmtui.chat.endpoints import (
    DEMO_PROVIDER,
    DEMO_URL,
    Route,
    profile_url,
    public_url,
    route_session,
    session_endpoint,
)
from glmtui.config import BUILTIN_PROVIDERS, ProviderProfile, Settings, load_settings
from glmtui.domain import Message, Session
from glmtui.store import SessionStore
from glmtui.ui.app import GlmApp
from glmtui.ui.screens.chat import ChatScreen
from glmtui.ui.screens.prompt import ChoiceScreen
from glmtui.ui.widgets.composer import Composer
from tests.conftest import FAKE_KEY
from tests.server import LoopbackServer
from tests.ui_helpers import (
    Notices,
    chat,
    chat_opened,
    make_app,
    send,
    settings_for,
    settle,
    sidebar_ready,
    until,
    visible_text,
)

SIZE = (120, 40)
OTHER_KEY = "sk-other-profile-key-4242"


@pytest.fixture
def recorded() -> Iterator[LoopbackServer]:
    """The server a saved session was held with (another one than the configured)."""
    with LoopbackServer() as srv:
        yield srv


def held_with(url: str, provider: str = "oxen") -> Session:
    """A saved exchange that was held with the server at ``url``."""
    return Session(
        id="held",
        title="A private chat",
        provider=provider,
        base_url=url,
        messages=[
            Message("user", "my secret plan"),
            Message("assistant", "noted", status="complete", model="zai-org-glm-5"),
        ],
    )


def no_key_sent(server: LoopbackServer) -> bool:
    return all("authorization" not in request.headers for request in server.requests)


# --- the decision, without a UI -----------------------------------------------------------


def test_public_url_drops_credentials_and_trailing_slash() -> None:
    assert public_url("http://user:pw@gpu-box:8000/v1/") == "http://gpu-box:8000/v1"
    assert public_url("https://hub.oxen.ai/api/ai?key=abc#x") == "https://hub.oxen.ai/api/ai"
    assert public_url(" https://api.z.ai/api/paas/v4 ") == "https://api.z.ai/api/paas/v4"


def test_a_new_session_records_the_url_really_used() -> None:
    settings = load_settings()
    assert session_endpoint(settings) == ("oxen", "https://hub.oxen.ai/api/ai")
    local = replace(settings, base_url="http://127.0.0.1:8000/v1")  # --base-url
    assert session_endpoint(local) == ("oxen", "http://127.0.0.1:8000/v1")
    assert session_endpoint(replace(settings, demo=True)) == (DEMO_PROVIDER, DEMO_URL)


def test_the_demo_url_is_the_demo_clients() -> None:
    from glmtui.api.demo import DEMO_BASE_URL

    assert DEMO_URL == DEMO_BASE_URL


def settings_with(**profiles: ProviderProfile) -> Settings:
    settings = load_settings()
    return replace(settings, providers={**BUILTIN_PROVIDERS, **profiles})


@pytest.mark.parametrize(
    ("provider", "url", "expected"),
    [
        # Its own profile still sends there.
        ("vllm", "http://localhost:8000/v1", Route("vllm", "http://localhost:8000/v1")),
        ("vllm", "http://localhost:8000/v1/", Route("vllm", "http://localhost:8000/v1")),
        # Another profile sends there now: that one (with its own key), not the recorded one.
        ("oxen", "http://gpu-box:8000/v1", Route("gpu", "http://gpu-box:8000/v1")),
        # Its profile's URL changed: ask, offering the profile's new URL.
        (
            "vllm",
            "http://old-box:8000/v1",
            Route("vllm", "http://localhost:8000/v1", recorded="http://old-box:8000/v1"),
        ),
        # Its profile is gone and nothing sends there: ask, offering the active profile.
        (
            "gone",
            "http://127.0.0.1:9/v1",
            Route("oxen", "https://hub.oxen.ai/api/ai", recorded="http://127.0.0.1:9/v1"),
        ),
        # Schema 1 (no URL recorded): as before, its profile's URL, else the active profile.
        ("vllm", "", Route("vllm", "http://localhost:8000/v1")),
        ("gone", "", Route("oxen", "https://hub.oxen.ai/api/ai")),
        # A session saved from the demo stays in the demo.
        (DEMO_PROVIDER, DEMO_URL, Route(DEMO_PROVIDER, DEMO_URL)),
    ],
)
def test_route_session(provider: str, url: str, expected: Route) -> None:
    gpu = ProviderProfile("gpu", "http://gpu-box:8000/v1", "glm", "GPU_KEY")
    assert route_session(settings_with(gpu=gpu), provider, url) == expected


def test_the_active_profile_sends_where_the_run_says() -> None:
    settings = replace(load_settings(), base_url="http://127.0.0.1:8000/v1")
    assert profile_url(settings, "oxen") == "http://127.0.0.1:8000/v1"
    assert route_session(settings, "oxen", "http://127.0.0.1:8000/v1").configured
    moved = route_session(settings, "oxen", "https://hub.oxen.ai/api/ai")
    assert moved.recorded == "https://hub.oxen.ai/api/ai"  # a plain `glmtui` run's chat
    assert route_session(replace(settings, demo=True), "oxen", "http://x/v1").provider == "demo"


# --- new sessions and the sidebar ---------------------------------------------------------


async def test_a_new_session_is_saved_with_its_provider_and_url(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        session = chat(app).session
    assert (session.provider, session.base_url) == ("oxen", server.base_url)
    saved = SessionStore.from_settings(load_settings()).load(session.id)
    assert (saved.provider, saved.base_url) == ("oxen", server.base_url)


async def test_changing_provider_in_the_sidebar_moves_the_session(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        sidebar = await sidebar_ready(pilot)
        screen = chat(app)
        sidebar.query_one("#provider", Select).value = "vllm"
        await until(pilot, lambda: screen.session.provider == "vllm")
        assert screen.session.base_url == "http://localhost:8000/v1"
        sidebar.query_one("#provider", Select).value = "oxen"
        await until(pilot, lambda: screen.session.provider == "oxen")
        assert screen.session.base_url == server.base_url  # where oxen sends in this run
        await settle(pilot)


# --- resuming ------------------------------------------------------------------------------


async def test_a_session_resumes_with_the_server_it_used(server: LoopbackServer) -> None:
    """Recorded URL = the configured one: sent there with the key, nothing asked."""
    app = make_app(server, session=held_with(server.base_url))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "go on")
        await settle(pilot)
        assert not isinstance(app.screen, ChoiceScreen)
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


async def test_a_schema_1_session_behaves_as_before(server: LoopbackServer) -> None:
    app = make_app(server, session=held_with(""))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "go on")
        await settle(pilot)
        assert not isinstance(app.screen, ChoiceScreen)
    assert len(server.chat_requests) == 1


async def ask_on_send(app: GlmApp, pilot: object) -> ChoiceScreen:
    """Send a prompt in a session whose server is not configured: the question it raises."""
    await send(pilot, "continue my secret plan")  # type: ignore[arg-type]
    await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))  # type: ignore[arg-type]
    dialog = app.screen
    assert isinstance(dialog, ChoiceScreen)
    return dialog


async def test_an_unconfigured_server_is_asked_about_before_anything_is_sent(
    server: LoopbackServer, recorded: LoopbackServer
) -> None:
    app = make_app(server, session=held_with(recorded.base_url))
    notices = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await chat_opened(pilot)
        await until(pilot, lambda: "no provider profile sends" in notices.text)
        dialog = await ask_on_send(app, pilot)
        text = visible_text(app)
        assert recorded.base_url in text
        assert server.base_url in text
        assert [value for value, _ in dialog.choices] == ["recorded", "current", "cancel"]
        await settle(pilot)
        assert server.requests == []
        assert recorded.requests == []
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        screen = chat(app)
        assert screen.query_one(Composer).text == "continue my secret plan"  # the draft stays
        assert len(screen.session.messages) == 2
        await settle(pilot)
    assert server.requests == []
    assert recorded.requests == []


async def test_sending_to_the_recorded_server_sends_no_key(
    server: LoopbackServer, recorded: LoopbackServer
) -> None:
    app = make_app(server, session=held_with(recorded.base_url))
    async with app.run_test(size=SIZE) as pilot:
        await ask_on_send(app, pilot)
        await pilot.press("1")
        await until(pilot, lambda: len(chat(app).session.messages) == 4)
        await settle(pilot)
        screen = chat(app)
        assert screen.session.messages[-1].status == "complete"
        assert screen.session.base_url == recorded.base_url  # the session stays as it was
        await send(pilot, "and again")  # agreed once for this session: not asked again
        await settle(pilot)
        assert isinstance(app.screen, ChatScreen)
    assert len(recorded.chat_requests) == 2
    assert no_key_sent(recorded)
    assert server.requests == []  # the configured server never saw the conversation


async def test_sending_to_the_current_server_updates_the_session(
    server: LoopbackServer, recorded: LoopbackServer
) -> None:
    app = make_app(server, session=held_with(recorded.base_url))
    async with app.run_test(size=SIZE) as pilot:
        await ask_on_send(app, pilot)
        await pilot.press("2")
        await until(pilot, lambda: len(chat(app).session.messages) == 4)
        await settle(pilot)
        session = chat(app).session
    assert (session.provider, session.base_url) == ("oxen", server.base_url)
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert recorded.requests == []
    saved = SessionStore.from_settings(load_settings()).load(session.id)
    assert saved.base_url == server.base_url


async def test_a_session_opened_from_the_browser_is_asked_about_too(
    server: LoopbackServer, recorded: LoopbackServer
) -> None:
    store = SessionStore.from_settings(load_settings())
    store.save(held_with(recorded.base_url))
    store.close()
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        await screen.open_session("held")
        await ask_on_send(app, pilot)
        await pilot.press("escape")
        await settle(pilot)
    assert server.requests == []
    assert recorded.requests == []


@pytest.mark.parametrize("action", ["regenerate", "compare"])
async def test_regenerate_and_compare_ask_first(
    server: LoopbackServer, recorded: LoopbackServer, action: str
) -> None:
    app = make_app(server, session=held_with(recorded.base_url))
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        if action == "regenerate":
            await screen.action_regenerate()
        else:
            screen.action_compare()
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("escape")
        await settle(pilot)
        assert len(screen.session.messages) == 2  # the reply was not thrown away
        assert screen.session.messages[-1].content == "noted"
    assert server.requests == []
    assert recorded.requests == []


async def test_another_profile_for_that_server_sends_with_its_own_key(
    server: LoopbackServer, recorded: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorded URL is another profile's: that profile's key goes there, never Oxen's."""
    monkeypatch.setenv("LOCAL_KEY", OTHER_KEY)
    local = ProviderProfile("local", recorded.base_url, "zai-org-glm-5", "LOCAL_KEY")
    settings = settings_for(server)
    settings = replace(settings, providers={**settings.providers, "local": local})
    app = make_app(server, session=held_with(recorded.base_url), providers=settings.providers)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "go on")
        await settle(pilot)
        assert not isinstance(app.screen, ChoiceScreen)
    assert recorded.chat_requests[0].headers["authorization"] == f"Bearer {OTHER_KEY}"
    assert all(FAKE_KEY not in str(request.headers) for request in recorded.requests)
    assert server.requests == []


def test_a_key_goes_only_where_its_profile_sends(server: LoopbackServer) -> None:
    """The app's client factory: any other URL gets a client without a key."""
    app = make_app(server)
    configured = app.client_for("oxen", server.base_url)
    elsewhere = app.client_for("oxen", "http://127.0.0.1:9/v1")
    assert configured is app.client
    assert elsewhere is not configured
    assert "api_key=None" in repr(elsewhere)
    assert elsewhere.base_url == "http://127.0.0.1:9/v1"
    assert app.client_for("oxen", "http://127.0.0.1:9/v1/") is elsewhere  # one per endpoint


# --- the demo --------------------------------------------------------------------------------


async def test_demo_sessions_are_saved_as_the_demo() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await settle(pilot)
        session = chat(app).session
    assert (session.provider, session.base_url) == (DEMO_PROVIDER, DEMO_URL)
    saved = SessionStore.from_settings(load_settings()).load(session.id)
    assert saved.provider == DEMO_PROVIDER


async def test_a_demo_session_resumed_for_real_stays_offline(server: LoopbackServer) -> None:
    session = held_with(DEMO_URL, provider=DEMO_PROVIDER)
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "more")
        await settle(pilot)
        screen = chat(app)
        assert "offline demo" in screen.session.messages[-1].content
        assert "(demo)" in visible_text(app).splitlines()[-2]
    assert server.requests == []


async def test_the_request_preview_shows_where_it_would_go(
    server: LoopbackServer, recorded: LoopbackServer
) -> None:
    """Before the user chooses, the preview names the recorded server, and no key for it."""
    app = make_app(server, session=held_with(recorded.base_url))
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        curl = screen.request_texts()["curl"]
        assert f"{recorded.base_url}/chat/completions" in curl
        assert "Authorization" not in curl
        await settle(pilot)


@pytest.mark.parametrize("where", ["unconfigured", "demo"])
async def test_a_new_chat_goes_to_the_configured_server(
    server: LoopbackServer, recorded: LoopbackServer, where: str
) -> None:
    """From a session whose server waits for a choice, or one saved from the demo, Ctrl+N
    starts a chat with the configured provider: nothing to ask, nothing canned."""
    if where == "demo":
        session = held_with(DEMO_URL, provider=DEMO_PROVIDER)
    else:
        session = held_with(recorded.base_url)
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        screen = await chat_opened(pilot)
        await screen.action_new_chat()
        assert (screen.session.provider, screen.session.base_url) == ("oxen", server.base_url)
        await send(pilot, "fresh start")
        await settle(pilot)
        assert isinstance(app.screen, ChatScreen)
    assert len(server.chat_requests) == 1
    assert recorded.requests == []
