"""Disk faults in the TUI: files changed or deleted under an open session, two glmtui instances
writing the same session, a read-only data folder and a full disk. Nothing typed or received is
lost, and nothing on disk is overwritten without asking."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from textual.widgets import Button

from glmtui.config import load_settings
from glmtui.domain import Message, Session
from glmtui.store import SessionStore
from glmtui.store.codecs import decode_session, encode_session
from glmtui.ui.app import GlmApp
from glmtui.ui.screens.prompt import ChoiceScreen
from tests.server import LoopbackServer, stream_of
from tests.ui_helpers import FIXED_TIME, Notices, chat, make_app, send, settle, until, visible_text

SIZE = (120, 40)


def other_store() -> SessionStore:
    """A second store on the same folder: another glmtui process, as far as files go."""
    return SessionStore.from_settings(load_settings())


def saved_session() -> Session:
    session = Session(
        title="Trip planning",
        created_at=FIXED_TIME,
        updated_at=FIXED_TIME,
        messages=[
            Message("user", "Where should I go in May?", created_at=FIXED_TIME),
            Message("assistant", "Lisbon is lovely in May.", status="complete"),
        ],
    )
    other_store().save(session)
    return session


def contents(session: Session) -> list[str]:
    return [message.content for message in session.messages]


def all_sessions() -> dict[str, Session]:
    return {s.title: other_store().load(s.id) for s in other_store().list_sessions(refresh=True)}


async def open_in_app(pilot, session: Session) -> None:  # type: ignore[no-untyped-def]
    await chat(pilot.app).open_session(session.id)
    await pilot.pause()


async def answer(pilot, label: str) -> None:  # type: ignore[no-untyped-def]
    """Wait for the conflict question and press the button with ``label``."""
    app: GlmApp = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
    button = next(b for b in app.screen.query(Button) if str(b.label) == label)
    button.press()
    await until(pilot, lambda: not isinstance(app.screen, ChoiceScreen))
    await settle(pilot)


def edit_elsewhere(session: Session, title: str) -> Path:
    """Change the session's file as another program would (a new title and one more turn)."""
    store = other_store()
    theirs = store.load(session.id)
    theirs.title = title
    theirs.messages.append(Message("user", "Their extra question"))
    return store.save(theirs)


async def test_changed_elsewhere_keep_both(server: LoopbackServer) -> None:
    session = saved_session()
    server.enqueue(stream_of(["Porto too."]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await open_in_app(pilot, session)
        edit_elsewhere(session, "Edited elsewhere")
        await send(pilot, "And in June?")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert "was changed by another program" in visible_text(app)
        assert "Nothing is lost" in visible_text(app)
        await answer(pilot, "Keep both")
        screen = chat(app)
        assert screen.session.title == "Trip planning (copy)"
        assert contents(screen.session)[-2:] == ["And in June?", "Porto too."]
    on_disk = all_sessions()
    assert contents(on_disk["Edited elsewhere"])[-1] == "Their extra question"
    assert contents(on_disk["Trip planning (copy)"])[-2:] == ["And in June?", "Porto too."]
    assert on_disk["Edited elsewhere"].id == session.id


async def test_changed_elsewhere_use_mine_overwrites_only_when_asked(
    server: LoopbackServer,
) -> None:
    session = saved_session()
    server.enqueue(stream_of(["Porto too."]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await open_in_app(pilot, session)
        path = edit_elsewhere(session, "Edited elsewhere")
        await send(pilot, "And in June?")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert decode_session(path.read_bytes()).title == "Edited elsewhere"  # not yet
        await answer(pilot, "Use mine")
        assert chat(app).session.id == session.id
        await send(pilot, "And in July?")
        await settle(pilot)
        assert not isinstance(app.screen, ChoiceScreen)  # saving on: no new conflict
    on_disk = all_sessions()
    assert list(on_disk) == ["Trip planning"]
    assert contents(on_disk["Trip planning"])[2:4] == ["And in June?", "Porto too."]
    assert contents(on_disk["Trip planning"])[4] == "And in July?"


async def test_changed_elsewhere_open_theirs(server: LoopbackServer) -> None:
    session = saved_session()
    server.enqueue(stream_of(["Porto too."]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await open_in_app(pilot, session)
        edit_elsewhere(session, "Edited elsewhere")
        await send(pilot, "And in June?")
        await answer(pilot, "Open theirs")
        screen = chat(app)
        assert screen.session.title == "Edited elsewhere"
        assert contents(screen.session)[-1] == "Their extra question"
    on_disk = all_sessions()
    assert contents(on_disk["Trip planning (copy)"])[-2:] == ["And in June?", "Porto too."]


async def test_deleted_elsewhere_save_again(server: LoopbackServer) -> None:
    session = saved_session()
    server.enqueue(stream_of(["Porto too."]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await open_in_app(pilot, session)
        other_store().delete(session.id)
        await send(pilot, "And in June?")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert "was deleted by another program" in visible_text(app)
        await answer(pilot, "Save it again")
    on_disk = all_sessions()
    assert list(on_disk) == ["Trip planning"]
    assert on_disk["Trip planning"].id == session.id
    assert contents(on_disk["Trip planning"])[-2:] == ["And in June?", "Porto too."]


async def test_deleted_elsewhere_close_it_goes_to_the_trash(server: LoopbackServer) -> None:
    session = saved_session()
    server.enqueue(stream_of(["Porto too."]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await open_in_app(pilot, session)
        other_store().delete(session.id)
        await send(pilot, "And in June?")
        await answer(pilot, "Close it")
        assert chat(app).session.messages == []
    assert all_sessions() == {}
    trashed = [decode_session(p.read_bytes()) for p in other_store().trash_folder.iterdir()]
    copies = [s for s in trashed if s.title == "Trip planning (copy)"]
    assert len(copies) == 1
    assert contents(copies[0])[-1] == "Porto too."


async def test_two_instances_writing_one_session_lose_no_turn(server: LoopbackServer) -> None:
    """Two glmtui windows on one session, each sending a turn: both turns survive."""
    session = saved_session()
    server.enqueue(stream_of(["From window A."]))
    server.enqueue(stream_of(["From window B."]))
    first, second = make_app(server), make_app(server)
    async with first.run_test(size=SIZE) as pilot_a, second.run_test(size=SIZE) as pilot_b:
        await open_in_app(pilot_a, session)
        await open_in_app(pilot_b, session)
        await send(pilot_a, "Question in A")
        await settle(pilot_a)
        await send(pilot_b, "Question in B")
        await answer(pilot_b, "Keep both")
    on_disk = all_sessions()
    assert contents(on_disk["Trip planning"])[-2:] == ["Question in A", "From window A."]
    assert contents(on_disk["Trip planning (copy)"])[-2:] == ["Question in B", "From window B."]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EROFS, "read-only"),
        (errno.EACCES, "no permission"),
    ],
)
async def test_save_failures_are_explained_and_retried(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, code: int, reason: str
) -> None:
    """A full disk or a read-only data folder: the conversation stays, "not saved" shows, the
    next save retries and says so when it works."""
    import glmtui.fileio

    server.enqueue(stream_of(["First answer."]))
    server.enqueue(stream_of(["Second answer."]))
    real_write = glmtui.fileio.atomic_write_bytes
    failing = True

    def write(path: Path, data: bytes, *args: object, **kwargs: object) -> None:
        if failing:
            raise OSError(code, os.strerror(code), str(path))
        real_write(path, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("glmtui.store.sessions.atomic_write_bytes", write)
    app = make_app(server)
    notices = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Will this be saved?")
        await settle(pilot)
        assert reason in notices.text
        assert "kept in memory" in notices.text
        text = visible_text(app)
        assert "not saved" in text
        assert "First answer." in text
        failing = False
        await send(pilot, "And now?")
        await settle(pilot)
        assert "Saved again" in notices.text
        assert "not saved" not in visible_text(app)
    (saved,) = all_sessions().values()
    assert contents(saved) == ["Will this be saved?", "First answer.", "And now?", "Second answer."]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
async def test_read_only_data_folder_for_real(server: LoopbackServer) -> None:
    """The same with real permissions (skipped when running as root)."""
    server.enqueue(stream_of(["First answer."]))
    folder = other_store().folder
    folder.mkdir(parents=True, exist_ok=True)
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        folder.chmod(0o500)
        try:
            await send(pilot, "Will this be saved?")
            await settle(pilot)
            assert "not saved" in visible_text(app)
            assert "First answer." in visible_text(app)
        finally:
            folder.chmod(0o700)


def test_encode_round_trip_sanity() -> None:
    """The helpers above read files the way the app writes them."""
    session = saved_session()
    path = next(other_store().folder.iterdir())
    assert decode_session(path.read_bytes()) == other_store().load(session.id)
    assert decode_session(encode_session(session, "toml")) == session
