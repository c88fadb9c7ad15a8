"""The chat screen driven with Pilot against the loopback server: what a user does and sees."""

from __future__ import annotations

import asyncio
import math

import pytest

from glmtui.ui.items import UserItem
from glmtui.ui.screens.code_picker import CodeBlockPicker
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.conversation import BATCH_SETTLE, ConversationView
from tests.server import (
    HANG,
    HELLO_TEXT,
    JsonReply,
    LoopbackServer,
    StreamReply,
    chunk,
    sse,
    stream_of,
)
from tests.ui_helpers import (
    chat,
    live_reply,
    make_app,
    sample_session,
    send,
    settle,
    until,
    visible_text,
)

SIZE = (120, 40)


async def test_send_stream_complete(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Say hello")
        await settle(pilot)
        screen = chat(app)
        user, reply = screen.session.messages
        assert (user.role, user.content) == ("user", "Say hello")
        assert reply.content == HELLO_TEXT
        assert reply.reasoning == "Thinking briefly."
        assert reply.status == "complete"
        assert reply.finish_reason == "stop"
        assert reply.usage is not None
        assert not reply.usage.estimated
        view = screen.conversation.replies[-1]
        assert view.content_text == HELLO_TEXT
        assert view.rendered_length == len(HELLO_TEXT)
        assert not view.streaming
        assert screen.query_one(Composer).text == ""
        assert screen.session.title == "Say hello"
        sent = server.chat_requests[0].json()
        assert sent["messages"] == [{"role": "user", "content": "Say hello"}]
        assert HELLO_TEXT in visible_text(app)


async def test_second_turn_sends_history_without_reasoning(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "one")
        await settle(pilot)
        await send(pilot, "two")
        await settle(pilot)
        assert server.chat_requests[1].json()["messages"] == [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": HELLO_TEXT},
            {"role": "user", "content": "two"},
        ]


async def test_thinking_state_until_first_token(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("", role="assistant")), HANG]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await until(pilot, lambda: "Thinking…" in visible_text(app))
        await pilot.press("escape")
        await settle(pilot)


async def test_stop_mid_stream_keeps_partial_marked_interrupted(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk(reasoning_content="hmm")), sse(chunk("Partial ")), HANG]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell me everything")
        screen = chat(app)
        view = await live_reply(pilot)
        await until(pilot, lambda: view.rendered_length == len("Partial "))
        assert screen.generating
        await pilot.press("escape")
        await settle(pilot)
        reply = screen.session.messages[-1]
        assert reply.status == "interrupted"
        assert reply.content == "Partial "
        assert reply.reasoning == "hmm"
        assert not screen.generating
        assert "Interrupted" in visible_text(app)
        assert await server.async_wait_for_disconnects(1) >= 1


async def test_escape_when_idle_does_not_stop_anything(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        await pilot.press("escape")
        assert chat(app).session.messages[-1].status == "complete"


async def test_error_shown_inline_with_retry(server: LoopbackServer) -> None:
    server.enqueue(JsonReply(500, {"error": {"message": "upstream exploded"}}))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "please work")
        await settle(pilot)
        screen = chat(app)
        reply = screen.session.messages[-1]
        assert reply.status == "error"
        assert "upstream exploded" in (reply.error or "")
        assert "upstream exploded" in visible_text(app)
        assert screen.session.messages[0].content == "please work"
        offset = screen.conversation.screen_offset_of(reply, "retry")
        assert offset is not None
        await pilot.click(ConversationView, offset=offset)
        await settle(pilot)
        assert [m.role for m in screen.session.messages] == ["user", "assistant"]
        assert screen.session.messages[-1].status == "complete"
        assert screen.session.messages[-1].content == HELLO_TEXT


async def test_composer_keeps_unsent_text_across_an_error(server: LoopbackServer) -> None:
    server.enqueue(StreamReply([sse(chunk("x")), HANG]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first")
        screen = chat(app)
        await until(pilot, lambda: screen.live_reply is not None)
        await until(
            pilot, lambda: screen.live_reply is not None and screen.live_reply.content_text == "x"
        )
        composer = screen.query_one(Composer)
        composer.text = "draft in progress"
        await pilot.press("enter")  # refused while streaming; nothing is lost
        assert composer.text == "draft in progress"
        await server.async_wait_for_requests(1)
        server.stop()  # the connection dies mid-stream
        await settle(pilot)
        assert screen.session.messages[-1].status == "error"
        assert composer.text == "draft in progress"


async def test_regenerate_replaces_last_reply(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["first answer"]))
    server.enqueue(stream_of(["second answer"]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "q")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        screen = chat(app)
        assert [m.content for m in screen.session.messages] == ["q", "second answer"]
        assert len(screen.conversation.replies) == 1
        first, second = (r.json()["messages"] for r in server.chat_requests)
        assert first == second


async def test_edit_and_resend(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "original question")
        await settle(pilot)
        await send(pilot, "follow-up")
        await settle(pilot)
        screen = chat(app)
        screen.conversation.focus()
        screen.conversation.select(0)
        await pilot.press("e")
        composer = screen.query_one(Composer)
        assert composer.text == "original question"
        assert composer.has_focus
        composer.text = "edited question"
        await pilot.press("enter")
        await settle(pilot)
        assert [m.content for m in screen.session.messages] == ["edited question", HELLO_TEXT]
        assert server.chat_requests[-1].json()["messages"] == [
            {"role": "user", "content": "edited question"}
        ]


async def test_edit_cancelled_with_escape_restores_draft(server: LoopbackServer) -> None:
    app = make_app(server, session=sample_session())
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        composer = screen.query_one(Composer)
        composer.text = "my draft"
        screen.conversation.focus()
        screen.conversation.select(0)
        await pilot.press("e")
        assert composer.text.startswith("Write a greet function")
        await pilot.press("escape")
        assert composer.text == "my draft"
        assert len(screen.session.messages) == 2


async def test_copy_message_and_code_blocks(server: LoopbackServer) -> None:
    session = sample_session()
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        conversation = screen.conversation
        conversation.focus()
        conversation.select(1)
        await pilot.press("c")
        assert app.clipboard == session.messages[1].content
        await pilot.press("b")  # two blocks: a picker opens
        await until(pilot, lambda: isinstance(app.screen, CodeBlockPicker))
        await pilot.press("2")
        await until(pilot, lambda: app.screen is screen)
        assert app.clipboard == "python -c 'print(1)'"
        conversation.focus()
        conversation.select(0)
        await pilot.press("c")
        assert app.clipboard == "Write a greet function [and keep it short]"


async def test_copy_single_code_block_directly(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["Run:\n\n```sh\nls -la\n```\n"]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "q")
        await settle(pilot)
        chat(app).conversation.focus()
        await pilot.press("b")
        assert app.clipboard == "ls -la"


async def test_delete_message(server: LoopbackServer) -> None:
    app = make_app(server, session=sample_session())
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        screen.conversation.focus()  # selects the newest message
        await pilot.press("d")
        await pilot.pause()
        assert [m.role for m in screen.session.messages] == ["user"]
        assert not screen.conversation.replies


async def test_follow_tail_versus_scrolled_up(server: LoopbackServer) -> None:
    lines = [f"line {n}\n\n" for n in range(60)]
    parts = [sse(chunk(line)) for line in lines[:30]] + [HANG]
    server.enqueue(StreamReply(parts))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "long please")
        screen = chat(app)
        view = await live_reply(pilot)
        conversation = screen.conversation
        await until(pilot, lambda: view.content_text.count("line") == 30)
        await until(pilot, lambda: conversation.max_scroll_y > 0 and conversation.at_bottom)
        # Scrolling up stops following: more text arrives, the view stays put.
        conversation.focus()
        await pilot.press("pageup")
        await pilot.pause()
        parked = conversation.scroll_y
        assert not conversation.at_bottom
        for line in lines[30:40]:
            view.append_content(line)
            conversation.changed(view)
        await pilot.pause()
        assert conversation.scroll_y == parked
        # End resumes following.
        await pilot.press("end")
        await pilot.pause()
        assert conversation.at_bottom
        for line in lines[40:]:
            view.append_content(line)
            conversation.changed(view)
        await until(pilot, lambda: "line 59" in visible_text(app))
        assert conversation.at_bottom
        # The pane's scrollbar spans it all.
        bar = conversation.vertical_scrollbar
        assert bar.window_virtual_size == conversation.virtual_size.height
        assert bar.position == conversation.scroll_y == conversation.max_scroll_y
        await pilot.press("escape")
        await settle(pilot)


async def test_a_frame_waits_for_the_rest_of_a_read(server: LoopbackServer) -> None:
    """The events one read brings reach the conversation over a few turns of the event loop:
    the frame the first asks for is due a little later, so it draws them all (drawn at once,
    it would show the first, and the rest would wait a whole frame: 35 ms median latency at
    200 tokens/s instead of 21). Checked on the scheduled frame, not by racing the clock."""
    server.enqueue(StreamReply([sse(chunk("", role="assistant")), HANG]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        view = await live_reply(pilot)
        conversation = chat(app).conversation
        await until(pilot, lambda: conversation._frame_handle is None)
        conversation._last_frame = -math.inf  # the next frame is due at once
        view.append_content("one ")
        conversation.changed(view)
        handle = conversation._frame_handle
        assert isinstance(handle, asyncio.TimerHandle)
        assert handle.when() - asyncio.get_running_loop().time() >= BATCH_SETTLE / 2
        await until(pilot, lambda: "one" in visible_text(app))
        await pilot.press("escape")
        await settle(pilot)


async def test_an_error_while_drawing_a_frame_stops_the_app_with_it(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames are drawn from event-loop callbacks, where an exception would only be logged and
    the pane would stop drawing without a word: it reaches Textual as a handler's error does
    (shown, the app ended)."""
    app = make_app(server)
    with pytest.raises(RuntimeError, match="frame failed"):
        async with app.run_test(size=SIZE) as pilot:
            conversation = chat(app).conversation

            def broken() -> None:
                raise RuntimeError("frame failed")

            monkeypatch.setattr(conversation, "_frame", broken)
            conversation._frame_safely()
            await until(pilot, lambda: app.return_code is not None)


async def test_live_numbers_while_text_flows_and_after_it_stalls(server: LoopbackServer) -> None:
    """The reply's header counts tokens as they stream (refreshed inside the text's frames)
    and still says how many arrived once the stream goes quiet."""
    parts: list[object] = [sse(chunk("", role="assistant"))]
    for n in range(40):
        parts += [sse(chunk(f"word{n} ")), 0.02]
    server.enqueue(StreamReply([*parts, HANG]))  # type: ignore[arg-type]
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "count")
        view = await live_reply(pilot)
        await until(pilot, lambda: "tok/s" in view.meta)
        await until(pilot, lambda: "word39" in visible_text(app))
        # Stalled: the count catches up with everything that arrived, and is drawn.
        stats = view.stats
        assert stats is not None
        await until(pilot, lambda: f"{stats.completion_tokens:,} tokens" in view.meta)
        tokens = view.meta.split(" · ")[2]
        await until(pilot, lambda: tokens in visible_text(app))
        assert view.streaming
        await pilot.press("escape")
        await settle(pilot)


async def test_markup_looking_text_is_shown_literally(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["Reply with [bold]brackets[/bold] and [link=x]y[/link]"]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "User says [red]not red[/red]")
        await settle(pilot)
        text = visible_text(app)
        assert "User says [red]not red[/red]" in text
        assert "[bold]brackets[/bold]" in text
        assert "[link=x]y[/link]" in text


async def test_composer_history_recall(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first prompt")
        await settle(pilot)
        await send(pilot, "second prompt")
        await settle(pilot)
        composer = chat(app).query_one(Composer)
        composer.focus()
        await pilot.press("up")
        assert composer.text == "second prompt"
        await pilot.press("up")
        assert composer.text == "first prompt"
        await pilot.press("down")
        assert composer.text == "second prompt"
        await pilot.press("down")
        assert composer.text == ""


async def test_newline_key_does_not_send(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        composer = chat(app).query_one(Composer)
        composer.focus()
        await pilot.press("a", "ctrl+j", "b")
        assert composer.text == "a\nb"
        assert server.chat_requests == []
        await pilot.press("enter")
        await settle(pilot)
        assert server.chat_requests[0].json()["messages"][0]["content"] == "a\nb"


async def test_toggle_reasoning_setting_and_per_message(server: LoopbackServer) -> None:
    app = make_app(server, session=sample_session())
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        conversation = screen.conversation
        view = conversation.replies[-1]
        assert "▶ Reasoning · 13 words" in visible_text(app)
        assert "tiny Python function" not in visible_text(app)
        conversation.focus()
        await pilot.press("t")
        await pilot.pause()
        assert view.reasoning_open
        assert "tiny Python function" in visible_text(app)
        await pilot.press("t")
        await pilot.pause()
        assert "tiny Python function" not in visible_text(app)
        offset = conversation.screen_offset_of(view.message, "toggle_reasoning")
        assert offset is not None
        await pilot.click(ConversationView, offset=offset)  # the fold line
        await pilot.pause()
        assert "tiny Python function" in visible_text(app)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Reasoning ·" not in visible_text(app)


async def test_show_reasoning_off_hides_it(server: LoopbackServer) -> None:
    app = make_app(server, show_reasoning=False)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        reply = chat(app).session.messages[-1]
        assert reply.reasoning == "Thinking briefly."  # still kept with the message
        assert "Reasoning" not in visible_text(app)


async def test_status_bar_shows_usage_context_and_cost(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        status = visible_text(app).splitlines()[-2]
        assert "GLM-5" in status
        assert "in 11" in status
        assert "of 200k" in status
        assert "$" in status  # the model card's prices are known


async def test_status_bar_marks_estimates_when_no_usage(server: LoopbackServer) -> None:
    server.enqueue(stream_of(["no usage here"], usage=None))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        reply = chat(app).session.messages[-1]
        assert reply.usage is not None
        assert reply.usage.estimated
        assert "out ~" in visible_text(app).splitlines()[-2]


async def test_context_gauge_warns_at_80_percent(server: LoopbackServer) -> None:
    usage = {"prompt_tokens": 165_000, "completion_tokens": 10, "total_tokens": 165_010}
    server.enqueue(stream_of(["ok"], usage=usage))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "big")
        await settle(pilot)
        assert "⚠" in visible_text(app).splitlines()[-2]


async def test_help_panel_lists_keys(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = visible_text(app)
        assert "Regenerate the last reply" in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is chat(app)


@pytest.mark.parametrize(
    "title",
    ["chat: stop", "chat: regenerate", "chat: new", "message: copy", "view: toggle reasoning"],
)
async def test_palette_has_commands(server: LoopbackServer, title: str) -> None:
    app = make_app(server, session=sample_session())
    async with app.run_test(size=SIZE) as pilot:
        titles = [c.title for c in app.get_system_commands(chat(app))]
        assert title in titles
        await pilot.pause()


async def test_palette_copy_runs(server: LoopbackServer) -> None:
    session = sample_session()
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"message: copy")
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: app.clipboard == session.messages[-1].content)


async def test_new_chat_clears(server: LoopbackServer) -> None:
    app = make_app(server, session=sample_session())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = chat(app)
        assert screen.session.messages == []
        assert not screen.conversation.items


async def test_a_long_prompt_is_folded_and_unfolds_whole(server: LoopbackServer) -> None:
    """A pasted log shows its first lines and a fold line; o or a click shows it all; copy,
    the request and the session always have the whole text."""
    prompt = "".join(f"log line {n:03d}\n" for n in range(200)) + "what failed?"
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, prompt)
        await settle(pilot)
        screen = chat(app)
        conversation = screen.conversation
        text = visible_text(app)
        assert "log line 000" in text
        assert "log line 011" in text
        assert "log line 012" not in text
        assert "⋯ 201 lines, 2,612 characters in all · click or press o to show" in text
        assert server.chat_requests[-1].json()["messages"][-1]["content"] == prompt
        conversation.focus()
        conversation.select(0)
        await pilot.press("o")
        await pilot.pause()
        item = conversation.items[0]
        assert isinstance(item, UserItem)
        assert item.expanded
        assert "log line 012" in visible_text(app)
        conversation.scroll_to(y=conversation.row_of(0)[1] - 10, animate=False)  # its end
        await pilot.pause()
        assert "what failed?" in visible_text(app)
        offset = conversation.screen_offset_of(item.message, "toggle_fold")
        assert offset is not None
        assert "▲ click or press o to fold" in visible_text(app)
        assert "o Fold" in visible_text(app)  # the footer offers the other way
        await pilot.click(ConversationView, offset=offset)
        await pilot.pause()
        assert not item.expanded
        assert "o Expand" in visible_text(app)
        await pilot.press("o", "o")  # the same key unfolds and folds
        await pilot.pause()
        assert not item.expanded
        await pilot.press("c")
        assert app.clipboard == prompt
    assert screen.session.messages[0].content == prompt


@pytest.mark.parametrize("blink", [True, False])
async def test_cursor_blink_setting_reaches_every_text_field(blink: bool) -> None:
    """``cursor_blink = false`` stills the composer's cursor and that of fields on screens
    opened later (the session browser's search); the default blinks."""
    from textual.widgets import Input

    from glmtui.ui.screens.sessions import SessionsScreen

    app = make_app(None, cursor_blink=blink)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        composer = chat(app).query_one(Composer)
        assert composer.has_focus
        assert composer.cursor_blink is blink
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        search = app.screen.query_one(Input)
        search.focus()
        await until(pilot, lambda: search.has_focus)
        await pilot.pause()
        assert search.cursor_blink is blink
