"""The correctness side of fast streaming: every token reaches the screen, and the final view is
exactly a one-shot render of the whole text, however the tokens were coalesced into frames."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.content import Content

from glmtui.domain import Message
from glmtui.domain.markdown import FORMAT_LINE_LIMIT, BlockSplitter, RawBlock, split_blocks
from glmtui.ui import markdown_render
from glmtui.ui.items import ReplyItem
from glmtui.ui.markdown_render import (
    PIECE_LINES,
    PIECED_FROM,
    code_piece_lines,
    code_pieces,
    render_block,
    render_open_block,
)
from tests.server import (
    END_MARKER,
    HELLO_TEXT,
    LoopbackServer,
    build_tokens,
    stream_of,
    tokenize,
)
from tests.ui_helpers import chat, make_app, send, settle, visible_text

WIDTH = 100

TABLES = (
    "Intro line.\n\n| Model | Tokens/s | Notes |\n|---|---:|:---:|\n"
    + "".join(f"| m{n} | {n * 10} | row {n} |\n" for n in range(12))
    + "\nAfter the table.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
)
UNCLOSED_FENCE = "Some code:\n\n```python\ndef f():\n    return 1\n\n\nx = f()\n# no closing fence"
NESTED = (
    "1. one\n   - a\n   - b\n\n     more a\n2. two\n\n> quote\n> > nested\n\nSetext\n---\n\n"
    "    indented code\n\nEnd *em* **strong** `code` [link](http://x) ~~gone~~\n"
)


def plain_lines(item: ReplyItem, width: int = WIDTH) -> list[tuple[str, object]]:
    """Every rendered line with its styling, comparable between two renders."""
    return [(line.plain, tuple(line.spans)) for part in item.parts(width) for line in part.content]


CREATED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
"""One time for every reply compared here: the header shows the minute, and two replies made
a few seconds apart would differ whenever a minute ends in between."""


def one_shot(text: str) -> ReplyItem:
    message = Message("assistant", text, created_at=CREATED, status="complete")
    return ReplyItem(message, model_label="GLM-5")


def streamed(tokens: list[str], flush_every: list[int]) -> ReplyItem:
    message = Message("assistant", "", created_at=CREATED, status="streaming")
    item = ReplyItem(message, streaming=True, model_label="GLM-5")
    position = 0
    for step in flush_every:
        for token in tokens[position : position + step]:
            item.append_content(token)
        position += step
        item.flush()
        item.parts(WIDTH)  # draw a frame
        assert item.rendered_length == len("".join(tokens[:position]))
    for token in tokens[position:]:  # the stream ends inside a coalescing window
        item.append_content(token)
    item.message.content = "".join(tokens)
    item.message.status = "complete"
    item.finish()
    return item


DOCUMENTS = {
    "prose": "".join(build_tokens(1500)),
    "code": "".join(build_tokens(1200, doc="code")),
    "long code": "".join(build_tokens(2800, doc="code")),  # highlighted in pieces
    "tables": TABLES,
    "unclosed fence": UNCLOSED_FENCE,
    "nested": NESTED,
}


@pytest.mark.parametrize("name", list(DOCUMENTS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_streamed_final_render_equals_one_shot(name: str, seed: int) -> None:
    text = DOCUMENTS[name]
    rng = random.Random(seed)
    tokens = [text[i : i + rng.randint(1, 9)] for i in range(0, len(text), 1)]
    # the tokens above overlap; rebuild a proper split of the text at random points
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, len(text) // 3)))
    tokens = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    frames = [rng.randint(1, 40) for _ in range(len(tokens) // 20)]
    item = streamed(tokens, frames)
    assert item.content_text == text
    assert plain_lines(item) == plain_lines(one_shot(text))


def test_no_token_lost_when_the_stream_ends_between_frames() -> None:
    item = streamed(["Hello", " there", ", the very", " last token"], [1])
    rendered = "\n".join(line for line, _ in plain_lines(item))
    assert "the very last token" in rendered


MARKDOWN_PIECES = ["a", "b", " ", "\n", "\n\n", "    ", "\t", "`", "```", "#", "# ", "-", "- "]
MARKDOWN_PIECES += ["*", "|", "> ", "1", ". ", "1. ", "~", "===", "[", "]: ", "/u", "\r\n"]


@given(
    st.lists(st.sampled_from(MARKDOWN_PIECES), max_size=40).map("".join),
    st.lists(st.integers(1, 7), max_size=30),
)
@settings(max_examples=300, deadline=None)
def test_splitter_pieces_always_add_up(text: str, cuts: list[int]) -> None:
    splitter = BlockSplitter()
    position = 0
    for cut in cuts:
        splitter.feed(text[position : position + cut])
        position += cut
        splitter.advance()
        assert "".join(splitter.frozen) + splitter.open_text == text[:position]
    splitter.feed(text[position:])
    splitter.finish()
    assert "".join(splitter.frozen) == text
    assert splitter.frozen == split_blocks(text)


def _drawn(lines: list[Content]) -> list[tuple[str, object]]:
    return [(line.plain, tuple(line.spans)) for line in lines]


TRICKY_PARAGRAPHS = (
    "Plain words that wrap " * 12,
    "Emphasis *opens here and closes* later, a **bold** word, `code` and a [link](http://x).",
    "A paragraph\nwith a second line\n1\nand a digit line, and a last line ending in 1",
    "snake_case_words and a_b_ and foo_ bar _baz_qux and *a*b and x__y__z",
    "Entities &amp and &#35 and &copy; then words; semicolons; after",
    "Superlongwordwithoutanyspacesatallthatmustbefoldedacrosslinesbecauseitistoolong and on",
    "[ref]: and [not a ref] then text",
    "Ends with a hash # and - dash and + plus and = equals",
    "Wide 漢字 characters 漢字漢字漢字 and emoji 🎉🎉 mixed in with words to wrap them",
    "Line one\n- then a list?\nno: a lazy line",
    "Title\n===\nthen more",
    "x\n-",
    "[multi\nline]: /url and a title",
    "Control \x1b[31m red, a bell \x07 and zero\u200bwidth space",
    "Trailing spaces  \nhard break and  double  spaces inside",
    " [a\nb]: x y and more words",
)
CRLF_PARAGRAPH = "Windows line\r\nendings and more words"


def _check_open_block_frames(tokens: list[str], width: int) -> None:
    """Draw the open block frame by frame, a token more each time, and compare every frame
    with the block rendered afresh."""
    previous = None
    for end in range(1, len(tokens) + 1):
        source = "".join(tokens[:end])
        if not source.strip():
            continue
        drawn = render_open_block(source, width, previous)
        expected = markdown_render.render_markdown_block(source, width)
        assert _drawn(drawn.lines) == _drawn(expected), source
        previous = drawn


@pytest.mark.parametrize("width", [9, 37, 100])
def test_open_block_drawn_frame_by_frame_equals_a_fresh_render(width: int) -> None:
    """The open block is redrawn from the last frame's drawing (a paragraph's last line
    grows); at every frame it must look exactly like the block rendered afresh."""
    for block in (*TRICKY_PARAGRAPHS, CRLF_PARAGRAPH):
        _check_open_block_frames(list(block), width)  # a character at a time
    frames = renders = 0
    with mock.patch.object(
        markdown_render, "_render_block", wraps=markdown_render._render_block
    ) as afresh:
        for block in [*split_blocks(DOCUMENTS["prose"] + DOCUMENTS["nested"]), *TRICKY_PARAGRAPHS]:
            before = afresh.call_count
            tokens = tokenize(block)
            _check_open_block_frames(tokens, width)
            if block[:1].isalpha():  # a paragraph
                frames += len(tokens)
                renders += afresh.call_count - before
    # Most frames of a paragraph take the short way (the others follow inline markup).
    assert renders < frames * 0.3


@given(
    st.text(alphabet="ab é漢 \n`#-*_|>1.;&[]():", max_size=80),
    st.lists(st.integers(1, 6), max_size=40),
    st.integers(8, 30),
)
@settings(max_examples=300, deadline=None)
def test_open_block_grows_as_a_fresh_render_whatever_the_text(
    text: str, cuts: list[int], width: int
) -> None:
    previous = None
    position = 0
    for cut in [*cuts, len(text)]:
        position = min(len(text), position + cut)
        source = text[:position]
        if not source.strip():
            continue
        drawn = render_open_block(source, width, previous)
        assert _drawn(drawn.lines) == _drawn(render_block(source, width))
        previous = drawn


def _highlighted(line: Content) -> bool:
    """Coloured as code (``$code-keyword`` and the like), not only on the code background."""
    styles = [str(span.style) for span in line.spans]
    return any("$code-" in style and "$code-block-" not in style for style in styles)


def test_a_long_fence_is_highlighted_piece_by_piece() -> None:
    """A fence of PIECED_FROM lines or more is coloured piece by piece while it streams (the
    open remainder stays plain), and when it closes only its last piece is highlighted."""
    text = "".join(build_tokens(2800, doc="code"))
    lines = text.split("\n")
    fence = next(n for n, line in enumerate(lines) if line.startswith("```"))
    assert len(lines) - fence > PIECED_FROM + PIECE_LINES
    cut = len("\n".join(lines[: fence + PIECED_FROM + PIECE_LINES])) + 1
    message = Message("assistant", "", created_at=CREATED, status="streaming")
    item = ReplyItem(message, streaming=True, model_label="GLM-5")
    code_piece_lines.cache_clear()
    item.append_content(text[:cut])
    item.flush()
    drawn = [line for part in item.parts(WIDTH) for line in part.content]
    first = next(line for line in drawn if "def handler_1(" in line.plain)
    assert _highlighted(first)
    assert not _highlighted(drawn[-2])  # the open remainder: plain until its piece ends
    pieces_so_far = code_piece_lines.cache_info().misses
    assert pieces_so_far >= PIECED_FROM // PIECE_LINES - 1

    item.append_content(text[cut:])
    item.message.content = text
    item.message.status = "complete"
    item.finish()
    final = plain_lines(item)
    # Each piece was highlighted once: the ones done while streaming were reused.
    code = text[text.index("```python\n") + len("```python\n") : text.rindex("\n```")]
    info = code_piece_lines.cache_info()
    assert info.misses == len(code_pieces(code)) > pieces_so_far
    assert info.hits >= pieces_so_far
    assert final == plain_lines(one_shot(text))


def test_code_pieces_cut_between_top_level_definitions() -> None:
    short = "def f():\n    return 1\n\n\ndef g():\n    pass"
    assert code_pieces(short) == [short]  # under PIECED_FROM lines: one piece
    units = [f"def f{n}():\n    x = {n}\n\n    return x\n\n" for n in range(80)]
    code = "".join(units).rstrip("\n")
    pieces = code_pieces(code)
    assert "\n".join(pieces) == code
    assert len(pieces) > 3
    for piece in pieces[:-1]:
        assert piece.count("\n") + 1 >= PIECE_LINES
        assert piece.rstrip("\n").endswith("return x")  # never inside a definition
    for piece in pieces[1:]:
        assert piece.lstrip("\n").startswith("def ")  # blank lines open the next piece


def test_blocks_freeze_as_soon_as_a_line_ends_them() -> None:
    """A paragraph streamed word by word stays open (splitting is skipped while no line
    completes), and freezes in the frame where the next block's first line is complete."""
    splitter = BlockSplitter()
    splitter.feed("- first item\n")
    assert splitter.advance() == []
    for word in ["and", "more", "words", "on", "the", "second", "line", "of", "the", "list"]:
        splitter.feed(f" {word}")
        assert splitter.advance() == []
    splitter.feed("\n\nA paragraph")
    assert splitter.advance() == []  # its line is not complete: "A" could still be a list
    splitter.feed(" after the list.\n")
    assert splitter.advance() == [
        "- first item\n and more words on the second line of the list\n\n"
    ]
    assert splitter.open_text == "A paragraph after the list.\n"


@pytest.mark.parametrize(
    "block",
    [
        "## A heading\n\n",
        "A paragraph.\n\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
        "> quote\n\n",
        "```python\nx = 1\n```\n\n",
    ],
)
def test_a_blank_line_freezes_a_block_once_the_next_one_begins(block: str) -> None:
    """Headings, paragraphs, tables, quotes and closed fences end at a blank line: they are
    final as soon as the next block's first characters arrive (not drawn again for as long
    as its first line streams)."""
    splitter = BlockSplitter()
    splitter.feed(block)
    assert splitter.advance() == []  # what comes next could still be blank lines
    splitter.feed("Then")
    assert splitter.advance() == [block]
    assert splitter.open_text == "Then"


@pytest.mark.parametrize(
    ("block", "after"),
    [
        ("- item\n\n", "  more"),
        ("1. item\n\n", "  more"),
        ("    indented code\n\n", "  more"),
        ("```\nunclosed\n\n", "  more"),
        # A link reference definition belongs with the block before or after it.
        ("[1]: https://example.com\n\n", "See [the docs][1]"),
        ("A paragraph.\n\n", "[1]: https://exa"),
    ],
)
def test_blocks_a_blank_line_may_not_end_stay_open(block: str, after: str) -> None:
    splitter = BlockSplitter()
    splitter.feed(block + after)
    assert splitter.advance() == []
    assert splitter.open_text == block + after


def test_a_blank_line_ends_a_block_in_a_reply_with_windows_line_endings() -> None:
    splitter = BlockSplitter()
    splitter.feed("## A heading\r\n\r\nThen")
    assert splitter.advance() == ["## A heading\r\n\r\n"]


def test_the_rest_of_a_huge_block_stays_plain_text_after_a_blank_line() -> None:
    """A block too long to format is frozen in raw pieces; its last piece must not be frozen
    as Markdown when a blank line and the next block follow."""
    splitter = BlockSplitter()
    for line in range(FORMAT_LINE_LIMIT * 2 + 7):
        splitter.feed("word word\n")
        if line % 50 == 0:
            splitter.advance()
    splitter.feed("\n")
    splitter.advance()
    splitter.feed("Then")
    splitter.advance()
    splitter.finish()
    assert splitter.frozen[-1] == "Then"
    assert all(isinstance(piece, RawBlock) for piece in splitter.frozen[:-1])


async def test_every_token_on_screen_at_the_end(server: LoopbackServer) -> None:
    """A stream that ends within one frame of its last token still shows that token."""
    tokens = [*build_tokens(300)]
    server.enqueue(stream_of(tokens))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "go")
        await settle(pilot)
        reply = chat(app).session.messages[-1]
        assert reply.content == "".join(tokens)
        assert END_MARKER in visible_text(app)


async def test_screen_shows_text_while_streaming(server: LoopbackServer) -> None:
    """Text appears before the reply ends (nothing waits for the end)."""
    from tests.server import HANG, StreamReply, chunk, sse

    server.enqueue(StreamReply([sse(chunk(HELLO_TEXT)), HANG]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "go")
        screen = chat(app)
        from tests.ui_helpers import until

        await until(pilot, lambda: HELLO_TEXT in visible_text(app))
        assert screen.generating
        await pilot.press("escape")
        await settle(pilot)


def test_reasoning_paragraphs_are_separated_but_the_section_ends_with_text() -> None:
    message = Message(
        "assistant", "Answer.", created_at=CREATED, reasoning="First thought.\n\nSecond thought."
    )
    item = ReplyItem(message, model_label="GLM-5")
    item.reasoning_open = True
    lines = [line.rstrip() for line, _ in plain_lines(item)]
    start = next(i for i, line in enumerate(lines) if "First thought." in line)
    assert lines[start : start + 3] == ["│ First thought.", "│", "│ Second thought."]
    assert lines[start + 3 : start + 5] == ["", "Answer."]  # one blank line, not a bare bar
