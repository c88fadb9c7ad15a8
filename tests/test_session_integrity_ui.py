"""Session integrity in the TUI (issue 19, items 2 and 4): the browser acts on the file of the
row chosen when two files share an id, the chat keeps saving to the file it opened, and a key
the server echoes never reaches a session file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from glmtui.chat.keeper import SessionKeeper
from glmtui.config import load_settings
from glmtui.domain import Message, Session
from glmtui.store import SessionStore, decode_session, encode_session
from glmtui.store.redact import MASK, MIN_SECRET_LENGTH
from glmtui.ui.screens.sessions import SessionsScreen
from glmtui.ui.widgets.session_table import SessionTable
from tests.conftest import FAKE_KEY
from tests.server import HANG, LoopbackServer, RecordedRequest, StreamReply, chunk, sse, stream_of
from tests.ui_helpers import FIXED_TIME, Notices, chat, make_app, send, settle, until, visible_text

SIZE = (160, 40)
COPY_NAME = "20261125-120000-rust-lifetimes (conflicted copy).toml"


def store() -> SessionStore:
    return SessionStore.from_settings(load_settings())


def twins_on_disk() -> tuple[Session, Path, Path]:
    """A session and a sync tool's conflict copy of it (same id, another answer)."""
    when = FIXED_TIME - timedelta(hours=3)
    session = Session(
        title="Rust lifetimes",
        created_at=when,
        updated_at=when,
        messages=[
            Message("user", "Why does elision work?", created_at=when),
            Message("assistant", "The original answer.", status="complete", created_at=when),
        ],
    )
    first = store().save(session)
    copy = decode_session(first.read_bytes())
    copy.messages[1].content = "The copy's answer."
    second = first.with_name(COPY_NAME)
    second.write_bytes(encode_session(copy, "toml"))
    return session, first, second


async def open_browser(pilot: Pilot[int], rows: int) -> SessionsScreen:
    await pilot.press("ctrl+o")
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
    screen = app.screen
    assert isinstance(screen, SessionsScreen)
    await until(pilot, lambda: len(screen.query_one(SessionTable).rows) == rows)
    return screen


def select(browser: SessionsScreen, name: str) -> None:
    table = browser.query_one(SessionTable)
    table.move_cursor(next(i for i, row in enumerate(table.rows) if row.name == name))
    table.focus()


def selected_name(browser: SessionsScreen) -> str:
    row = browser.selected_summary
    assert row is not None
    return row.name


# --- two files, one id ---------------------------------------------------------------------------


async def test_browser_marks_both_rows_and_opening_the_copy_continues_the_copy(
    server: LoopbackServer,
) -> None:
    session, first, second = twins_on_disk()
    first_bytes = first.read_bytes()
    app = make_app(server)
    notices = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        browser = await open_browser(pilot, rows=2)
        text = visible_text(app)
        assert f"same id as {first.name}" in text
        assert f"same id as {second.name}" in text
        assert "2 share an id with another file" in text
        select(browser, second.name)
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, SessionsScreen))
        screen = chat(app)
        await until(pilot, lambda: screen.session.id != session.id)
        assert [m.content for m in screen.session.messages][1] == "The copy's answer."
        assert any("id of its own" in m and first.name in m for m in notices.messages)
        assert decode_session(second.read_bytes()).id == screen.session.id
        await send(pilot, "and one more thing")
        await settle(pilot)
    saved_copy = decode_session(second.read_bytes())
    assert [m.content for m in saved_copy.messages][:3] == [
        "Why does elision work?",
        "The copy's answer.",
        "and one more thing",
    ]
    assert first.read_bytes() == first_bytes  # the other file was never written
    assert sorted(store().folder.iterdir()) == sorted([first, second])


async def test_browser_actions_act_on_the_row_chosen(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first, second = twins_on_disk()
    first_bytes = first.read_bytes()
    monkeypatch.chdir(tmp_path)
    exported = tmp_path / "copy.md"
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        browser = await open_browser(pilot, rows=2)

        select(browser, second.name)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("m")  # Markdown
        await pilot.pause()
        await pilot.press(*"copy.md", "enter")
        await until(pilot, exported.exists)
        assert "The copy's answer." in exported.read_text()
        assert "The original answer." not in exported.read_text()

        select(browser, second.name)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"Renamed copy", "enter")
        await until(pilot, lambda: decode_session(second.read_bytes()).title == "Renamed copy")
        assert first.read_bytes() == first_bytes

        await until(pilot, lambda: any(r.title == "Renamed copy" for r in browser._rows))
        select(browser, second.name)
        await pilot.press("c")  # duplicate
        await until(pilot, lambda: len(browser._rows) == 3)
        [duplicate] = [r for r in browser._rows if r.title == "Renamed copy (copy)"]
        copied = store().load(duplicate.path)
        assert copied.messages[1].content == "The copy's answer."
        assert first.read_bytes() == first_bytes

        select(browser, second.name)
        assert selected_name(browser) == second.name
        await pilot.press("d")
        await until(pilot, lambda: len(browser._rows) == 2)
        assert not second.exists()
        assert first.read_bytes() == first_bytes
        assert all(not row.same_id_as for row in browser._rows)  # the id is unique again
    exported.unlink()


def test_the_chat_keeps_saving_to_the_file_it_opened(tmp_path: Path) -> None:
    """The store loads the twin meanwhile (another action, another screen): the open
    conversation still goes to its own file, without a conflict or a copy."""
    data = tmp_path / "data"
    st = SessionStore(data)
    session = Session(title="Kept", messages=[Message("user", "first prompt")])
    first = st.save(session)
    problems: list[str] = []
    keeper = SessionKeeper(lambda: st, on_error=problems.append)
    opened = st.load(first)
    keeper.adopt(opened)
    second = first.with_name("copy-of-kept.toml")
    second.write_bytes(first.read_bytes())
    second_bytes = second.read_bytes()
    st.load(second)  # the store now associates the id with the copy
    opened.messages.append(Message("user", "second prompt"))
    assert keeper.save_now(opened)
    assert problems == []
    assert [m.content for m in decode_session(first.read_bytes()).messages] == [
        "first prompt",
        "second prompt",
    ]
    assert second.read_bytes() == second_bytes
    assert sorted(st.folder.iterdir()) == sorted([first, second])  # no conflict copy either


# --- a key the server echoes ------------------------------------------------------------------


def echo_the_key_split(request: RecordedRequest) -> StreamReply:
    """An echoing proxy: the bearer key in the reasoning, and split across two deltas."""
    key = request.headers["authorization"].removeprefix("Bearer ")
    middle = len(key) // 2
    return stream_of(
        [f"Your key is {key[:middle]}", f"{key[middle:]}; keep it safe."],
        reasoning_tokens=[f"It sent {key}"],
    )


def key_pieces(data: bytes, key: str = FAKE_KEY) -> list[str]:
    """Every piece of ``key`` (as long as a secret is) found in ``data``."""
    text = data.decode()
    return [
        key[i : i + MIN_SECRET_LENGTH]
        for i in range(len(key) - MIN_SECRET_LENGTH + 1)
        if key[i : i + MIN_SECRET_LENGTH] in text
    ]


async def test_a_key_echoed_in_the_chat_is_masked_in_the_session_file(
    server: LoopbackServer,
) -> None:
    server.set_default(echo_the_key_split)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, f"is {FAKE_KEY} my key?")  # in the prompt, so in the title too
        await settle(pilot)
        screen = chat(app)
        reply = screen.session.messages[-1]
        assert reply.status == "complete"
        path = store().path_of(screen.session.id) or store().resolve(screen.session.id).path
    data = path.read_bytes()
    assert key_pieces(data) == []
    assert FAKE_KEY.lower() not in path.name.lower()
    saved = decode_session(data)
    assert saved.title == f"is {MASK} my key?"
    assert saved.messages[0].content == f"is {MASK} my key?"
    assert saved.messages[1].content == f"Your key is {MASK}; keep it safe."
    assert saved.messages[1].reasoning == f"It sent {MASK}"


async def test_a_checkpoint_in_the_middle_of_an_echoed_key_holds_no_part_of_it(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("glmtui.chat.controller.CHECKPOINT_INTERVAL", 0.05)
    half = FAKE_KEY[: len(FAKE_KEY) // 2]
    server.enqueue(StreamReply([sse(chunk(f"Your key is {half}")), HANG]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "go")
        screen = chat(app)
        session_id = screen.session.id

        def checkpointed() -> bool:
            messages = store().load(session_id).messages
            return len(messages) == 2 and messages[1].content.startswith("Your key is")

        await until(pilot, checkpointed)
        path = store().resolve(session_id).path
        assert key_pieces(path.read_bytes()) == []
        assert store().load(session_id).messages[1].content == f"Your key is {MASK}"
        await pilot.press("escape")  # stopped mid-key: saved as interrupted
        await settle(pilot)
    reply = decode_session(path.read_bytes()).messages[1]
    assert (reply.status, reply.content) == ("interrupted", f"Your key is {MASK}")
    assert key_pieces(path.read_bytes()) == []
