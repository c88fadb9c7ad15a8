"""The turn engine, without a screen: what a turn does, told by the controller's events and
the session file, against the loopback server. These read as the specification of a turn;
the Pilot tests check what the user sees of it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.chat import events as ev
from glmtui.chat.controller import ConversationController, TurnRefused
from glmtui.domain import Message, Parameters, Session
from glmtui.store import SessionStore, StoreError
from tests.conftest import FAKE_KEY
from tests.server import HANG, LoopbackServer, StreamReply, chunk, oxen_error, sse, stream_of


class Recorder:
    """Every event a controller emitted, and a way to wait for one of a kind."""

    def __init__(self) -> None:
        self.events: list[ev.ChatEvent] = []
        self._arrived = asyncio.Event()

    def __call__(self, event: ev.ChatEvent) -> None:
        self.events.append(event)
        self._arrived.set()

    def kinds(self) -> list[str]:
        return [type(event).__name__ for event in self.events]

    def of(self, kind: type[ev.ChatEvent]) -> list[ev.ChatEvent]:
        return [event for event in self.events if isinstance(event, kind)]

    async def until(self, test: Callable[[], bool], within: float = 30.0) -> None:
        async with asyncio.timeout(within):
            while not test():
                self._arrived.clear()
                await self._arrived.wait()


@pytest.fixture
async def client(server: LoopbackServer) -> AsyncIterator[ChatClient]:
    async with ChatClient(
        server.base_url, FAKE_KEY, retry=RetryPolicy(max_retries=0)
    ) as the_client:
        yield the_client


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "data")


def controller_for(
    client: ChatClient,
    store: SessionStore | None,
    recorder: Recorder,
    session: Session | None = None,
    *,
    checkpoint_every: float = 3.0,
) -> ConversationController:
    return ConversationController(
        session or Session(),
        client=lambda session: client,
        store=(lambda: store) if store is not None else None,
        on_event=recorder,
        checkpoint_every=checkpoint_every,
    )


def on_disk(store: SessionStore, session_id: str) -> Session:
    return SessionStore(store.folder.parent).load(session_id)


async def test_a_turn_saves_the_prompt_streams_the_reply_and_saves_it(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(stream_of(["Hello", " there."], reasoning_tokens=["Hm."], usage=True))
    recorder = Recorder()
    chat = controller_for(client, store, recorder)
    reply = await chat.send("Hi!")
    assert (reply.content, reply.reasoning, reply.status) == ("Hello there.", "Hm.", "complete")
    assert reply.finish_reason == "stop"
    assert reply.usage is not None
    assert not reply.usage.estimated
    assert recorder.kinds() == [
        "MessageAdded",
        "TurnStarted",
        "ReasoningAdded",
        "ContentAdded",
        "ContentAdded",
        "UsageReported",
        "TurnFinished",
    ]
    saved = on_disk(store, chat.session.id)
    assert [(m.role, m.content, m.status) for m in saved.messages] == [
        ("user", "Hi!", None),
        ("assistant", "Hello there.", "complete"),
    ]
    assert saved.title == "Hi!"
    [request] = server.chat_requests
    assert request.json()["messages"] == [{"role": "user", "content": "Hi!"}]


async def test_the_prompt_is_on_disk_before_the_request_goes_out(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    seen: list[list[str]] = []

    def look(request: object) -> StreamReply:
        seen.append([m.content for m in on_disk(store, chat.session.id).messages])
        return stream_of(["ok"])

    server.enqueue(look)
    chat = controller_for(client, store, Recorder())
    await chat.send("Keep me")
    assert seen == [["Keep me"]]


async def test_the_second_turn_sends_the_history_without_reasoning(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(stream_of(["One."], reasoning_tokens=["thinking"]))
    server.enqueue(stream_of(["Two."]))
    chat = controller_for(client, store, Recorder())
    chat.configure(system_prompt="Be brief.", parameters=Parameters(temperature=0.2))
    await chat.send("First")
    await chat.send("Second")
    body = server.chat_requests[1].json()
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "First"},
        {"role": "assistant", "content": "One."},
        {"role": "user", "content": "Second"},
    ]
    assert body["temperature"] == 0.2
    assert len(on_disk(store, chat.session.id).messages) == 4


async def test_stop_keeps_what_arrived_marked_interrupted(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(StreamReply([sse(chunk("Partial ")), sse(chunk("answer")), HANG]))
    recorder = Recorder()
    chat = controller_for(client, store, recorder)
    turn = asyncio.create_task(chat.send("Tell me"))
    await recorder.until(lambda: len(recorder.of(ev.ContentAdded)) == 2)
    assert chat.generating
    chat.stop()
    reply = await turn  # a stop ends the turn normally: no exception
    assert (reply.content, reply.status) == ("Partial answer", "interrupted")
    assert not chat.generating
    assert recorder.kinds()[-1] == "TurnStopped"
    assert on_disk(store, chat.session.id).messages[-1].content == "Partial answer"
    assert server.wait_for_disconnects(1, timeout=30) == 1  # the connection was closed


async def test_a_failure_keeps_the_partial_reply_and_says_why(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(StreamReply([sse(chunk("Some text ")), sse({"error": {"message": "boom"}})]))
    recorder = Recorder()
    chat = controller_for(client, store, recorder)
    reply = await chat.send("Go")
    assert (reply.content, reply.status) == ("Some text ", "error")
    assert reply.error is not None
    assert "boom" in reply.error
    [failed] = recorder.of(ev.TurnFailed)
    assert "boom" in failed.error.describe()  # type: ignore[attr-defined]
    assert on_disk(store, chat.session.id).messages[-1].status == "error"


async def test_a_rejected_request_is_an_error_reply(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    from tests.server import JsonReply

    server.enqueue(JsonReply(429, oxen_error("Too many", "slow down")))
    chat = controller_for(client, store, Recorder())
    reply = await chat.send("Go")
    assert (reply.content, reply.status) == ("", "error")
    assert "Rate limited" in (reply.error or "")


async def test_a_streaming_reply_is_checkpointed_as_interrupted(
    server: LoopbackServer,
    client: ChatClient,
    store: SessionStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A crash while a reply streams keeps what arrived up to the last checkpoint."""
    server.enqueue(StreamReply([sse(chunk("Written so far")), HANG]))
    checkpointed = threading.Event()
    save = SessionStore.save

    def saving(self: SessionStore, session: Session, **options: object) -> Path:
        path = save(self, session, **options)  # type: ignore[arg-type]
        if session.messages[-1].content == "Written so far":
            checkpointed.set()  # (in the checkpoint's thread)
        return path

    monkeypatch.setattr(SessionStore, "save", saving)
    recorder = Recorder()
    chat = controller_for(client, store, recorder, checkpoint_every=0.05)
    turn = asyncio.create_task(chat.send("Write"))
    assert await asyncio.to_thread(checkpointed.wait, 30)
    assert chat.generating
    saved = on_disk(store, chat.session.id).messages[1]
    assert (saved.content, saved.status) == ("Written so far", "interrupted")
    chat.stop()
    await turn


async def test_regenerate_replaces_the_last_reply(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(stream_of(["First try."]))
    server.enqueue(stream_of(["Second try."]))
    recorder = Recorder()
    chat = controller_for(client, store, recorder)
    await chat.send("Q")
    await chat.regenerate()
    assert [m.content for m in chat.session.messages] == ["Q", "Second try."]
    assert server.chat_requests[1].json()["messages"] == [{"role": "user", "content": "Q"}]
    assert len(recorder.of(ev.MessagesRemoved)) == 1
    assert [m.content for m in on_disk(store, chat.session.id).messages] == ["Q", "Second try."]


async def test_regenerate_needs_a_prompt(client: ChatClient) -> None:
    chat = controller_for(client, None, Recorder())
    with pytest.raises(TurnRefused, match="Nothing to regenerate"):
        await chat.regenerate()


async def test_edit_and_resend_drops_the_prompt_and_what_followed(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    for text in ("A1", "A2", "A3"):
        server.enqueue(stream_of([text]))
    chat = controller_for(client, store, Recorder())
    await chat.send("Q1")
    await chat.send("Q2")
    await chat.edit_and_resend(chat.session.messages[2], "Q2, better")
    assert [m.content for m in chat.session.messages] == ["Q1", "A1", "Q2, better", "A3"]
    assert [m["content"] for m in server.chat_requests[2].json()["messages"]] == [
        "Q1",
        "A1",
        "Q2, better",
    ]


async def test_delete_and_fork(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(stream_of(["A1"]))
    server.enqueue(stream_of(["A2"]))
    recorder = Recorder()
    chat = controller_for(client, store, recorder)
    await chat.send("Q1")
    await chat.send("Q2")
    original = chat.session
    fork = chat.fork(original.messages[1])
    assert chat.session is fork
    assert [m.content for m in fork.messages] == ["Q1", "A1"]
    assert isinstance(recorder.events[-1], ev.SessionReplaced)
    assert [m.content for m in on_disk(store, original.id).messages] == ["Q1", "A1", "Q2", "A2"]
    await chat.delete(fork.messages[1])
    assert [m.content for m in on_disk(store, fork.id).messages] == ["Q1"]


async def test_delete_of_the_streaming_reply_stops_it_first(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(StreamReply([sse(chunk("Going")), HANG]))
    recorder = Recorder()
    chat = controller_for(client, store, recorder)
    turn = asyncio.create_task(chat.send("Q"))
    await recorder.until(lambda: bool(recorder.of(ev.ContentAdded)))
    live = chat.live_reply
    assert live is not None
    await chat.delete(live)
    await turn
    assert [m.content for m in chat.session.messages] == ["Q"]
    assert [m.content for m in on_disk(store, chat.session.id).messages] == ["Q"]


async def test_compare_keeps_the_reply_chosen(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(stream_of(["Mine."]))
    chat = controller_for(client, store, Recorder())
    await chat.send("Q")
    basis = chat.compare_basis()
    assert [m.content for m in basis.history.messages] == ["Q"]
    assert basis.existing is chat.session.messages[1]
    other = Message("assistant", "Theirs.", status="complete", model="other-model")
    chat.keep_reply(basis, other)
    assert [m.content for m in chat.session.messages] == ["Q", "Theirs."]
    assert on_disk(store, chat.session.id).messages[1].model == "other-model"


async def test_one_turn_at_a_time_and_never_into_a_read_only_session(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    server.enqueue(StreamReply([sse(chunk("x")), HANG]))
    recorder = Recorder()
    chat = controller_for(client, store, recorder)
    turn = asyncio.create_task(chat.send("Q"))
    await recorder.until(lambda: bool(recorder.of(ev.ContentAdded)))
    with pytest.raises(TurnRefused, match="still streaming"):
        await chat.send("another")
    chat.stop()
    await turn
    frozen = Session(read_only=True)
    await chat.open(frozen)
    with pytest.raises(TurnRefused, match="read-only"):
        await chat.send("Q")
    assert len(server.chat_requests) == 1


async def test_when_the_program_ends_mid_reply_the_reply_is_kept_and_saved(
    server: LoopbackServer, client: ChatClient, store: SessionStore
) -> None:
    """Cancelled from outside (the app closing, Ctrl-C): the turn is finished and saved, and
    the cancellation goes on."""
    server.enqueue(StreamReply([sse(chunk("Half")), HANG]))
    recorder = Recorder()
    chat = controller_for(client, store, recorder)
    turn = asyncio.create_task(chat.send("Q"))
    await recorder.until(lambda: bool(recorder.of(ev.ContentAdded)))
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    saved = on_disk(store, chat.session.id).messages[-1]
    assert (saved.content, saved.status) == ("Half", "interrupted")


async def test_a_failed_save_is_told_once_and_recovers(
    server: LoopbackServer,
    client: ChatClient,
    store: SessionStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.enqueue(stream_of(["A1"]))
    server.enqueue(stream_of(["A2"]))
    recorder = Recorder()
    chat = controller_for(client, store, recorder)
    real_save = SessionStore.save

    def failing(self: SessionStore, *args: object, **kwargs: object) -> Path:
        raise StoreError("Could not save: the disk is full.")

    monkeypatch.setattr(SessionStore, "save", failing)
    await chat.send("Q1")
    assert chat.unsaved
    assert len(recorder.of(ev.SaveFailed)) == 1  # said once, not at every save
    monkeypatch.setattr(SessionStore, "save", real_save)
    await chat.send("Q2")
    assert not chat.unsaved
    assert recorder.of(ev.Saved)
    assert len(on_disk(store, chat.session.id).messages) == 4


async def test_without_a_store_nothing_is_saved(
    server: LoopbackServer, client: ChatClient, tmp_path: Path
) -> None:
    server.enqueue(stream_of(["ok"]))
    chat = controller_for(client, None, Recorder())
    await chat.send("Q")
    assert chat.path is None
    assert not await asyncio.to_thread(lambda: list(tmp_path.rglob("*.toml")))


async def test_configure_and_rename_are_saved_and_told(
    client: ChatClient, store: SessionStore
) -> None:
    recorder = Recorder()
    chat = controller_for(client, store, recorder, Session(messages=[Message("user", "x")]))
    chat.configure(model="other-model", parameters=Parameters(max_tokens=5))
    chat.rename("  A   title ")
    [changed, renamed] = recorder.of(ev.SessionChanged)
    assert changed.model_changed  # type: ignore[attr-defined]
    assert not renamed.model_changed  # type: ignore[attr-defined]
    saved = on_disk(store, chat.session.id)
    assert (saved.model, saved.parameters.max_tokens, saved.title) == ("other-model", 5, "A title")
    assert chat.request_for("next").body()["messages"][-1] == {"role": "user", "content": "next"}
