"""Compaction on the chat screen, with Pilot against the loopback server: F8, ``/compact``
typed in the composer, the summary streaming and Esc, the fold and its unfolding, undo (``u``
and ``/compact undo``), the palette, and compaction that starts by itself before a send."""

from __future__ import annotations

from glmtui.chat.compaction import INSTRUCTION, live_summary
from glmtui.config import CompactionSettings
from glmtui.domain import Message, Session, Usage
from glmtui.domain.tools import ToolCall
from glmtui.ui.compacted import CompactedItem, SummaryItem
from glmtui.ui.items import ReplyItem, UserItem
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.conversation import ConversationView
from tests.server import HANG, LoopbackServer, StreamReply, chunk, sse, stream_of
from tests.ui_helpers import (
    FIXED_TIME,
    Notices,
    chat,
    live_reply,
    make_app,
    send,
    settle,
    until,
    visible_text,
)

SIZE = (120, 40)


def conversation(exchanges: int) -> Session:
    """``exchanges`` short prompts and replies."""
    session = Session(id="compact-me", title="Long chat", created_at=FIXED_TIME)
    for n in range(1, exchanges + 1):
        session.messages.append(Message("user", f"Question {n}?", created_at=FIXED_TIME))
        session.messages.append(
            Message(
                "assistant",
                f"Answer {n}.",
                created_at=FIXED_TIME,
                status="complete",
                usage=Usage(prompt_tokens=40 * n, completion_tokens=5, total_tokens=40 * n + 5),
            )
        )
    return session


def kinds(screen: object) -> list[str]:
    return [type(item).__name__ for item in chat_view(screen).items]


def chat_view(screen: object) -> ConversationView:
    view = screen.conversation  # type: ignore[attr-defined]
    assert isinstance(view, ConversationView)
    return view


async def test_f8_compacts_and_the_earlier_messages_fold(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["We covered ", "questions 1 and 2."], usage=True))
    app = make_app(server, session=conversation(4))
    async with app.run_test(size=SIZE) as pilot:
        notices = Notices(app)
        screen = chat(app)
        await pilot.press("f8")
        await settle(pilot)
        summary = live_summary(screen.session.messages)
        assert summary is not None
        assert summary.content.endswith("We covered questions 1 and 2.")
        assert server.chat_requests[0].json()["messages"][-1]["content"] == INSTRUCTION
        assert kinds(screen) == [
            "CompactedItem",
            "SummaryItem",
            "UserItem",
            "ReplyItem",
            "UserItem",
            "ReplyItem",
        ]
        text = visible_text(app)
        assert "▸ 4 earlier messages compacted into the summary below · o shows them" in text
        assert "Summary of 4 earlier messages" in text
        assert "We covered questions 1 and 2." in text
        assert "Question 1?" not in text
        assert "Question 3?" in text
        assert "Compacted 4 messages into a summary" in notices.text
        assert not screen.generating


async def test_compact_n_and_undo_typed_in_the_composer(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["All but the last."]))
    session = conversation(4)
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        notices = Notices(app)
        screen = chat(app)
        before = screen.controller.request_for().body()
        await send(pilot, "/compact 1")
        await settle(pilot)
        assert screen.query_one(Composer).text == ""
        assert [m.compacted for m in session.messages[:6]] == [True] * 6
        assert len(server.chat_requests) == 1  # the summary's request; no prompt was sent
        assert "▸ 6 earlier messages" in visible_text(app)
        await send(pilot, "/compact undo")
        await settle(pilot)
        assert screen.query_one(Composer).text == ""
        assert screen.controller.request_for().body() == before
        assert kinds(screen) == ["UserItem", "ReplyItem"] * 4
        assert "Compaction undone: the 6 messages are sent again." in notices.text
        assert len(server.chat_requests) == 1


async def test_what_cannot_be_compacted_is_refused_and_the_text_stays(
    server: LoopbackServer,
) -> None:
    app = make_app(server, session=conversation(2))
    async with app.run_test(size=SIZE) as pilot:
        notices = Notices(app)
        screen = chat(app)
        await send(pilot, "/compact")
        await pilot.pause()
        assert "Nothing to compact: compaction keeps the last 2 exchanges" in notices.text
        assert screen.query_one(Composer).text == "/compact"
        await send(pilot, "/compact later please")
        await pilot.pause()
        assert "Type /compact to summarise" in notices.messages[-1]
        await send(pilot, "/compact undo")
        await pilot.pause()
        assert "Nothing to undo" in notices.messages[-1]
        assert not server.chat_requests  # nothing was sent, not even as a prompt
        assert kinds(screen) == ["UserItem", "ReplyItem"] * 2


async def test_esc_stops_the_summary_and_nothing_changes(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("A summary in the ")), sse(chunk("making")), HANG]))
    session = conversation(4)
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        notices = Notices(app)
        screen = chat(app)
        await pilot.press("f8")
        item = await live_reply(pilot)
        assert isinstance(item, SummaryItem)
        await until(pilot, lambda: "making" in visible_text(app))
        text = visible_text(app)
        assert "Summarising 4 earlier messages" in text
        assert "Esc stops, nothing changes" in text
        await send(pilot, "Meanwhile?")
        await pilot.pause()
        assert "still streaming" in notices.messages[-1]
        await pilot.press("escape")
        await settle(pilot)
        assert "Compaction stopped; nothing changed." in notices.text
        assert not any(m.compacted or m.summary_of for m in session.messages)
        assert kinds(screen) == ["UserItem", "ReplyItem"] * 4
        assert "A summary in the making" not in visible_text(app)
        assert not screen.generating


async def test_the_fold_unfolds_and_u_undoes(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["Summary."]))
    session = conversation(3)
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        await send(pilot, "/compact 1")
        await settle(pilot)
        view = chat_view(screen)
        fold = view.items[0]
        assert isinstance(fold, CompactedItem)
        view.focus()
        view.select(0)
        await pilot.pause()
        footer = visible_text(app)
        assert "o Expand" in footer
        assert "u Undo compaction" in footer
        assert "d Delete" not in footer  # a fold is not one message to delete or copy
        await pilot.press("o")
        await pilot.pause()
        assert fold.expanded
        text = visible_text(app)
        assert "▾ 4 compacted messages: not sent, the summary below is · o folds them" in text
        assert "Question 1?" in text
        assert "Answer 2." in text
        offset = view.screen_offset_of(fold.message, "toggle_fold")
        assert offset is not None
        await pilot.click(ConversationView, offset=offset)
        await pilot.pause()
        assert not fold.expanded
        view.select(1)  # the summary
        await pilot.pause()
        assert isinstance(view.selected_item, SummaryItem)
        assert "d Delete" not in visible_text(app)  # undo takes it away, with its compaction
        await pilot.press("u")
        await settle(pilot)
        assert not any(m.compacted or m.summary_of for m in session.messages)
        assert all(isinstance(i, UserItem | ReplyItem) for i in view.items)
        assert "Question 1?" in visible_text(app)


async def test_the_palette_offers_compact_and_undo(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["Summary."]))
    app = make_app(server, session=conversation(3))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        titles = {command.title: command for command in screen.palette_commands()}
        assert "chat: undo compaction" not in titles
        assert "all but the last 2 exchanges" in titles["chat: compact"].help
        titles["chat: compact"].callback()
        await settle(pilot)
        assert live_summary(screen.session.messages) is not None
        titles = {command.title: command for command in screen.palette_commands()}
        titles["chat: undo compaction"].callback()
        await pilot.pause()
        assert live_summary(screen.session.messages) is None


async def test_a_send_over_the_share_compacts_first_and_says_so(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["Summary of it all."]))
    server.enqueue(stream_of(["Answer 4."]))
    session = conversation(3)
    session.messages[-1].usage = Usage(
        prompt_tokens=150_000, completion_tokens=10, total_tokens=150_010
    )
    settings = CompactionSettings(keep=1, auto_at=0.7)
    app = make_app(server, session=session, compaction=settings)
    async with app.run_test(size=SIZE) as pilot:
        notices = Notices(app)
        screen = chat(app)
        await send(pilot, "Question 4?")
        await settle(pilot)
        assert "of the model's 200,000-token context window" in notices.text
        assert "compacting 6 earlier messages first" in notices.text
        summarising, answering = server.chat_requests
        assert summarising.json()["messages"][-1]["content"] == INSTRUCTION
        assert [m["content"] for m in answering.json()["messages"]][-1] == "Question 4?"
        assert len(answering.json()["messages"]) == 2  # the summary and the prompt
        assert kinds(screen) == ["CompactedItem", "SummaryItem", "UserItem", "ReplyItem"]
        assert screen.session.messages[-1].content == "Answer 4."


def test_a_fold_counts_replies_not_tool_results_and_both_ends_fold_it() -> None:
    call = ToolCall("call-1", "box_echo", '{"text": "hi"}')
    messages = [
        Message("user", "Echo hi", created_at=FIXED_TIME),
        Message("assistant", "", created_at=FIXED_TIME, tool_calls=(call,), status="complete"),
        Message("tool", "echo: hi", created_at=FIXED_TIME, tool_call_id="call-1"),
        Message("assistant", "It said hi.", created_at=FIXED_TIME, status="complete"),
    ]
    results = {"call-1": messages[2]}

    def make(message: Message) -> UserItem | ReplyItem:
        if message.role == "user":
            return UserItem(message)
        return ReplyItem(message, model_label="GLM-5", tool_results=results)

    fold = CompactedItem(messages, make)
    assert fold.count == 3  # the tool result is drawn inside the reply that called it
    [line] = [c.plain for part in fold.parts(100) for c in part.content]
    assert line.startswith("▸ 3 earlier messages compacted into the summary below")
    fold.expanded = True
    lines = [c.plain for part in fold.parts(100) for c in part.content]
    assert lines[0].startswith("▾ 3 compacted messages")
    assert lines[-1] == "▴ end of the compacted messages · o folds them"
    assert [spot.action for spot in fold.hotspots] == ["toggle_fold", "toggle_fold"]
    assert [lines[spot.line][0] for spot in fold.hotspots] == ["▾", "▴"]
    assert "Echo hi" in lines
    assert "It said hi." in lines
