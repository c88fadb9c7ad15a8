"""The conversation's scrollbar and the chat screen hand out lines they drew before
(glmtui.ui.widgets.kept_lines): what they hand out must be exactly what Textual would draw now,
whatever happened since — scrolls, hovering, dragging, a theme change, a resize, a modal screen
on top — and unchanged lines must not be drawn again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual.geometry import Offset, Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from glmtui.ui.screens.chat import ChatScreen
from glmtui.ui.widgets.conversation import ConversationView
from glmtui.ui.widgets.kept_lines import KeptScrollBar
from tests.ui_helpers import as_drawn, chat, long_session, make_app, settle, textual_lines

pytestmark = pytest.mark.textual_internals(
    "KeptScrollBar overrides Widget._set_dirty and draws as ScrollBarRender does"
)


def _full(widget: Widget) -> Region:
    return Region(0, 0, widget.region.width, widget.region.height)


def _assert_as_textual(widget: Widget) -> None:
    crop = _full(widget)
    assert as_drawn(widget.render_lines(crop)) == as_drawn(textual_lines(widget, crop))


class _Modal(Screen[None]):
    """A half-transparent screen over the chat, so the chat is drawn beneath it."""

    DEFAULT_CSS = "_Modal { background: $background 50%; align: center middle; }"

    def compose(self) -> Any:
        yield Static("on top", id="modal-text")


@asynccontextmanager
async def _chat(
    size: tuple[int, int] = (100, 30),
) -> AsyncIterator[tuple[Pilot[int], ConversationView]]:
    app = make_app(session=long_session(12))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        view = chat(app).conversation
        assert view.show_vertical_scrollbar
        yield pilot, view


def _count_textual_draws(monkeypatch: pytest.MonkeyPatch, widget: Widget) -> list[int]:
    """Counts the times Textual's own ``render_lines`` draws ``widget``."""
    calls = [0]
    original: Callable[[Widget, Region], list[Strip]] = Widget.render_lines

    def counting(self: Widget, crop: Region) -> list[Strip]:
        if self is widget:
            calls[0] += 1
        return original(self, crop)

    monkeypatch.setattr(Widget, "render_lines", counting)
    return calls


async def test_the_pane_has_the_kept_scrollbar() -> None:
    async with _chat() as (_pilot, view):
        assert isinstance(view.vertical_scrollbar, KeptScrollBar)
        assert view.vertical_scrollbar.parent is view


async def test_the_scrollbar_draws_as_textual_at_every_position() -> None:
    async with _chat() as (pilot, view):
        bar = view.vertical_scrollbar
        for y in [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, int(view.max_scroll_y)]:
            view.scroll_to(y=y, animate=False, immediate=True)
            await pilot.pause()
            _assert_as_textual(bar)


async def test_a_moved_thumb_is_drawn_from_rows_already_drawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with _chat() as (pilot, view):
        bar = view.vertical_scrollbar
        positions = list(range(0, int(view.max_scroll_y), 3))
        for y in positions[:8]:  # the bar's rows become known
            view.scroll_to(y=y, animate=False, immediate=True)
            await pilot.pause()
            bar.render_lines(_full(bar))
        draws = _count_textual_draws(monkeypatch, bar)
        for y in positions[8:]:
            view.scroll_to(y=y, animate=False, immediate=True)
            await pilot.pause()
            bar.render_lines(_full(bar))
        later = len(positions) - 8
        assert later > 20
        assert draws[0] * 5 <= later  # 4 of 33 here: a thumb end glyph not seen before


async def test_an_unchanged_bar_and_screen_are_not_drawn_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with _chat() as (pilot, view):
        bar = view.vertical_scrollbar
        screen = pilot.app.screen
        first_bar, first_screen = bar.render_lines(_full(bar)), screen.render_lines(_full(screen))
        bar_draws = _count_textual_draws(monkeypatch, bar)
        again_bar = bar.render_lines(_full(bar))
        assert bar_draws[0] == 0
        assert as_drawn(again_bar) == as_drawn(first_bar)
        monkeypatch.undo()
        screen_draws = _count_textual_draws(monkeypatch, screen)
        again_screen = screen.render_lines(_full(screen))
        assert screen_draws[0] == 0
        assert as_drawn(again_screen) == as_drawn(first_screen)
        screen.refresh()  # dirty: drawn again
        screen.render_lines(_full(screen))
        assert screen_draws[0] == 1


async def test_hovering_and_dragging_the_scrollbar_redraw_it() -> None:
    async with _chat() as (pilot, view):
        bar = view.vertical_scrollbar
        view.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        plain = as_drawn(bar.render_lines(_full(bar)))
        bar.mouse_over = True
        await pilot.pause()
        hovered = as_drawn(bar.render_lines(_full(bar)))
        assert hovered != plain
        _assert_as_textual(bar)
        bar.grabbed = Offset(0, 3)
        await pilot.pause()
        _assert_as_textual(bar)
        bar.grabbed = None
        bar.mouse_over = False
        await pilot.pause()
        assert as_drawn(bar.render_lines(_full(bar))) == plain


async def test_a_theme_change_and_a_resize_redraw_bar_and_screen() -> None:
    async with _chat() as (pilot, view):
        app = pilot.app
        bar, screen = view.vertical_scrollbar, app.screen
        before = as_drawn(bar.render_lines(_full(bar)))
        screen.render_lines(_full(screen))
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await settle(pilot)
        assert as_drawn(bar.render_lines(_full(bar))) != before
        _assert_as_textual(bar)
        _assert_as_textual(screen)
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert bar.region.height == view.region.height
        _assert_as_textual(bar)
        _assert_as_textual(screen)


async def test_the_chat_screen_beneath_a_modal_is_drawn_as_textual() -> None:
    async with _chat() as (pilot, _view):
        app = pilot.app
        chat_screen = app.screen
        assert isinstance(chat_screen, ChatScreen)
        chat_screen.render_lines(_full(chat_screen))
        await app.push_screen(_Modal())
        await settle(pilot)
        _assert_as_textual(chat_screen)
        before = as_drawn(chat_screen.render_lines(_full(chat_screen)))
        chat_screen.styles.background = "darkred"
        await settle(pilot)
        assert as_drawn(chat_screen.render_lines(_full(chat_screen))) != before
        _assert_as_textual(chat_screen)
        app.pop_screen()
        await settle(pilot)
        _assert_as_textual(chat_screen)


def test_only_vertical_bars_are_drawn_from_rows() -> None:
    bar = KeptScrollBar(vertical=False)
    assert isinstance(bar, ScrollBar)
    assert bar._bar_segments() is None


async def test_a_tinted_scrollbar_is_left_to_textual() -> None:
    async with _chat() as (pilot, view):
        bar = view.vertical_scrollbar
        assert bar._bar_segments() is not None
        bar.styles.tint = "red 40%"
        await pilot.pause()
        assert bar._bar_segments() is None
        _assert_as_textual(bar)
