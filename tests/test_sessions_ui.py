"""Sessions in the TUI: never lose a word, and the session browser (search, open, rename,
delete + undo, export, unreadable files)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from glmtui.config import load_settings
from glmtui.domain import Message, Session
from glmtui.store import SessionStore
from glmtui.ui.screens.sessions import SessionsScreen
from tests.conftest import FAKE_KEY
from tests.server import HANG, HELLO_TEXT, LoopbackServer, StreamReply, chunk, sse
from tests.ui_helpers import (
    FIXED_TIME,
    Notices,
    chat,
    make_app,
    sample_session,
    send,
    settle,
    until,
    visible_text,
)

SIZE = (120, 40)


def store() -> SessionStore:
    return SessionStore.from_settings(load_settings())


def saved(session_id: str) -> Session:
    return store().load(session_id)


def seed(count: int = 3) -> list[Session]:
    """A few saved sessions with distinct titles and times."""
    st = store()
    sessions = []
    for n, title in enumerate(["Rust lifetimes", "Pasta recipe", "Kubernetes probes"][:count]):
        session = Session(
            title=title,
            created_at=FIXED_TIME - timedelta(days=n),
            updated_at=FIXED_TIME - timedelta(hours=n),
            messages=[
                Message("user", f"Tell me about {title.lower()}", created_at=FIXED_TIME),
                Message(
                    "assistant",
                    f"All about {title.lower()}: a unique-word-{n} answer.",
                    status="complete",
                    created_at=FIXED_TIME,
                ),
            ],
        )
        st.save(session)
        sessions.append(session)
    return sessions


# --- never lose a word -----------------------------------------------------------------------


async def test_prompt_on_disk_before_reply_and_partial_reply_marked(
    server: LoopbackServer,
) -> None:
    server.enqueue(StreamReply([sse(chunk("Half an ")), sse(chunk("answer")), HANG]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "Keep this prompt")
        screen = chat(app)
        await server.async_wait_for_requests(1)
        on_disk = saved(screen.session.id)  # the request is out: the prompt is saved
        assert on_disk.messages[0].content == "Keep this prompt"
        await until(pilot, lambda: screen.live_reply is not None)
        await until(pilot, lambda: screen.live_reply.content_text == "Half an answer")  # type: ignore[union-attr]
        await pilot.press("escape")
        await settle(pilot)
        reply = saved(screen.session.id).messages[-1]
        assert (reply.status, reply.content) == ("interrupted", "Half an answer")


async def test_streaming_reply_is_checkpointed(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("glmtui.chat.controller.CHECKPOINT_INTERVAL", 0.05)
    server.enqueue(StreamReply([sse(chunk("Streaming text so far")), HANG]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "go")
        screen = chat(app)
        session_id = screen.session.id

        def checkpointed() -> bool:
            messages = saved(session_id).messages
            return len(messages) == 2 and messages[1].content == "Streaming text so far"

        await until(pilot, checkpointed)
        assert saved(session_id).messages[1].status == "interrupted"
        await pilot.press("escape")
        await settle(pilot)


async def test_completed_reply_saved_with_usage(server: LoopbackServer) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        reply = saved(chat(app).session.id).messages[-1]
        assert (reply.status, reply.content) == ("complete", HELLO_TEXT)
        assert reply.reasoning == "Thinking briefly."
        assert reply.usage is not None
    files = list(store().folder.iterdir())
    assert len(files) == 1
    assert files[0].suffix == ".toml"
    text = files[0].read_text()
    tomllib.loads(text)
    assert FAKE_KEY not in text


async def test_save_failure_is_shown_and_conversation_kept(server: LoopbackServer) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    app = make_app(server)
    notices = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("glmtui.store.sessions.atomic_write_bytes", disk_full)
            await send(pilot, "hi")
            await settle(pilot)
            screen = chat(app)
            assert [m.role for m in screen.session.messages] == ["user", "assistant"]
            assert screen.keeper.unsaved
            assert "not saved" in visible_text(app)
            assert "disk is full" in notices.text
        await send(pilot, "again")  # the disk has space again: the next save catches up
        await settle(pilot)
        assert not screen.keeper.unsaved
        assert len(saved(screen.session.id).messages) == 4


def test_kill_9_mid_stream_leaves_the_partial_reply_on_disk(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """A real process, killed hard while a reply streams: the reply is on disk, interrupted."""
    server.enqueue(StreamReply([sse(chunk("Words that must survive")), HANG]))
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path.insert(0, {str(Path.cwd())!r})
        import glmtui.ui.screens.chat as chat_module
        chat_module.CHECKPOINT_INTERVAL = 0.1
        from tests.ui_helpers import make_app, chat, send
        from tests.server import LoopbackServer

        class Remote:
            base_url = {server.base_url!r}

        async def main():
            app = make_app(Remote())
            async with app.run_test(size=(80, 24)) as pilot:
                await send(pilot, "please keep this")
                print("SENT", chat(app).session.id, flush=True)
                await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, env=os.environ.copy()
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    assert line.startswith("SENT"), line
    session_id = line.split()[1]

    def reply_on_disk() -> bool:
        try:
            messages = saved(session_id).messages
        except Exception:
            return False
        return len(messages) == 2 and messages[1].content == "Words that must survive"

    import time

    deadline = time.monotonic() + 20
    while not reply_on_disk() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    reply = saved(session_id).messages[1]
    assert (reply.status, reply.content) == ("interrupted", "Words that must survive")


# --- the browser -----------------------------------------------------------------------------


async def open_browser(pilot: object) -> SessionsScreen:
    await pilot.press("ctrl+o")  # type: ignore[attr-defined]
    app = pilot.app  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, SessionsScreen))  # type: ignore[arg-type]
    screen = app.screen
    await until(pilot, lambda: bool(screen._rows))  # type: ignore[arg-type, attr-defined]
    return screen  # type: ignore[no-any-return]


async def test_browser_lists_searches_and_opens(server: LoopbackServer) -> None:
    sessions = seed()
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        browser = await open_browser(pilot)
        text = visible_text(app)
        for title in ("Rust lifetimes", "Pasta recipe", "Kubernetes probes"):
            assert title in text
        await pilot.press("slash", *"unique-word-1")
        await until(pilot, lambda: len(browser._rows) == 1)
        assert browser._rows[0].title == "Pasta recipe"
        assert "unique-word-1" in visible_text(app)  # the snippet
        browser.query_one("#sessions").focus()
        await pilot.press("enter")
        await until(pilot, lambda: chat(app).session.id == sessions[1].id)
        assert "All about pasta recipe" in visible_text(app)
        await send(pilot, "and another thing")  # resumed sessions continue
        await settle(pilot)
        assert len(saved(sessions[1].id).messages) == 4


async def test_browser_rename_delete_undo(server: LoopbackServer) -> None:
    seed()
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        browser = await open_browser(pilot)
        first = browser.selected_summary
        assert first is not None
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"Renamed title", "enter")  # the old title is selected
        await until(pilot, lambda: any(r.title == "Renamed title" for r in browser._rows))
        assert saved(first.id).title == "Renamed title"
        count = len(browser._rows)
        await pilot.press("d")
        await until(pilot, lambda: len(browser._rows) == count - 1)
        assert not (store().folder / first.name).exists()
        await pilot.press("u")
        await until(pilot, lambda: len(browser._rows) == count)
        assert saved(first.id).title == "Renamed title"


async def test_browser_export_markdown(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(1)
    app = make_app(server)
    monkeypatch.chdir(tmp_path)  # a short path to type: a relative one
    target = tmp_path / "export.md"
    async with app.run_test(size=SIZE) as pilot:
        await open_browser(pilot)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("m")  # Markdown
        await pilot.pause()
        await pilot.press(*"export.md", "enter")  # replaces the suggested path
        await until(pilot, target.exists)
    text = target.read_text()
    assert text.startswith("---")
    assert 'title: "Rust lifetimes"' in text
    assert "All about rust lifetimes" in text


async def test_browser_lists_unreadable_files_untouched(server: LoopbackServer) -> None:
    seed(1)
    broken = store().folder / "20261101-120000-broken.toml"
    broken.write_bytes(b'title = "unterminated\n')
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        browser = await open_browser(pilot)
        assert any(row.error for row in browser._rows)
        assert "broken.toml" in visible_text(app)
        assert "unreadable" in visible_text(app)
        browser.query_one("#sessions").move_cursor(len(browser._rows) - 1)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen)  # not opened
    assert broken.read_bytes() == b'title = "unterminated\n'


async def test_new_chat_from_browser(server: LoopbackServer) -> None:
    app = make_app(server, session=sample_session())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, SessionsScreen))
        assert chat(app).session.messages == []


async def test_fork_from_a_message(server: LoopbackServer) -> None:
    seeded = seed(1)[0]
    app = make_app(server, session=store().load(seeded.id))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        screen.conversation.focus()
        screen.conversation.select(0)
        await pilot.press("f")
        await until(pilot, lambda: chat(app).session.id != seeded.id)
        fork = chat(app).session
        assert [m.content for m in fork.messages] == ["Tell me about rust lifetimes"]
        assert fork.title.endswith("(fork)")
        assert len(saved(seeded.id).messages) == 2  # the original is unchanged


def test_cli_resumes_a_session_by_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """--session ID starts the TUI on that session (checked without running the app)."""
    from glmtui import cli

    seeded = seed(1)[0]
    started: dict[str, object] = {}

    class FakeApp:
        def __init__(self, settings: object, **kw: object) -> None:
            started.update(kw)
            self.return_code = 0

        def run(self) -> None:
            pass

    monkeypatch.setattr("glmtui.ui.app.GlmApp", FakeApp)
    assert cli.main(["--demo", "--session", seeded.id[:8]]) == 0
    assert started["session"].id == seeded.id  # type: ignore[attr-defined]
    assert cli.main(["--demo", "--sessions"]) == 0
    assert started["open_browser"] is True
    assert cli.main(["--demo", "--session", "nope"]) == 2


def test_session_files_hold_no_key_and_parse(server: LoopbackServer) -> None:
    seed()
    for path in store().folder.iterdir():
        data = path.read_bytes()
        assert FAKE_KEY.encode() not in data
        if path.suffix == ".json":
            json.loads(data)
        else:
            tomllib.loads(data.decode())
