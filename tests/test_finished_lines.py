"""The conversation draws its lines past Textual's styles cache (glmtui.ui.widgets.finished_lines):
what it draws must be exactly what the styles cache would draw, and a line that only moved
must not be made again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip

from glmtui.ui.widgets.conversation import ConversationView
from tests.server import HANG, LoopbackServer, StreamReply, chunk, sse
from tests.ui_helpers import (
    as_drawn,
    chat,
    live_reply,
    long_session,
    make_app,
    send,
    settle,
    textual_lines,
    until,
    visible_text,
)

pytestmark = pytest.mark.textual_internals(
    "the conversation overrides Widget._set_dirty and draws past Textual's styles cache"
)


@asynccontextmanager
async def _pane() -> AsyncIterator[tuple[Pilot[int], ConversationView, Region]]:
    """A chat with a long conversation at 100x30: its pilot, the pane and the pane's region."""
    app = make_app(session=long_session())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = chat(app).conversation
        yield pilot, view, Region(0, 0, view.region.width, view.region.height)


async def test_lines_are_drawn_as_textual_draws_them() -> None:
    async with _pane() as (pilot, view, crop):
        for region in (crop, Region(3, 2, 40, 9)):
            drawn = view.render_lines(region)
            assert as_drawn(drawn) == as_drawn(textual_lines(view, region))
        view.scroll_to(y=7, animate=False, immediate=True)
        await pilot.pause()
        assert as_drawn(view.render_lines(crop)) == as_drawn(textual_lines(view, crop))


async def test_a_line_that_moved_is_not_made_again() -> None:
    async with _pane() as (pilot, view, crop):
        view.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        before = view.render_lines(crop)
        view.scroll_to(y=13, animate=False, immediate=True)
        await pilot.pause()
        after = view.render_lines(crop)
        # The pane moved three lines: what was line 3 is now line 0, the same finished strip.
        assert all(after[y] is before[y + 3] for y in range(len(after) - 3))


async def test_a_theme_change_draws_every_line_again() -> None:
    async with _pane() as (pilot, view, crop):
        before = view.render_lines(crop)
        app = pilot.app
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await settle(pilot)
        after = view.render_lines(crop)
        assert not any(new is old for new, old in zip(after, before, strict=True))
        assert as_drawn(after) == as_drawn(textual_lines(view, crop))


async def test_a_selected_message_is_drawn_as_textual_draws_it() -> None:
    async with _pane() as (pilot, view, crop):
        before = view.render_lines(crop)
        view.focus()
        await pilot.press("up")  # select the last message
        await settle(pilot)
        after = view.render_lines(crop)
        assert as_drawn(after) != as_drawn(before)
        assert as_drawn(after) == as_drawn(textual_lines(view, crop))


async def test_styles_it_cannot_draw_are_left_to_textual() -> None:
    async with _pane() as (pilot, view, crop):
        view.render_lines(crop)  # drawn the short way first
        for style, value in (("tint", "red 30%"), ("outline", ("heavy", "red"))):
            setattr(view.styles, style, value)
            await pilot.pause()
            assert view._finished.render(view, crop, view._content_lines) is None
            drawn = view.render_lines(crop)
            assert as_drawn(drawn) == as_drawn(textual_lines(view, crop))


def _one_at_a_time(view: ConversationView, crop: Region) -> list[Strip]:
    return [view.render_line(y) for y in crop.line_range]


def _assert_rows_as_one_at_a_time(view: ConversationView) -> None:
    width, height = view.region.width, view.region.height
    for crop in (
        Region(0, 0, width, height),
        Region(0, 3, width, 5),
        Region(0, height - 1, width, 1),
    ):
        assert view._content_lines(crop) == _one_at_a_time(view, crop)


async def test_rows_drawn_in_one_pass_equal_rows_drawn_one_at_a_time() -> None:
    async with _pane() as (pilot, view, _crop):
        assert view._first > 0
        view.scroll_to(y=0, animate=False, immediate=True)
        assert view.scroll_offset.y == 0  # the "earlier messages" notice is the first row,
        _assert_rows_as_one_at_a_time(view)  # until the earlier messages load (next frame)
        rows = view._content_lines(Region(0, 0, view.region.width, 3))
        assert "earlier messages: scroll up" in rows[0].text
        assert not rows[1].text.strip()  # the blank line under the notice
        assert "earlier" not in rows[2].text
        for y in range(0, int(view.max_scroll_y) + 1, 2):
            view.scroll_to(y=y, animate=False, immediate=True)
            await pilot.pause()
            _assert_rows_as_one_at_a_time(view)
        view.load_all()
        await pilot.pause()
        view.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        _assert_rows_as_one_at_a_time(view)


async def test_rows_of_a_streaming_reply_drawn_in_one_pass(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("Words " * 300)), HANG]))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "go")
        reply = await live_reply(pilot)
        view = chat(app).conversation
        await until(pilot, lambda: "Words" in visible_text(app))
        row = view._rows[-1]
        written = len(view._item_strips(view.index_of(reply.message) or 0))
        assert row.height > written  # the reply has spare lines below its text
        for y in range(0, int(view.max_scroll_y) + 1):
            view.scroll_to(y=y, animate=False, immediate=True)
            await pilot.pause()
            _assert_rows_as_one_at_a_time(view)
        top = int(view.scroll_offset.y)
        spare = Region(0, row.top + written - top, view.region.width, row.height - written)
        assert all(
            line is view._reserved_line(reply) for line in view._content_lines(spare)
        )  # drawn as the reply's blank lines (its bar), not the pane's blank
        await pilot.press("escape")
        await settle(pilot)


async def test_lines_go_through_the_apps_line_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``NO_COLOR`` set Textual draws in shades of grey (a line filter); the conversation's
    finished lines must go through the same filters, or its messages alone would be in colour.
    Under the ANSI themes the filters differ again (colours left to the terminal)."""
    monkeypatch.setenv("NO_COLOR", "1")
    async with _pane() as (pilot, view, crop):
        assert pilot.app.no_color
        for theme in ("glmtui", "ansi-dark"):
            pilot.app.theme = theme
            await settle(pilot)
            drawn = view.render_lines(crop)
            assert as_drawn(drawn) == as_drawn(textual_lines(view, crop)), theme
