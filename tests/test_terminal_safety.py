"""Escape sequences are shown, never obeyed.

``glmtui ask`` on a terminal shows a reply's escapes; into a pipe the reply goes out byte for
byte (it is data there, not a display). The full-screen app draws every string a user, a file
or a server supplies (theme names and files, model ids and names, session titles, profile
names, error bodies, notices, file names) with its control characters made visible.
"""

from __future__ import annotations

import html
import json
import os
import pty
import re
import select
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from glmtui.config import ConfigError, Overrides, ProviderProfile, load_settings
from glmtui.domain import Message, Parameters, Session
from glmtui.ui.app import GlmApp
from glmtui.ui.screens.code_picker import CodeBlockPicker
from glmtui.ui.screens.compare import CompareScreen, Contender
from glmtui.ui.screens.first_run import FirstRunScreen
from glmtui.ui.screens.prompt import PromptScreen
from tests.conftest import FAKE_KEY
from tests.server import GLM5_MODEL, JsonReply, LoopbackServer, stream_of
from tests.ui_helpers import (
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

HOSTILE = [
    "Title\x1b]0;pwned\x07 ",
    "clipboard\x1b]52;c;cm0gLXJmIH4=\x07 ",
    "clear\x1b[2J\x1b[H ",
    "csi\x9b31m ",
    "bidi\u202eevil ",
    "cr\rover ",
    "nul\x00 end",
]


def run_ask(server: LoopbackServer, *, terminal: bool) -> bytes:
    """Run ``glmtui ask`` as a real process; stdout is a pseudo-terminal or a pipe."""
    env = {**os.environ, "OXEN_API_KEY": FAKE_KEY, "PYTHONIOENCODING": "utf-8"}
    argv = [sys.executable, "-m", "glmtui", "ask", "--base-url", server.base_url, "hello"]
    if not terminal:
        done = subprocess.run(argv, env=env, capture_output=True, timeout=60, check=True)
        return done.stdout
    leader, follower = pty.openpty()
    process = subprocess.Popen(argv, env=env, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            process.kill()
            raise AssertionError("glmtui ask did not finish")
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal (EIO on Linux)
            break
        if not data:
            break
        output += data
    os.close(leader)
    assert process.wait(timeout=30) == 0
    return output


def test_ask_on_a_terminal_shows_escapes_instead_of_obeying_them(server: LoopbackServer) -> None:
    server.enqueue(stream_of(HOSTILE))
    shown = run_ask(server, terminal=True).decode("utf-8")
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\x00"):
        assert raw not in shown
    assert "\r" not in shown.replace("\r\n", "")  # the terminal's own line endings only
    assert "Title\\x1b]0;pwned\\x07" in shown
    assert "bidi\\u202eevil" in shown
    assert "cr\\x0dover" in shown


def test_ask_into_a_pipe_is_byte_exact(server: LoopbackServer) -> None:
    server.enqueue(stream_of(HOSTILE))
    assert run_ask(server, terminal=False).decode("utf-8") == "".join(HOSTILE)


# --- the full-screen app: every string a user, a file or a server supplies ------------------

EVIL = "evil\x1b]2;pwned\x07\u202e\x9b31m"
"""Sets the window title (OSC 2), reverses the text after it (bidi override) and starts a
colour sequence (C1 CSI): each must be drawn as visible symbols, none obeyed."""
SHOWN = "evil␛]2;pwned␇"
"""How the TUI draws the start of :data:`EVIL`."""
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# Textual's test harness shows no notices unless asked: these tests ask (notifications=True).


def drawn(app: App[Any]) -> str:
    """Every character on screen now, as the terminal would receive it (a screenshot's text)."""
    svg = app.export_screenshot()
    return "".join(html.unescape(text) for text in re.findall(r">([^<]*)</text>", svg))


def assert_shown_not_obeyed(app: App[Any], shown: str = SHOWN) -> None:
    text = drawn(app)
    assert not RAW.search(text), f"raw control characters reach the terminal: {text!r}"
    assert shown in visible_text(app)  # type: ignore[arg-type]


async def until_shown(pilot: Pilot[int], app: App[Any], shown: str = SHOWN) -> None:
    await until(pilot, lambda: shown in visible_text(app))  # type: ignore[arg-type]
    assert_shown_not_obeyed(app, shown)


def card_named(name: str, model_id: str = GLM5_MODEL["id"]) -> dict[str, Any]:
    return {**GLM5_MODEL, "id": model_id, "display_name": name}


def write_config(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("source", ["option", "environment", "config"])
def test_a_theme_name_with_controls_is_refused_where_it_enters(
    source: str, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--theme``, ``GLMTUI_THEME`` or the config's ``theme``: a name holding escape
    sequences is refused at once, named escaped in one line (it once retitled the window)."""
    overrides = Overrides(demo=True)
    if source == "option":
        overrides = Overrides(demo=True, theme=EVIL)
    elif source == "environment":
        monkeypatch.setenv("GLMTUI_THEME", EVIL)
    else:
        write_config(config_file, f"theme = {json.dumps(EVIL)}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(overrides)
    message = str(caught.value)
    assert "'theme' must not contain control characters" in message
    assert not RAW.search(message)


async def test_a_theme_name_that_got_past_the_config_is_shown_not_obeyed() -> None:
    """The app's own defence, for a name that did not come through the config: the notice
    that no such theme exists shows it as text."""
    settings = replace(
        load_settings(Overrides(demo=True)), theme=EVIL, cursor_blink=False, demo_pace=0
    )
    app = GlmApp(settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until_shown(pilot, app)


async def test_theme_files_are_shown_safely(config_file: Path) -> None:
    """A theme file's name, a key in it and its description (shown in the picker)."""
    themes = config_file.parent / "themes"
    themes.mkdir()
    (themes / f"{EVIL}.toml").write_text('name = "x"\nprimary = "#123456"\n', encoding="utf-8")
    key = json.dumps(EVIL)
    (themes / "bad-key.toml").write_text(
        f'name = "y"\nprimary = "#123456"\n{key} = 1\n', encoding="utf-8"
    )
    described = f'name = "shady"\nprimary = "#123456"\ndescription = {json.dumps(EVIL)}\n'
    (themes / "shady.toml").write_text(described, encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat_opened(pilot)
        await until_shown(pilot, app)  # the notice: both skipped files
        assert visible_text(app).count("␛]2;pwned") >= 2
        app.action_change_theme()
        await pilot.press(*"shady")
        await until_shown(pilot, app)  # the picker: the description


async def test_model_ids_and_names_from_the_server(server: LoopbackServer) -> None:
    """A card's name in the status bar, the reply's header, the composer and the title; a
    model id the user is offered (refused, in a notice)."""
    server.set_default(JsonReply(200, card_named(EVIL)), "/models/zai-org-glm-5")
    app = make_app(server)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await chat_opened(pilot)
        await send(pilot, "hi")
        await settle(pilot)
        assert screen.model_card is not None
        assert screen.model_card.name == EVIL
        await send(pilot, "again")  # a reply started once the card is known: named by it
        await settle(pilot)
        await until_shown(pilot, app)
        assert visible_text(app).count(SHOWN) >= 3  # header of the reply, composer, status bar
        screen.use_model(EVIL)
        await until(pilot, lambda: "control characters" in visible_text(app))
        assert_shown_not_obeyed(app)
        assert screen.session.model == "zai-org-glm-5"  # not switched to it


async def test_the_catalogue_and_model_info(server: LoopbackServer) -> None:
    server.set_default(JsonReply(200, {"object": "list", "data": [card_named(EVIL)]}), "/models")
    server.set_default(JsonReply(200, card_named(EVIL)), "/models/zai-org-glm-5")
    app = make_app(server)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await chat_opened(pilot)
        screen.action_models()
        await until(pilot, lambda: "pwned" in visible_text(app))
        assert not RAW.search(drawn(app))
        await pilot.press("escape")
        screen.action_model_info()
        await until(pilot, lambda: "pwned" in visible_text(app))
        assert not RAW.search(drawn(app))


async def test_a_session_title_in_the_header_and_the_rename_dialog(
    server: LoopbackServer,
) -> None:
    session = Session(title=EVIL, base_url=server.base_url)
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await chat_opened(pilot)
        await until_shown(pilot, app)  # the header
        screen.action_rename()
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.pause()
        assert_shown_not_obeyed(app)
        await pilot.press("enter")  # accepted as shown: the title is kept as it was
        await until(pilot, lambda: app.screen is screen)
        assert screen.session.title == EVIL


async def test_a_title_in_the_header_of_any_screen(server: LoopbackServer) -> None:
    """The app draws every screen's title line safely, whoever set it."""
    app = make_app(server)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await chat_opened(pilot)
        screen.title = EVIL
        await until_shown(pilot, app)


async def test_an_error_body_from_the_server(server: LoopbackServer) -> None:
    server.enqueue(JsonReply(500, {"error": {"message": EVIL}}))
    app = make_app(server)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        await until(pilot, lambda: "pwned" in visible_text(app))
        assert not RAW.search(drawn(app))


async def test_notifications_from_anywhere(server: LoopbackServer) -> None:
    """The app shows every notice's control characters, whoever raised it and with or
    without markup; markup that does not parse is shown as it is."""
    app = make_app(server)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await chat_opened(pilot)
        screen.notify(f"from a screen {EVIL}", title=EVIL)
        app.notify(f"with markup [/broken] {EVIL}")
        await until(pilot, lambda: visible_text(app).count("pwned") >= 3)
        assert "[/broken]" in visible_text(app)
        assert_shown_not_obeyed(app)


async def test_provider_profile_names_in_the_sidebar(server: LoopbackServer) -> None:
    settings = settings_for(server)
    profile = ProviderProfile(EVIL, server.base_url, "zai-org-glm-5", "")
    providers = {**settings.providers, EVIL: profile}
    session = Session(provider=EVIL, base_url=server.base_url)
    app = make_app(server, session=session, providers=providers)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await sidebar_ready(pilot)
        await until_shown(pilot, app)


async def test_code_block_languages_in_the_picker(server: LoopbackServer) -> None:
    answer = f"```{EVIL}\nprint(1)\n```\n\n```python\nprint(2)\n```\n"
    server.enqueue(stream_of([answer], usage=True))
    app = make_app(server)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(pilot, "code please")
        await settle(pilot)
        screen = chat(app)
        screen._pick_code_block(screen.session.messages[-1])
        await until(pilot, lambda: isinstance(app.screen, CodeBlockPicker))
        await until(pilot, lambda: "pwned" in visible_text(app))
        assert not RAW.search(drawn(app))


async def test_compare_pane_titles_and_errors(server: LoopbackServer) -> None:
    history = Session(messages=[Message("user", "q")])
    failed = Message("assistant", "", status="error", error=EVIL, model=EVIL)
    client = make_app(server).client
    left = Contender(EVIL, EVIL, Parameters(), client, reply=failed)
    right = Contender("other", "m", Parameters(), client, reply=Message("assistant", "ok"))
    app = make_app(server)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await chat_opened(pilot)
        app.push_screen(CompareScreen(history, left, right))
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        await until_shown(pilot, app)
        await client.aclose()


async def test_the_config_path_on_the_first_run_screen(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / EVIL
    folder.mkdir()
    monkeypatch.setenv("GLMTUI_CONFIG", str(folder / "config.toml"))
    settings = settings_for(server, api_key="")
    settings = replace(settings, provider=replace(settings.provider, api_key_required=True))
    app = GlmApp(settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: isinstance(app.screen, FirstRunScreen))
        await until(pilot, lambda: "pwned" in visible_text(app))
        assert not RAW.search(drawn(app))
