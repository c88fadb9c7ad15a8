"""Startup: the first frame reaches the terminal, the stylesheet is parsed once, a theme
chosen at start looks as if switched to, garbage collection is held off until the first
frame, and what the first frame does not need is imported later.

The speed itself is measured by the benchmark (``tests/benchmarks``, "startup"); these tests
pin the behaviour it depends on. Three of them watch private Textual API (named where used),
and one runs the benchmark's own process, which does too.
"""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import textual.css.stylesheet
from textual.app import App
from textual.screen import Screen

from glmtui import cli, startup_gc
from glmtui.ui.app import GlmApp
from glmtui.ui.screens.chat import ChatScreen
from tests.ui_helpers import make_app, settle, sidebar_ready

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.textual_internals("wraps Screen._compositor_refresh; reads App._batch_count")
async def test_the_chat_screens_first_frame_reaches_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Textual throws away a frame drawn while the app batches updates, as it does while it
    starts. The chat screen was once pushed inside that batch: its first frame was drawn and
    lost, and a terminal stayed blank until something redrew the whole screen."""
    batched: list[bool] = []
    original = Screen._compositor_refresh

    def refresh(screen: Screen[Any]) -> None:
        if isinstance(screen, ChatScreen) and screen._compositor._dirty_regions:  # private
            batched.append(screen.app._batch_count > 0)  # private: what App._display checks
        original(screen)

    monkeypatch.setattr(Screen, "_compositor_refresh", refresh)
    app = make_app(None)
    async with app.run_test(size=(120, 40)) as pilot:
        await sidebar_ready(pilot)
    assert batched, "the chat screen drew no frame"
    assert batched[0] is False


@pytest.mark.textual_internals("wraps textual.css.stylesheet.parse, which Stylesheet calls")
async def test_each_stylesheet_source_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A screen bringing a stylesheet the app had not read made Textual parse every source
    again (~25 ms of startup). (Textual itself parses a base class's CSS again when a
    subclass gives it another tie-breaker; that is not counted.) The app starts with
    Textual's default theme here: a configured theme other than that is applied by Textual's
    theme watcher, which parses every source once more (~15 ms; avoiding it took Textual's
    private API, which that gain did not pay for)."""
    parsed: Counter[tuple[object, object, str]] = Counter()
    original = textual.css.stylesheet.parse

    def parse(scope: str, css: str, read_from: object, **options: Any) -> Iterator[Any]:
        parsed[read_from, options.get("tie_breaker"), scope] += 1
        return original(scope, css, read_from, **options)

    monkeypatch.setattr(textual.css.stylesheet, "parse", parse)  # what Stylesheet calls
    app = make_app(None, theme="textual-dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await sidebar_ready(pilot)
    assert any("chat.tcss" in str(source) for source, _, _ in parsed)
    assert {key: n for key, n in parsed.items() if n > 1} == {}


def _screenshot(app: App[Any]) -> str:
    """The screen as an SVG, without the ids Textual derives for its elements."""
    return re.sub(r"terminal-[0-9a-z-]+", "terminal", app.export_screenshot())


@pytest.mark.parametrize("theme", ["glmtui-light", "kanagawa"])
async def test_a_theme_chosen_at_start_looks_as_if_switched_to(theme: str) -> None:
    """Starting with the configured theme gives what switching to it gives (classes, colours,
    the ANSI colour filter)."""
    started = make_app(None, theme=theme)
    async with started.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert started.theme == theme
        assert started.current_theme.dark == started.has_class("-dark-mode")
        assert started.has_class(f"-theme-{theme}")
        picture = _screenshot(started)
    switched = make_app(None)
    async with switched.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert switched.theme != theme
        switched.theme = theme
        await settle(pilot)
        assert _screenshot(switched) == picture


@pytest.fixture
def collector_on() -> Iterator[None]:
    """The collector on and nothing paused, as in a fresh process; and as found afterwards."""
    was_enabled = gc.isenabled()
    gc.enable()
    startup_gc.resume()
    yield
    startup_gc.resume()
    gc.unfreeze()
    if not was_enabled:
        gc.disable()


def test_pause_and_resume(collector_on: None) -> None:
    frozen = gc.get_freeze_count()
    startup_gc.pause()
    assert not gc.isenabled()
    assert startup_gc.paused()
    kept = [[object()] for _ in range(100)]
    startup_gc.resume()
    assert gc.isenabled()
    assert not startup_gc.paused()
    assert gc.get_freeze_count() >= frozen + len(kept)
    startup_gc.resume()  # a second call changes nothing
    assert gc.isenabled()


def test_resume_leaves_a_collector_someone_else_turned_off_alone(collector_on: None) -> None:
    gc.disable()
    startup_gc.pause()
    assert not startup_gc.paused()
    frozen = gc.get_freeze_count()
    startup_gc.resume()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == frozen


@pytest.mark.textual_internals("wraps Screen._compositor_refresh to see the first frame")
def test_glmtui_collects_again_once_the_chat_screen_is_drawn(
    collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``glmtui`` pauses the collector for the start; the app resumes it once the first screen
    is drawn (and the work queued for just after its first frame is done), while it runs; the
    CLI resumes it too when the app ends, whatever happened."""
    frames: list[bool] = []
    resumed: list[tuple[int, bool, bool]] = []
    original_refresh = Screen._compositor_refresh
    original_resume = startup_gc.resume

    def refresh(screen: Screen[Any]) -> None:  # private Textual API, as above
        original_refresh(screen)
        if isinstance(screen, ChatScreen):
            frames.append(startup_gc.paused())
            if len(frames) == 1:  # if nothing resumes the collector, stop and fail below
                screen.set_timer(10, screen.app.exit)

    def resume() -> None:
        original_resume()
        if not resumed:
            app = cli_app[0]
            resumed.append((len(frames), gc.isenabled(), app.is_running))
            app.exit()

    cli_app: list[App[Any]] = []

    def run(app: App[Any], **_options: Any) -> Any:
        cli_app.append(app)
        return App.run(app, headless=True, size=(120, 40))

    monkeypatch.setattr(Screen, "_compositor_refresh", refresh)
    monkeypatch.setattr(startup_gc, "resume", resume)
    monkeypatch.setattr(GlmApp, "run", run)
    assert cli.main(["--demo"]) == 0
    assert frames[:1] == [True]  # the first frame was drawn with the collector paused
    assert resumed, "the collector was never resumed"
    frames_before, enabled, by_the_running_app = resumed[0]
    assert frames_before >= 1  # after the first frame
    assert by_the_running_app  # not only by the CLI once the app has ended
    assert enabled
    assert gc.isenabled()


ON_FIRST_USE = (
    "httpx",  # the client: no request is made before the first frame
    "markdown_it",  # replies are rendered once there are replies
    "pygments",  # code blocks
    "email.utils",  # Retry-After dates
    "glmtui.api.client",
    "glmtui.api.events",  # the stream's events, when a reply streams
    "glmtui.store",  # sessions are saved after the first message
    "glmtui.chat.catalog",  # the model's card is fetched after the first frame
    "glmtui.ui.screens.sessions",
    "glmtui.ui.screens.model_info",
    "glmtui.ui.screens.catalogue",
    "glmtui.ui.screens.first_run",
    "glmtui.ui.screens.approval",  # tool calls: the dialog, when a call waits for the user
    "glmtui.ui.screens.tools",
    "glmtui.tools.host",  # MCP servers start after the first frame
    "glmtui.tools.config",  # the [mcp] table's parser, only for a config that has one
    "mcp",
    "mcp_types",
    "pydantic",
    "importlib.resources",  # not ours; what the benchmark once imported for itself
)
"""Modules ``glmtui --demo`` imports only once they are used, not for its first frame."""


@pytest.mark.textual_internals("the benchmark's process wraps Screen._compositor_refresh")
def test_the_first_frame_imports_nothing_it_does_not_draw() -> None:
    """What startup saves by importing on first use stays saved. Runs the startup benchmark's
    own process (``glmtui --demo`` until its first frame), so the benchmark is checked too."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.first_frame", "ours", "--modules"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("FIRST_FRAME "))
    report = json.loads(line.removeprefix("FIRST_FRAME "))
    loaded = set(report["modules"])
    assert "glmtui.ui.screens.chat" in loaded  # the frame is the chat screen's
    assert report["imported"] <= report["first_frame"]
    early = sorted(
        name
        for name in loaded
        if any(name == lazy or name.startswith(lazy + ".") for lazy in ON_FIRST_USE)
    )
    assert early == []
