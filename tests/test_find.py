"""Find in the conversation (Ctrl+F): the search over the messages' text, and what the user
sees: the count, next / previous with wrap-around, a match in folded reasoning unfolded and
scrolled to, Esc clearing every mark, and finding while a reply streams."""

from __future__ import annotations

from textual.widgets import Input, Static

from glmtui.domain import Message, Session
from glmtui.ui.compacted import CompactedItem
from glmtui.ui.find import ConversationSearch, line_spans
from glmtui.ui.items import ReplyItem, UserItem
from glmtui.ui.widgets.conversation import ConversationView
from glmtui.ui.widgets.find_bar import FindBar
from tests.server import HANG, LoopbackServer, StreamReply, chunk, sse
from tests.ui_helpers import FIXED_TIME, chat, live_reply, make_app, send, until, visible_text

SIZE = (100, 30)


def _session() -> Session:
    """Forty exchanges; "needle" in the first prompt, in the folded reasoning of the first
    reply (far above the view: not even drawn at first), in a long folded prompt, and last
    in the newest reply (and its folded reasoning)."""
    messages: list[Message] = []
    for n in range(40):
        prompt = f"Question {n}?"
        reasoning = f"Thinking about {n}."
        answer = f"Answer {n}: " + "words " * 20
        if n == 0:
            prompt = "Where is the Needle?"
            reasoning = "Somewhere deep: the needle hides in this reasoning."
        if n == 20:
            prompt = "\n".join(f"log line {i}" for i in range(200)) + "\nneedle at the end"
        if n == 39:
            reasoning = "Look for the needle."  # folded: its match is not drawn
            answer = "Found: a needle, and another NEEDLE."
        messages.append(Message("user", prompt, created_at=FIXED_TIME))
        messages.append(
            Message(
                "assistant", answer, created_at=FIXED_TIME, reasoning=reasoning, status="complete"
            )
        )
    return Session(
        id="find", title="Find", created_at=FIXED_TIME, updated_at=FIXED_TIME, messages=messages
    )


def test_search_counts_every_text_with_smart_case() -> None:
    """The search covers prompts, folded reasoning and answers; lower case matches any case,
    an upper-case letter asks for exact case; compacted messages count only while shown."""
    session = _session()
    items = [
        UserItem(m) if m.role == "user" else ReplyItem(m, show_reasoning=True)
        for m in session.messages
    ]
    search = ConversationSearch()
    matches = search.search(items, "needle")
    assert len(matches) == 6
    assert [(m.index, m.field) for m in matches] == [
        (0, "prompt"),
        (1, "reasoning"),
        (40, "prompt"),
        (79, "reasoning"),
        (79, "answer"),
        (79, "answer"),
    ]
    assert [m.ordinal for m in matches[-3:]] == [0, 1, 2]
    assert len(search.search(items, "NEEDLE")) == 1
    assert len(search.search(items, "Needle")) == 1
    assert line_spans("a Needle, a needle", "needle") == [(2, 8), (12, 18)]
    fold = CompactedItem(
        session.messages[:2], lambda m: UserItem(m) if m.role == "user" else ReplyItem(m)
    )
    assert len(search.search([fold], "needle")) == 0
    fold.expanded = True
    assert len(search.search([fold], "needle")) == 2


async def test_find_counts_moves_unfolds_and_clears() -> None:
    app = make_app(session=_session())
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        view = screen.conversation
        first_reply = view.items[1]
        assert isinstance(first_reply, ReplyItem)
        assert not first_reply.reasoning_open
        assert screen.composer.has_focus
        await pilot.press("ctrl+f")
        bar = screen.query_one(FindBar)
        assert bar.has_class("-open")
        assert bar.input.has_focus
        await pilot.press(*"needle")
        count = bar.query_one("#find-count", Static)
        await until(pilot, lambda: str(count.render()) == "6 of 6")
        # The newest match is the current one: marked, in view, and drawn distinct.
        marks = _marked_segments(view)
        assert ("NEEDLE", True) in marks  # the current one: reversed
        assert ("needle", False) in marks  # the other on the same line: underlined
        await pilot.press("enter")  # wraps to the first match, far above (not drawn yet)
        await until(pilot, lambda: str(count.render()) == "1 of 6")
        assert "Where is the Needle?" in visible_text(app)
        await pilot.press("enter")  # the folded reasoning of the first reply: unfolded
        await until(pilot, lambda: str(count.render()) == "2 of 6")
        await until(pilot, lambda: first_reply.reasoning_open)
        await pilot.pause()
        assert "the needle hides in this reasoning" in visible_text(app)
        await pilot.press("shift+enter", "shift+enter", "shift+enter")  # 1, then wrap: 6, 5
        await until(pilot, lambda: str(count.render()) == "5 of 6")
        # n / N move too once the conversation has focus.
        view.focus()
        await pilot.press("n")
        await until(pilot, lambda: str(count.render()) == "6 of 6")
        await pilot.press("N", "N", "N")
        await until(pilot, lambda: str(count.render()) == "3 of 6")
        long_prompt = view.items[40]
        assert isinstance(long_prompt, UserItem)
        assert long_prompt.expanded
        await pilot.pause()
        assert "needle at the end" in visible_text(app)
        current = view.find_highlight.current if view.find_highlight is not None else None
        assert current == (id(long_prompt), 0)
        # A query with no match says so.
        await pilot.press("ctrl+f", "x", "y", "z")  # the query typed last is selected
        await until(pilot, lambda: str(count.render()) == "no match")
        # Esc closes the bar, clears the marks and gives focus back (the conversation had it).
        await pilot.press("escape")
        assert not bar.is_open
        assert view.find_highlight is None
        assert view.has_focus
        await pilot.pause()
        assert all(
            "find" not in repr(key) for item in view.items for key in _strip_keys(view, item)
        )
        assert _marked_segments(view) == []


def _marked_segments(view: ConversationView) -> list[tuple[str, bool]]:
    """``(text, current)`` of every marked segment on screen."""
    out: list[tuple[str, bool]] = []
    for y in range(view.size.height):
        for segment in view.render_line(y):
            style = segment.style
            if style is not None and (style.reverse or style.underline):
                out.append((segment.text, bool(style.reverse)))
    return out


def _strip_keys(view: object, item: object) -> list[object]:
    """Style keys of every strip cached for ``item``'s parts (no mark may be among them)."""
    parts = getattr(view, "_parts", {}).get(id(item), [])
    return [key for part in parts for key in part.strips]


async def test_find_while_a_reply_streams(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("The haystack has a pin. ")), HANG]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Where is the pin?")
        screen = chat(app)
        reply = await live_reply(pilot)
        await until(pilot, lambda: reply.rendered_length > 0)
        await pilot.press("ctrl+f", "p", "i", "n")
        bar = screen.query_one(FindBar)
        count = bar.query_one("#find-count", Static)
        await until(pilot, lambda: str(count.render()) == "2 of 2")
        # The reply streams on with the bar open; its new text is found on the next move.
        reply.append_content("Another pin.")
        screen.conversation.changed(reply)
        await until(pilot, lambda: "Another pin." in visible_text(app))
        await pilot.press("enter")
        await until(pilot, lambda: str(count.render()).endswith("of 3"))
        assert screen.generating
        await pilot.press("escape")  # closes the bar; the reply goes on streaming
        assert not bar.is_open
        assert screen.generating
        assert screen.composer.has_focus
        assert screen.query_one("#find-input", Input).value == "pin"
        screen.controller.stop()
        await until(pilot, lambda: not screen.generating)
