"""Screens open without building what they do not show, and a huge message folds and unfolds
without holding the screen (``tests/benchmarks/open_screens.py`` measures both)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.content import Content

from glmtui.domain import Message, Session
from glmtui.ui import items
from glmtui.ui.items import LazyLines, PlainLayout, ReplyItem, UserItem
from glmtui.ui.keys import resolved
from glmtui.ui.markdown_render import render_plain
from glmtui.ui.screens.help import HelpScreen, KeyReference
from glmtui.ui.screens.request_preview import RequestPreviewScreen
from tests.benchmarks.open_screens import huge_text
from tests.ui_helpers import chat, make_app, settle, sidebar_ready, until, visible_text

ROOT = Path(__file__).resolve().parents[1]
HUGE = 600_000
"""Characters of the huge messages: over :data:`items.LAZY_FROM` and ~40 chunks (laid out with
a tiny budget a frame, so it takes many frames). The benchmark unfolds 50 MB."""

TEXTS = [
    "one line",
    "short\nlines\n\n\nwith blanks\n",
    "a long line of words " * 40,
    "wide 漢字かな交じり文 " * 30 + "\nemoji 🎉🎉 " * 20,
    "tabs\tin\ta\tline\n\tindented " * 12,
    "controls \x1b[31mred\x1b[0m \x07 \x9b1m \u202eevil\u202c end\r\nCRLF line",
    "trailing spaces     \n" * 5 + "x" * 300,
    "\n\nleading and trailing newlines\n\n\n",
    "exactly-width " + "y" * 66,
]


def _drawn(layout: PlainLayout) -> list[Content]:
    return [line for part in layout.parts for line in part.content]


@pytest.mark.parametrize("width", [8, 20, 37, 80, 119])
@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_a_plain_layout_draws_what_render_plain_draws(text: str, width: int) -> None:
    """Chunk by chunk, counted before drawn, the lines are render_plain's, and each chunk's
    counted height is the number of lines it draws."""
    big = "\n".join([text] * (2 * items.PLAIN_CHUNK // (len(text) + 1) + 2))  # 2-3 chunks
    layout = PlainLayout(big, width)
    layout.advance(None)
    assert layout.complete
    assert len(layout.parts) > 1
    for part in layout.parts:
        assert part.height == len(part.content)
    drawn = [(line.plain, line.spans) for line in _drawn(layout)]
    expected = [(line.plain, line.spans) for line in render_plain(big, width)]
    assert drawn == expected


def test_an_endless_line_is_broken_once_per_chunk_and_loses_nothing() -> None:
    text = ("word " * 20_000) + "x" * 40_000
    layout = PlainLayout(text, 100)
    layout.advance(None)
    lines = _drawn(layout)
    assert all(cell_len(line.plain) <= 100 for line in lines)
    assert "".join(line.plain for line in lines).replace(" ", "") == text.replace(" ", "")
    assert len(layout.parts) >= len(text) // items.PLAIN_CHUNK


def test_a_layout_works_a_budget_at_a_time_and_keeps_few_chunks_drawn() -> None:
    layout = PlainLayout(huge_text(2_000_000), 100)
    layout.advance(0.0)  # one chunk at least, then the budget is spent
    assert 0 < layout.done < len(layout.text)
    assert not layout.complete
    layout.advance(None)
    assert layout.complete
    for part in layout.parts:
        assert part.content  # draws it
    drawn = [part for part in layout.parts if part._lines is not None]
    assert 0 < len(drawn) <= items.KEEP_CHUNKS


def test_collapsed_reasoning_draws_as_small_reasoning_does() -> None:
    """Huge reasoning (plain layout, blank runs collapsed, behind the bar) looks as the
    block-by-block reasoning of a small reply does."""
    text = "First thought, quite a long one. " * 9 + "\n\n\nSecond.\n\nThird\nline two\n"
    reply = ReplyItem(Message("assistant", "ok", reasoning=text, status="complete"))
    reply.reasoning_open = True
    small = [line.plain for part in reply.parts(60)[2:-2] for line in part.content]
    bar = Content.styled("│ ", items.REASONING_BAR)
    layout = PlainLayout(text, 60, style=items.REASONING_TEXT, prefix=bar, collapse_blank=True)
    layout.advance(None)
    assert [line.plain for line in _drawn(layout)] == small


# --- the conversation: folding and unfolding a huge message ---------------------------------------


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0]


async def _unfold_while_keys_work(
    monkeypatch: pytest.MonkeyPatch, session: Session, index: int, key: str
) -> None:
    """Unfold item ``index`` with ``key``; while it is laid out, keys are handled and only a few
    chunks are ever drawn; folding it again is immediate.

    The layout is held after its first chunk until the test lets it go on, so "keys work while
    it is still being laid out" does not depend on how fast this machine is: the test once
    failed on a loaded machine, where the layout finished before the key was pressed. What
    must hold is that the view only ever asks for a budgeted step (never the whole text).
    """
    budgets: list[float | None] = []
    held = True
    advance = PlainLayout.advance

    def step(layout: PlainLayout, budget: float | None) -> None:
        budgets.append(budget)
        if not held or not layout.parts:
            advance(layout, budget)

    monkeypatch.setattr(PlainLayout, "advance", step)
    draws: list[int] = []
    draw = PlainLayout.draw

    def counted(layout: PlainLayout, part: LazyLines) -> list[Content]:
        draws.append(part.start)
        return draw(layout, part)

    monkeypatch.setattr(PlainLayout, "draw", counted)
    app = make_app(session=session)
    async with app.run_test(size=(100, 30)) as pilot:
        await sidebar_ready(pilot)
        await settle(pilot)
        view = chat(app).conversation
        view.focus()
        view.select(index)
        await pilot.pause()
        item = view.items[index]
        await pilot.press(key)
        await until(pilot, lambda: any(isinstance(p, LazyLines) for p in view._parts[id(item)]))
        assert budgets
        assert None not in budgets, "laid out whole at once"
        assert item.behind
        top = view.scroll_y
        await pilot.press("pagedown")  # a key, handled while the message is laid out
        await pilot.pause()
        assert item.behind
        assert view.scroll_y > top
        layout = item._layout if isinstance(item, UserItem) else item._lazy_reasoning
        assert layout is not None
        held = False  # now let it finish, a budget per frame
        await until(pilot, lambda: not item.behind)
        assert None not in budgets
        await pilot.press("end", "home")
        await pilot.pause()
        drawn = [part for part in layout.parts if part._lines is not None]
        assert 0 < len(drawn) <= items.KEEP_CHUNKS < len(layout.parts)
        assert len(draws) < len(layout.parts) / 4  # only what was on screen was ever drawn
        assert "laying out" not in visible_text(app)
        view.select(index)
        await pilot.press(key)  # fold it again
        await pilot.pause()
        assert not any(isinstance(p, LazyLines) for p in view._parts[id(item)])


async def test_a_huge_prompt_unfolds_while_keys_are_handled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prompt = huge_text(HUGE)
    session = Session(
        title="log",
        messages=[Message("user", prompt), Message("assistant", "ok", status="complete")],
    )
    await _unfold_while_keys_work(monkeypatch, session, 0, "o")


async def test_huge_reasoning_unfolds_while_keys_are_handled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reasoning = huge_text(HUGE)
    reply = Message("assistant", "Done.", reasoning=reasoning, status="complete")
    session = Session(title="thought", messages=[Message("user", "Think."), reply])
    await _unfold_while_keys_work(monkeypatch, session, 1, "t")


def test_huge_reasoning_is_titled_by_its_size_without_splitting_it() -> None:
    reasoning = huge_text(items.COUNT_WORDS_UP_TO + 1)
    reply = ReplyItem(Message("assistant", "ok", reasoning=reasoning, status="complete"))
    assert not reply._reasoning.frozen  # opened folded: nothing split yet
    title = [line.plain for line in reply.parts(80)[1].content]
    assert title == [f"▶ Reasoning · {len(reasoning):,} characters"]
    small = ReplyItem(Message("assistant", "ok", reasoning="two words", status="complete"))
    assert small.parts(80)[1].content[0].plain == "▶ Reasoning · 2 words"


# --- screens ---------------------------------------------------------------------------------


async def test_help_is_one_widget_listing_every_key() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sidebar_ready(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        screen = app.screen
        await pilot.pause()
        assert len(list(screen.walk_children())) < 8  # not a widget per table cell
        reference = screen.query_one(KeyReference)
        text = "\n".join(line.plain for line in reference.lines_at(reference.size.width))
        flat = " ".join(text.replace("│", " ").split())
        for section, rows in resolved():  # the keys in force: here the defaults
            assert section in text
            for key, action in rows:
                assert key in flat
                assert " ".join(action.split()) in flat
        assert "Esc closes" in visible_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_the_request_preview_highlights_only_the_form_shown() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sidebar_ready(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, RequestPreviewScreen))
        screen = app.screen
        assert isinstance(screen, RequestPreviewScreen)
        await pilot.pause()
        assert screen._highlighted == {"curl"}
        assert "curl" in visible_text(app)
        await pilot.press("3")
        await pilot.pause()
        assert screen._highlighted == {"curl", "json"}
        assert '"messages"' in visible_text(app)


def test_the_open_screens_benchmark_runs() -> None:
    """The benchmark's harness end to end, on one screen and a small huge message."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.open_screens",
            "--only",
            "help,unfold-prompt",
            "--runs",
            "1",
            "--huge-mb",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "| F1 help |" in done.stdout, done.stderr
    assert "| 1 MB prompt (o) |" in done.stdout, done.stderr
