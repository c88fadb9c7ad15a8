"""Markdown bombs (a 10,000-row table, thousands of nesting levels, runaway brackets) render or
degrade to plain text, lose no character, and never stop the app from handling keys.

How long they take is measured by ``python -m tests.benchmarks.bench_bombs``, not here.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.widgets import TextArea

from glmtui.domain import Message
from glmtui.domain.markdown import RawBlock, split_blocks, split_blocks_bounded
from glmtui.ui.items import ReplyItem
from glmtui.ui.markdown_render import render_block
from tests.server import HANG, LoopbackServer, StreamReply, chunk, sse, stream_of
from tests.test_streaming_render import CREATED, WIDTH, one_shot, plain_lines, streamed
from tests.ui_helpers import chat, make_app, send, settle, until

TABLE_10K = "| n | square | note |\n|---:|---:|---|\n" + "".join(
    f"| {n} | {n * n} | row-{n} |\n" for n in range(10_000)
)
TABLE_2K = TABLE_10K[: TABLE_10K.index("| 2000 |")]
"""Still a bomb (five times the 400 lines a block may have before it is shown as plain text),
for the tests that stream it: the same paths at a fifth of the time."""
DEEP_EMPHASIS = "*" * 3000 + "x" + "*" * 3000 + "\n"
DEEP_QUOTE = "> " * 3000 + "deep\n"
BRACKETS = "[" * 5000 + "x" + "](" * 2500 + "\n"
FENCE_2K = "```python\n" + "".join(f"value_{n} = {n}\n" for n in range(2000)) + "```\n"


def text_of(item: ReplyItem) -> str:
    return "\n".join(line for line, _ in plain_lines(item))


def test_huge_table_shows_as_plain_text_with_a_notice() -> None:
    item = one_shot("Here it is:\n\n" + TABLE_10K + "\nThat was big.\n")
    text = text_of(item)
    assert "too large to format: shown as plain text" in text
    assert text.count("too large to format") == 1  # one notice for the whole table
    for n in (0, 1234, 9999):
        assert f"| {n} | {n * n} | row-{n} |" in text
    assert "That was big." in text
    assert "Here it is:" in text


def test_streamed_bomb_equals_one_shot() -> None:
    tokens = [TABLE_2K[i : i + 97] for i in range(0, len(TABLE_2K), 97)]
    item = streamed(tokens, [3] * (len(tokens) // 3))
    assert item.content_text == TABLE_2K
    assert plain_lines(item) == plain_lines(one_shot(TABLE_2K))


def test_a_small_table_is_still_formatted() -> None:
    text = text_of(one_shot("| a | b |\n|---|---|\n| 1 | 2 |\n"))
    assert "too large" not in text
    assert "|---|" not in text  # drawn as a table, not shown as source


def test_long_code_fence_is_never_degraded() -> None:
    item = one_shot(FENCE_2K)
    assert not any(isinstance(piece, RawBlock) for piece in item._answer.frozen)
    text = text_of(item)
    assert "too large" not in text
    assert "value_1999 = 1999" in text
    assert "```" not in text


def test_deep_nesting_degrades_to_plain_text() -> None:
    for bomb in (DEEP_EMPHASIS, DEEP_QUOTE):
        text = text_of(one_shot(bomb))
        assert "x" in text or "deep" in text
    text = text_of(one_shot(DEEP_EMPHASIS))
    assert "nested too deeply to format" in text
    assert "*" * 50 in text


@pytest.mark.parametrize("width", [8, 12, 20])
def test_nesting_deeper_than_the_width_still_renders(width: int) -> None:
    """Each list or quote level narrows the text; a narrow pane must not run out of width
    (a top-level heading inside six lists at 8 columns raised ValueError in wrapping)."""
    for source in ("- - - # a", "- - - - - - # heading text", "> > > > - - 1. # heading text"):
        lines = render_block(source, width)
        assert "a" in "".join(line.plain for line in lines)


def test_runaway_brackets_render() -> None:
    text = text_of(one_shot(BRACKETS))
    assert "[[[[" in text


@given(
    st.text(alphabet="ab \n`|-#>", max_size=200),
    st.integers(min_value=2, max_value=6),
)
@settings(max_examples=200, deadline=None, derandomize=True)
def test_bounded_split_adds_up_and_bounds_every_piece(text: str, limit: int) -> None:
    pieces = split_blocks_bounded(text, limit=limit)
    assert "".join(pieces) == text
    for piece in pieces:
        if isinstance(piece, RawBlock):
            assert piece.count("\n") <= limit
    if len(text.splitlines()) <= limit:
        assert pieces == split_blocks(text)


async def test_app_takes_keys_while_a_table_bomb_streams(server: LoopbackServer) -> None:
    """Typing reaches the composer while 2,000 rows stream in; stopping keeps every row that
    arrived, and the whole table is saved when it completes."""
    rows = TABLE_2K.splitlines(keepends=True)
    starts = range(0, len(rows), 25)
    events = [sse(chunk("".join(rows[i : i + 25]))) for i in starts]
    held_back = starts[-1]  # the rows of the last event: the server hangs before them
    server.enqueue(StreamReply([*events[:-1], HANG]))
    server.enqueue(stream_of(["".join(rows[i : i + 25]) for i in starts]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "Give me a big table")
        screen = chat(app)
        await until(pilot, lambda: bool(screen.conversation.items))
        reply_item = screen.conversation.items[-1]
        assert isinstance(reply_item, ReplyItem)
        await until(pilot, lambda: rows[held_back - 1] in reply_item.content_text, within=60)
        await pilot.press(*"still here")
        composer = screen.query_one("#composer", TextArea)
        await until(pilot, lambda: composer.text == "still here")
        assert screen.generating
        await pilot.press("escape")
        await settle(pilot)
        partial = screen.session.messages[-1]
        assert partial.content == "".join(rows[:held_back])
        assert partial.status == "interrupted"
        store = screen.keeper.store
        assert store is not None
        assert store.load(screen.session.id).messages[-1].content == partial.content
        assert composer.text == "still here"  # the draft is kept

        await pilot.press("ctrl+r")  # regenerate: this time the table completes
        await settle(pilot)
        reply = screen.session.messages[-1]
        assert reply.status == "complete", reply.error
        assert reply.content == TABLE_2K
        assert store.load(screen.session.id).messages[-1].content == TABLE_2K


def test_a_reply_arriving_all_at_once_is_drawn_a_slice_per_frame() -> None:
    """Tens of thousands of short paragraphs in one event: each frame splits or draws only
    a bounded share (here one block, as the budget is zero), says how much is left, and the
    end result is the same as rendering the reply in one go."""
    text = "".join(f"Paragraph {n} is *short*.\n\n" for n in range(3_000))
    message = Message("assistant", "", created_at=CREATED, status="streaming")
    item = ReplyItem(message, streaming=True, model_label="GLM-5")
    item.render_budget = 0.0
    item.append_content(text)
    item.flush()
    item.message.content = text
    item.message.status = "complete"
    item.finish()
    first = text_of(item)
    assert first.count("Paragraph ") == 1
    assert "⋯ formatting," in first
    frames = 1
    while item.behind:
        item.parts(WIDTH)
        frames += 1
        assert frames < 10_000
    assert frames > 100  # spread over many frames, not drawn in one
    item.render_budget = None
    assert plain_lines(item) == plain_lines(one_shot(text))


def test_a_long_list_streamed_in_small_pieces_is_never_held_back() -> None:
    """A 20 KB list arriving a few words at a time is not a backlog: every frame shows the
    list so far (the slice-per-frame path is only for text arriving all at once)."""
    text = "Here:\n\n" + "".join(f"- item {n:04d}, a line of a long list\n" for n in range(500))
    message = Message("assistant", "", created_at=CREATED, status="streaming")
    item = ReplyItem(message, streaming=True, model_label="GLM-5")
    item.render_budget = 0.05
    for start in range(0, len(text), 40):
        item.append_content(text[start : start + 40])
        item.flush()
        shown = text_of(item)
        assert "⋯ formatting" not in shown
        last_line = text[: start + 40].rstrip("\n").rsplit("\n", 1)[-1]
        assert last_line.removeprefix("- ").strip() in shown
    item.message.content = text
    item.message.status = "complete"
    item.finish()
    item.parts(WIDTH)
    while item.behind:  # the last block may be completed a frame later
        item.parts(WIDTH)
    item.render_budget = None
    assert plain_lines(item) == plain_lines(one_shot(text))
