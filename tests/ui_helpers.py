"""Helpers for Pilot and snapshot tests: an app wired to the loopback server, and waits."""

from __future__ import annotations

import contextlib
import html
import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.config import Overrides, Settings, load_settings
from glmtui.domain import Message, Session, Usage
from glmtui.ui.app import GlmApp
from glmtui.ui.items import ReplyItem
from glmtui.ui.screens.chat import ChatScreen
from glmtui.ui.screens.prompt import ChoiceScreen
from glmtui.ui.widgets.sidebar import ParameterSidebar
from tests.conftest import FAKE_KEY
from tests.server import LoopbackServer

FIXED_TIME = datetime(2026, 11, 25, 14, 30, 0, tzinfo=UTC)


def settings_for(server: LoopbackServer | None = None, **changes: object) -> Settings:
    """Settings pointing at the loopback server with the fake key (or the demo).

    Cursors do not blink (``cursor_blink = false``): a blinking cursor is drawn or not
    depending on when a screenshot is taken, and that made snapshot tests fail by chance.
    Copies use OSC 52 only (``clipboard = "osc52"``): a test never touches the real clipboard.
    """
    overrides = Overrides(base_url=server.base_url) if server else Overrides(demo=True)
    settings = load_settings(overrides)
    settings = replace(
        settings,
        api_key=FAKE_KEY if server else "",
        max_retries=0,
        demo_pace=0,
        cursor_blink=False,
        clipboard="osc52",  # never run a real clipboard tool from a test
    )
    return replace(settings, **changes)  # type: ignore[arg-type]


def make_app(
    server: LoopbackServer | None = None,
    *,
    session: Session | None = None,
    retries: int = 0,
    **changes: object,
) -> GlmApp:
    """A GlmApp talking to ``server`` (no retries unless asked, fast backoff)."""
    settings = settings_for(server, **changes)
    client = None
    if server is not None and settings.api_key:
        client = ChatClient(
            server.base_url,
            settings.api_key,
            retry=RetryPolicy(max_retries=retries, base_delay=0.01, max_delay=0.02),
        )
    return GlmApp(settings, client=client, session=session)


class Notices:
    """Records every notification of one app (wraps its public ``notify``; the toasts still
    show), so a test reads what the user was told without Textual's private list."""

    def __init__(self, app: GlmApp) -> None:
        self.seen: list[dict[str, Any]] = []
        notify = app.notify

        def recording(message: str, **kwargs: Any) -> None:
            self.seen.append({"message": message, **kwargs})
            notify(message, **kwargs)

        app.notify = recording  # type: ignore[method-assign]

    @property
    def messages(self) -> list[str]:
        """The messages, oldest first."""
        return [str(n["message"]) for n in self.seen]

    @property
    def text(self) -> str:
        """Every message, one after another."""
        return "\n".join(self.messages)


def chat(app: GlmApp) -> ChatScreen:
    """The active chat screen."""
    screen = app.screen
    assert isinstance(screen, ChatScreen), f"expected the chat screen, got {screen!r}"
    return screen


async def until(pilot: Pilot[int], predicate: Callable[[], bool], within: float = 30.0) -> None:
    """Let the app run until ``predicate()`` holds (for states no event announces).

    ``within`` only bounds a test that would otherwise hang: a passing test waits no longer
    than the state takes, and a loaded machine (the suite runs two workers per core, maybe
    beside other work) may take many times longer than a quiet one.
    """
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.01)


async def live_reply(pilot: Pilot[int]) -> ReplyItem:
    """The reply streaming on the chat screen, once its request is out."""
    screen = chat(pilot.app)
    await until(pilot, lambda: screen.live_reply is not None)
    reply = screen.live_reply
    assert reply is not None
    return reply


async def chat_opened(pilot: Pilot[int]) -> ChatScreen:
    """The chat screen once it is up: the app opens it just after Textual's start-up, so a
    test that acts first thing (a snapshot's ``run_before``) may otherwise find none."""
    await until(
        pilot, lambda: isinstance(pilot.app.screen, ChatScreen) and pilot.app.screen.is_mounted
    )
    return chat(pilot.app)


async def sidebar_ready(pilot: Pilot[int]) -> ParameterSidebar:
    """The docked sidebar once its fields are mounted (they come after the first frame)."""
    sidebar = (await chat_opened(pilot)).query_one("#sidebar", ParameterSidebar)
    await until(pilot, lambda: sidebar.ready)
    return sidebar


async def send(pilot: Pilot[int], text: str) -> None:
    """Type ``text`` into the composer and press Enter."""
    composer = (await chat_opened(pilot)).query_one("#composer")
    composer.focus()
    composer.text = text  # type: ignore[attr-defined]
    await pilot.press("enter")


async def send_anyway(pilot: Pilot[int], screen: ChatScreen, messages_before: int) -> None:
    """After Enter: a request larger than the model's window is sent only once the user says
    "Send anyway"; say it when asked, and return once the prompt has joined the session."""
    await until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, ChoiceScreen)
            or len(screen.session.messages) > messages_before
        ),
    )
    if isinstance(pilot.app.screen, ChoiceScreen):
        await pilot.press("s")


async def settle(pilot: Pilot[int]) -> None:
    """Wait for every worker (generation, model card — also the first card fetch, which
    starts only after the chat screen's first frame) and the screen to settle.

    A worker cancelled on the way (an exclusive one replaced by a newer one: the model card of
    a provider chosen and changed again) is not a failure; one that failed still raises.
    """
    from textual.worker import WorkerCancelled

    while True:
        running = [worker for worker in pilot.app.workers if not worker.is_finished]
        if running:
            for worker in running:
                with contextlib.suppress(WorkerCancelled):
                    await worker.wait()
        elif getattr(pilot.app.screen, "card_pending", False):
            await pilot.pause()  # the card's fetch starts after the first frame: not yet
        else:
            break
    await pilot.pause()


_TEXT = re.compile(
    r'<text[^>]*\bx="([\d.]+)"[^>]*clip-path="url\(#[^"]*-line-(\d+)\)"[^>]*>([^<]*)</text>'
)
_CELL_WIDTH = 12.2  # Textual's SVG export: one terminal cell


def visible_text(app: GlmApp) -> str:
    """The text on screen, line by line, rebuilt from a screenshot's positioned spans."""
    svg = app.export_screenshot()
    width, height = app.size
    grid = [[" "] * width for _ in range(height)]
    for x, line, text in _TEXT.findall(svg):
        row = int(line)
        column = round(float(x) / _CELL_WIDTH)
        for offset, char in enumerate(html.unescape(text).replace("\xa0", " ")):
            if row < height and 0 <= column + offset < width:
                grid[row][column + offset] = char
    return "\n".join("".join(cells).rstrip() for cells in grid)


def sample_session() -> Session:
    """A finished exchange with reasoning, a list, a table and two code blocks."""
    answer = (
        "Here is a function and how to call it:\n\n"
        '```python\ndef greet(name: str) -> str:\n    return f"Hello, {name}!"\n```\n\n'
        "- It takes a **name**\n- It returns a greeting\n\n"
        "| Input | Output |\n|---|---|\n| `Ada` | `Hello, Ada!` |\n\n"
        "```bash\npython -c 'print(1)'\n```\n"
    )
    return Session(
        id="sample",
        title="Greeting function",
        created_at=FIXED_TIME,
        updated_at=FIXED_TIME,
        model="zai-org-glm-5",
        messages=[
            Message("user", "Write a greet function [and keep it short]", created_at=FIXED_TIME),
            Message(
                "assistant",
                answer,
                created_at=FIXED_TIME,
                reasoning="The user wants a tiny Python function. I will show a call too.",
                status="complete",
                finish_reason="stop",
                model="zai-org-glm-5",
                usage=Usage(
                    prompt_tokens=21, completion_tokens=96, total_tokens=117, reasoning_tokens=18
                ),
            ),
        ],
    )


def long_session(exchanges: int = 6) -> Session:
    """:func:`sample_session`, then ``exchanges`` questions each answered in four paragraphs:
    taller than the pane, so it scrolls and its earlier messages load on demand."""
    session = sample_session()
    for n in range(exchanges):
        session.messages.append(Message("user", f"Question {n}?", created_at=FIXED_TIME))
        text = "\n\n".join(f"Answer {n}, paragraph {p}: " + "words " * 30 for p in range(4))
        session.messages.append(Message("assistant", text, created_at=FIXED_TIME))
    return session


def as_drawn(lines: list[Strip]) -> list[list[tuple[str, object]]]:
    """Lines as the terminal shows them: each segment's text and style."""
    return [[(segment.text, segment.style) for segment in line] for line in lines]


def textual_lines(widget: Widget, crop: Region) -> list[Strip]:
    """What Textual itself draws for ``widget`` now, from nothing: its line caches emptied and
    any ``render_lines``/``_set_dirty`` of glmtui's widgets bypassed."""
    Widget._set_dirty(widget)
    return Widget.render_lines(widget, crop)
