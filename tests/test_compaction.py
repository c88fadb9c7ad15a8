"""Compaction, without a screen: the controller against the loopback server.

What the summarising request carries, what later requests carry instead of the compacted
turns, what the session file keeps, that undo brings the exact earlier request back, that a
summary which does not complete (stopped, failed, cut short) changes nothing, the refusals,
compaction that starts by itself before a large send, and ``glmtui ask --session`` on a
compacted session.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.chat import events as ev
from glmtui.chat.compaction import (
    INSTRUCTION,
    PREFACE,
    CompactionRefused,
    context_messages,
    live_summary,
    plan_compaction,
    request_estimate,
)
from glmtui.chat.controller import ConversationController, TurnRefused
from glmtui.config import CompactionSettings, ConfigError, load_settings
from glmtui.domain import Message, Parameters, Pricing, Session, Usage, utc_now
from glmtui.domain.stats import conversation_cost
from glmtui.domain.tools import ToolCall
from glmtui.store import SessionStore
from tests.conftest import FAKE_KEY
from tests.server import HANG, JsonReply, LoopbackServer, StreamReply, chunk, sse, stream_of
from tests.test_controller import Recorder, on_disk
from tests.test_controller_tools import Tools


@pytest.fixture
async def client(server: LoopbackServer) -> AsyncIterator[ChatClient]:
    async with ChatClient(
        server.base_url, FAKE_KEY, retry=RetryPolicy(max_retries=0)
    ) as the_client:
        yield the_client


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "data")


def conversation(exchanges: int, *, system_prompt: str = "Be brief.") -> Session:
    """``exchanges`` finished prompts and replies (each reply with reported usage)."""
    session = Session(
        title="Long chat",
        system_prompt=system_prompt,
        parameters=Parameters(temperature=0.3, max_tokens=400),
    )
    earlier = utc_now() - timedelta(minutes=10)
    for n in range(1, exchanges + 1):
        session.messages.append(Message("user", f"Q{n}", created_at=earlier))
        session.messages.append(
            Message(
                "assistant",
                f"A{n}",
                created_at=earlier,
                status="complete",
                usage=Usage(prompt_tokens=100 * n, completion_tokens=10, total_tokens=100 * n + 10),
            )
        )
    return session


def controller(
    client: ChatClient,
    store: SessionStore | None,
    recorder: Recorder,
    session: Session,
    *,
    tools: Tools | None = None,
    settings: CompactionSettings | None = None,
    limit: int | None = None,
) -> ConversationController:
    chat = ConversationController(
        session,
        client=lambda session: client,
        store=(lambda: store) if store is not None else None,
        on_event=recorder,
        tools=lambda session: tools,
    )
    if settings is not None:
        chat.compaction_settings = settings
    if limit is not None:
        chat.context_limit = lambda: limit
    if store is not None:
        chat.save()  # the session exists on disk before it is compacted
    return chat


def state(session: Session) -> list[tuple[str, str, bool, tuple[str, ...]]]:
    """Everything compaction may change, message by message."""
    return [(m.id, m.content, m.compacted, m.summary_of) for m in session.messages]


def contents(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in body["messages"]]


async def test_compact_summarises_the_turns_before_the_last_exchanges(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(stream_of(["Asked Q1 ", "and Q2."], reasoning_tokens=["Hm."], usage=True))
    recorder = Recorder()
    session = conversation(4)
    chat = controller(client, store, recorder, session, tools=Tools())
    summary = await chat.compact(2)

    [request] = server.chat_requests
    body = request.json()
    assert contents(body) == [
        ("system", "Be brief."),
        ("user", "Q1"),
        ("assistant", "A1"),
        ("user", "Q2"),
        ("assistant", "A2"),
        ("user", INSTRUCTION),
    ]
    assert (body["model"], body["temperature"], body["max_tokens"]) == (session.model, 0.3, 400)
    assert "tools" not in body  # the same model and parameters, but nothing to call

    assert summary is not None
    assert (summary.role, summary.content) == ("user", f"{PREFACE}\n\nAsked Q1 and Q2.")
    assert not summary.reasoning
    assert summary.usage is not None
    assert summary.usage.completion_tokens == 2  # counted like any reply's
    replaced = session.messages[:4]
    assert summary.summary_of == tuple(m.id for m in replaced)
    assert [m.compacted for m in session.messages] == [True] * 4 + [False] * 5
    assert session.messages[4] is summary
    assert recorder.kinds() == [
        "CompactionStarted",
        "ReasoningAdded",
        "ContentAdded",
        "ContentAdded",
        "UsageReported",
        "Compacted",
    ]
    [started] = recorder.of(ev.CompactionStarted)
    assert isinstance(started, ev.CompactionStarted)
    assert started.messages == tuple(replaced)
    assert not started.auto
    assert started.reply not in session.messages  # it streamed beside the conversation
    [done] = recorder.of(ev.Compacted)
    assert isinstance(done, ev.Compacted)
    assert (done.summary, done.index, done.messages) == (summary, 4, tuple(replaced))
    assert done.after < done.before
    assert not chat.generating


async def test_later_requests_carry_the_summary_and_the_file_keeps_every_message(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(stream_of(["The summary."]))
    server.enqueue(stream_of(["A5"]))
    session = conversation(4)
    chat = controller(client, store, Recorder(), session)
    summary = await chat.compact(2)
    assert summary is not None
    await chat.send("Q5")
    assert contents(server.chat_requests[1].json()) == [
        ("system", "Be brief."),
        ("user", summary.content),
        ("user", "Q3"),
        ("assistant", "A3"),
        ("user", "Q4"),
        ("assistant", "A4"),
        ("user", "Q5"),
    ]
    assert chat.request_for("Q6").body()["messages"][1]["content"] == summary.content

    saved = on_disk(store, session.id)  # needs the session codec's compacted / summary_of
    assert [(m.content, m.compacted) for m in saved.messages] == [
        ("Q1", True),
        ("A1", True),
        ("Q2", True),
        ("A2", True),
        (summary.content, False),
        ("Q3", False),
        ("A3", False),
        ("Q4", False),
        ("A4", False),
        ("Q5", False),
        ("A5", False),
    ]
    assert saved.messages[4].summary_of == summary.summary_of
    assert saved.wire_messages() == session.wire_messages()


async def test_undo_brings_back_the_exact_request(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(stream_of(["The summary."]))
    recorder = Recorder()
    session = conversation(3)
    chat = controller(client, store, recorder, session)
    before, request = state(session), chat.request_for("next").body()
    summary = await chat.compact(1)
    assert chat.request_for("next").body() != request
    restored = chat.undo_compaction()
    assert restored == tuple(session.messages[:4])
    assert chat.request_for("next").body() == request
    assert state(session) == before
    [undone] = recorder.of(ev.CompactionUndone)
    assert isinstance(undone, ev.CompactionUndone)
    assert (undone.summary, undone.messages) == (summary, restored)
    assert state(on_disk(store, session.id)) == before
    with pytest.raises(TurnRefused, match="Nothing to undo"):
        chat.undo_compaction()


async def test_compactions_nest_and_undo_walks_back_one_at_a_time(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(stream_of(["First summary."]))
    server.enqueue(stream_of(["A4"]))
    server.enqueue(stream_of(["Second summary."]))
    session = conversation(3)
    chat = controller(client, store, Recorder(), session)
    first = await chat.compact(1)
    await chat.send("Q4")
    assert first is not None
    with_first = chat.request_for().body()
    second = await chat.compact(1)
    assert second is not None
    # The second summarises the first with the exchange after it: one summary in requests.
    assert contents(server.chat_requests[2].json())[1:] == [
        ("user", first.content),
        ("user", "Q3"),
        ("assistant", "A3"),
        ("user", INSTRUCTION),
    ]
    assert first.compacted
    assert first.id in second.summary_of
    assert live_summary(session.messages) is second
    assert [m["content"] for m in chat.request_for().body()["messages"][1:]] == [
        second.content,
        "Q4",
        "A4",
    ]
    with pytest.raises(TurnRefused, match="Only the latest"):
        chat.undo_compaction(first)
    chat.undo_compaction(second)
    assert live_summary(session.messages) is first
    assert chat.request_for().body() == with_first
    chat.undo_compaction()
    assert not any(m.compacted or m.summary_of for m in session.messages)


async def test_stop_while_summarising_changes_nothing(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(StreamReply([sse(chunk("Half a ")), sse(chunk("summary")), HANG]))
    server.enqueue(stream_of(["A4"]))
    recorder = Recorder()
    session = conversation(3)
    chat = controller(client, store, recorder, session)
    before, on_file = state(session), state(on_disk(store, session.id))
    task = asyncio.create_task(chat.compact(1))
    await recorder.until(lambda: len(recorder.of(ev.ContentAdded)) == 2)
    assert chat.generating
    with pytest.raises(TurnRefused, match="still streaming"):
        await chat.send("Not now")
    chat.stop()
    assert await task is None
    assert not chat.generating
    assert state(session) == before
    assert state(on_disk(store, session.id)) == on_file
    [abandoned] = recorder.of(ev.CompactionAbandoned)
    assert isinstance(abandoned, ev.CompactionAbandoned)
    assert abandoned.stopped
    assert abandoned.reply.content == "Half a summary"  # what arrived, for the front end
    assert "nothing changed" in abandoned.reason
    assert not recorder.of(ev.Compacted)
    assert server.wait_for_disconnects(1, timeout=30) == 1
    await chat.send("Q4")  # a stopped compaction leaves the controller ready
    assert chat.session.messages[-1].content == "A4"


async def test_when_the_program_ends_while_summarising_nothing_changes(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(StreamReply([sse(chunk("Half")), HANG]))
    recorder = Recorder()
    session = conversation(3)
    chat = controller(client, store, recorder, session)
    before = state(session)
    task = asyncio.create_task(chat.compact(1))
    await recorder.until(lambda: bool(recorder.of(ev.ContentAdded)))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert state(session) == before
    assert state(on_disk(store, session.id)) == before
    assert not chat.generating


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (JsonReply(500, {"error": {"message": "upstream exploded"}}), "upstream exploded"),
        (StreamReply([sse(chunk("Some")), sse({"error": {"message": "boom"}})]), "boom"),
        (stream_of(["Cut"], finish_reason="length"), "cut short (length)"),
        (stream_of([" ", "\n"]), "empty summary"),
    ],
    ids=["rejected", "failed-mid-stream", "cut-short", "empty"],
)
async def test_a_summary_that_does_not_complete_changes_nothing(
    server: LoopbackServer, client: ChatClient, store: SessionStore, reply: Any, why: str
) -> None:
    server.enqueue(reply)
    recorder = Recorder()
    session = conversation(3)
    chat = controller(client, store, recorder, session)
    before = state(session)
    assert await chat.compact(1) is None
    assert state(session) == before
    assert state(on_disk(store, session.id)) == before
    [abandoned] = recorder.of(ev.CompactionAbandoned)
    assert isinstance(abandoned, ev.CompactionAbandoned)
    assert why in abandoned.reason
    assert not abandoned.stopped


async def test_refusals(server: LoopbackServer, client: ChatClient, store: SessionStore) -> None:
    chat = controller(client, store, Recorder(), conversation(2))
    with pytest.raises(
        TurnRefused, match=r"keeps the last 2 exchanges, and this conversation has 2 \("
    ):
        await chat.compact()
    with pytest.raises(TurnRefused, match="Nothing to undo"):
        chat.undo_compaction()
    empty = controller(client, None, Recorder(), Session())
    with pytest.raises(TurnRefused, match="Nothing to compact yet"):
        await empty.compact(0)

    server.enqueue(StreamReply([sse(chunk("x")), HANG]))
    recorder = Recorder()
    busy = controller(client, store, recorder, conversation(4))
    turn = asyncio.create_task(busy.send("Q5"))
    await recorder.until(lambda: bool(recorder.of(ev.ContentAdded)))
    with pytest.raises(TurnRefused, match="still streaming"):
        await busy.compact(1)
    with pytest.raises(TurnRefused, match="still streaming"):
        busy.undo_compaction()
    busy.stop()
    await turn

    frozen = conversation(4)
    frozen.read_only = True
    read_only = controller(client, None, Recorder(), frozen)
    with pytest.raises(TurnRefused, match="read-only"):
        await read_only.compact(1)
    with pytest.raises(TurnRefused, match="read-only"):
        read_only.undo_compaction()
    assert len(server.chat_requests) == 1  # the reply that was stopped; no summary asked for


async def test_nothing_new_to_compact_after_a_compaction(
    server: LoopbackServer, client: ChatClient
) -> None:
    server.enqueue(stream_of(["Summary."]))
    server.enqueue(stream_of(["Summary of everything."]))
    chat = controller(client, None, Recorder(), conversation(3))
    await chat.compact(1)
    with pytest.raises(TurnRefused, match="has 1 since the last compaction"):
        await chat.compact(1)
    await chat.compact(0)  # everything, the last exchange too
    assert [m.compacted for m in chat.session.messages] == [True] * 7 + [False]
    with pytest.raises(TurnRefused, match="everything is summarised already"):
        await chat.compact(0)  # only the summary itself is left


def test_a_plan_keeps_tool_loops_whole_and_zero_keeps_nothing() -> None:
    call = ToolCall("call-1", "box_echo", "{}")
    messages = [
        Message("user", "Q1"),
        Message("assistant", "", tool_calls=(call,), status="complete"),
        Message("tool", "echo", tool_call_id="call-1"),
        Message("assistant", "A1", status="complete"),
        Message("user", "Q2"),
        Message("assistant", "", tool_calls=(call,), status="complete"),
        Message("tool", "echo", tool_call_id="call-1"),
        Message("assistant", "A2", status="complete"),
    ]
    plan = plan_compaction(messages, 1)
    assert plan.messages == tuple(messages[:4])
    assert plan.shown == 3  # the tool result is drawn inside its reply
    assert plan_compaction(messages, 0).messages == tuple(messages)
    with pytest.raises(CompactionRefused):
        plan_compaction(messages, 2)


def test_the_size_estimate_sets_aside_usage_from_before_the_compaction() -> None:
    session = conversation(3)
    summary = Message(
        "user",
        "S" * 400,
        summary_of=tuple(m.id for m in session.messages[:4]),
        usage=Usage(prompt_tokens=5000, completion_tokens=100, total_tokens=5100),
    )
    for message in session.messages[:4]:
        message.compacted = True
    session.messages.insert(4, summary)
    live = context_messages(session.messages)
    assert [m.content for m in live] == [summary.content, "Q3", "A3"]
    assert all(m.usage is None for m in live)  # all measured the longer history
    assert session.messages[6].usage is not None  # (on copies: the session keeps them)
    assert request_estimate(session) < 200  # not the 310 tokens A3 reported
    later = Message(
        "assistant",
        "A4",
        created_at=summary.created_at + timedelta(seconds=5),
        usage=Usage(prompt_tokens=150, completion_tokens=5, total_tokens=155),
    )
    session.messages += [Message("user", "Q4"), later]
    assert request_estimate(session) == 155  # a reply after the compaction counts again


def test_the_summary_costs_like_a_reply() -> None:
    session = conversation(1)
    session.messages.append(
        Message("user", "S", summary_of=("x",), usage=Usage(100, 10, 110, cost=0.5))
    )
    prices = Pricing(input_per_token=0.001, output_per_token=0.002)
    assert conversation_cost(session.messages, prices) == pytest.approx(0.1 + 0.02 + 0.5)


# --- compaction that starts by itself -----------------------------------------------------------


def long_conversation() -> Session:
    """Three exchanges whose replies reported about 5,000 tokens of context."""
    session = conversation(3)
    session.messages[-1].usage = Usage(prompt_tokens=4990, completion_tokens=10, total_tokens=5000)
    return session


async def test_a_send_over_the_share_compacts_first_and_says_why(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(stream_of(["Summary."]))
    server.enqueue(stream_of(["A4"]))
    recorder = Recorder()
    session = long_conversation()
    settings = CompactionSettings(keep=1, auto_at=0.8)
    chat = controller(client, store, recorder, session, settings=settings, limit=6000)
    reply = await chat.send("Q4")
    summarising, answering = server.chat_requests
    assert contents(summarising.json())[1:] == [
        ("user", "Q1"),
        ("assistant", "A1"),
        ("user", "Q2"),
        ("assistant", "A2"),
        ("user", "Q3"),
        ("assistant", "A3"),
        ("user", INSTRUCTION),
    ]
    summary = live_summary(session.messages)
    assert summary is not None
    assert contents(answering.json())[1:] == [("user", summary.content), ("user", "Q4")]
    assert reply.content == "A4"
    kinds = recorder.kinds()
    assert kinds.index("MessageAdded") < kinds.index("CompactionStarted")
    assert kinds.index("Compacted") < kinds.index("TurnStarted")
    [started] = recorder.of(ev.CompactionStarted)
    assert isinstance(started, ev.CompactionStarted)
    assert started.auto
    assert "about 5,005 tokens" in started.reason
    assert "6,000-token context window" in started.reason
    [done] = recorder.of(ev.Compacted)
    assert isinstance(done, ev.Compacted)
    assert done.auto


async def test_under_the_share_or_when_off_nothing_is_compacted(
    server: LoopbackServer, client: ChatClient
) -> None:
    server.enqueue(stream_of(["A4"]))
    server.enqueue(stream_of(["A5"]))
    recorder = Recorder()
    session = long_conversation()
    chat = controller(
        client, None, recorder, session, settings=CompactionSettings(auto_at=0.8), limit=8000
    )
    await chat.send("Q4")
    chat.compaction_settings = CompactionSettings()  # auto_at = 0: never
    chat.context_limit = lambda: 100
    await chat.send("Q5")
    assert len(server.chat_requests) == 2
    assert not recorder.of(ev.CompactionStarted)


async def test_stopping_an_automatic_compaction_sends_the_whole_conversation(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(StreamReply([sse(chunk("Half")), HANG]))
    server.enqueue(stream_of(["A4"]))
    recorder = Recorder()
    session = long_conversation()
    settings = CompactionSettings(keep=1, auto_at=0.5)
    chat = controller(client, store, recorder, session, settings=settings, limit=6000)
    turn = asyncio.create_task(chat.send("Q4"))
    await recorder.until(lambda: bool(recorder.of(ev.ContentAdded)))
    chat.stop()
    reply = await turn
    assert (reply.content, reply.status) == ("A4", "complete")
    assert len(contents(server.chat_requests[1].json())) == 1 + 7  # system + everything
    assert not any(m.compacted or m.summary_of for m in session.messages)
    assert recorder.kinds()[-1] == "TurnFinished"


# --- the command line --------------------------------------------------------------------------


def test_ask_continues_a_compacted_session_with_its_summary(
    capsys: pytest.CaptureFixture[str],
    server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from glmtui.cli import main

    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    session = conversation(3)
    session.provider, session.base_url = "oxen", server.base_url
    summary = Message(
        "user",
        f"{PREFACE}\n\nWe did Q1 and Q2.",
        summary_of=tuple(m.id for m in session.messages[:4]),
    )
    for message in session.messages[:4]:
        message.compacted = True
    session.messages.insert(4, summary)
    with SessionStore.from_settings(load_settings()) as the_store:
        the_store.save(session)
    server.enqueue(stream_of(["A4"]))
    code = main(["ask", "--base-url", server.base_url, "--session", session.id[:8], "Q4"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == "A4"
    assert contents(server.chat_requests[0].json()) == [
        ("system", "Be brief."),
        ("user", summary.content),
        ("user", "Q3"),
        ("assistant", "A3"),
        ("user", "Q4"),
    ]
    saved = SessionStore.from_settings(load_settings()).load(session.id)
    assert [m.compacted for m in saved.messages] == [True] * 4 + [False] * 5
    assert saved.messages[4].summary_of == summary.summary_of


# --- the [compaction] table --------------------------------------------------------------------


def test_the_compaction_table(config_file: Path) -> None:
    assert load_settings().compaction == CompactionSettings(keep=2, auto_at=0.0, instruction="")
    config_file.write_text(
        '[compaction]\nkeep = 3\nauto_at = 0.75\ninstruction = "Bullet points."\n', "utf-8"
    )
    assert load_settings().compaction == CompactionSettings(3, 0.75, "Bullet points.")
    for bad, message in (
        ("keep = -1", "'keep' must be a whole number from 0 to 1000"),
        ("auto_at = 1.5", "'auto_at' must be a number from 0 to 1"),
        ("often = true", "unknown setting 'often'"),
    ):
        config_file.write_text(f"[compaction]\n{bad}\n", "utf-8")
        with pytest.raises(ConfigError, match=message):
            load_settings()
    config_file.write_text('compaction = "yes"\n', "utf-8")
    with pytest.raises(ConfigError, match="'compaction' must be a table"):
        load_settings()


async def test_a_custom_instruction_is_what_the_model_is_asked(
    server: LoopbackServer, client: ChatClient
) -> None:
    server.enqueue(stream_of(["Summary."]))
    settings = CompactionSettings(instruction="Bullet points only.")
    chat = controller(client, None, Recorder(), conversation(2), settings=settings)
    await chat.compact(1)
    assert contents(server.chat_requests[0].json())[-1] == ("user", "Bullet points only.")


def test_messages_whose_summary_is_gone_are_sent_again() -> None:
    """A compacted message is left out only while a summary in the session names it: if the
    summary were removed, the model would otherwise lose those turns without a trace."""
    from glmtui.domain import Message, Session

    q1 = Message("user", "Q1", compacted=True)
    a1 = Message("assistant", "A1", status="complete", compacted=True)
    summary = Message("user", "Summary: Q1/A1", summary_of=(q1.id, a1.id))
    q2 = Message("user", "Q2")
    with_summary = Session(messages=[q1, a1, summary, q2])
    assert [m["content"] for m in with_summary.wire_messages()] == ["Summary: Q1/A1", "Q2"]
    without = Session(messages=[q1, a1, q2])
    assert [m["content"] for m in without.wire_messages()] == ["Q1", "A1", "Q2"]
