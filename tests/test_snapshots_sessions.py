"""How the session browser looks, with saved sessions and one unreadable file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from glmtui.config import load_settings
from glmtui.domain import Message, Session, Usage
from glmtui.store import SessionStore
from glmtui.ui.screens.sessions import SessionsScreen
from tests.ui_helpers import FIXED_TIME, make_app, until


@pytest.fixture
def sessions_on_disk(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLMTUI_DATA_DIR", str(isolated_env / "home" / "glmtui-data"))
    monkeypatch.setattr("glmtui.ui.screens.sessions._now", lambda: FIXED_TIME)
    store = SessionStore.from_settings(load_settings())
    titles = [
        ("Rust lifetimes explained", 2, 1_234),
        ("A pasta recipe [with brackets]", 26, 8_020),
        ("Kubernetes readiness probes", 24 * 3, 420),
        ("Benchmarking httpx-sse", 24 * 40, 15_300),
    ]
    for index, (title, hours, tokens) in enumerate(titles):
        when = FIXED_TIME - timedelta(hours=hours)
        store.save(
            Session(
                id=f"session{index}",
                title=title,
                created_at=when,
                updated_at=when,
                messages=[
                    Message("user", f"About {title}", created_at=when),
                    Message(
                        "assistant",
                        "An answer.",
                        status="complete",
                        created_at=when,
                        usage=Usage(tokens // 2, tokens - tokens // 2, tokens),
                    ),
                ],
            )
        )
    (store.folder / "20261120-090000-half-written.toml").write_text('title = "oops\n')


def test_session_browser(snap_compare, sessions_on_disk: None) -> None:
    """You should see the browser: a search box, "4 sessions · 1 unreadable · sorted by last
    updated", then the rows newest first (2 h ago, 1 day ago, 3 days ago, 40 days ago is shown
    as a date) with model, message count and tokens, the bracketed title shown as typed, and a
    last row "⚠ 20261120-090000-half-written.toml: …" marked unreadable."""

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(pilot.app.screen, SessionsScreen))
        screen = pilot.app.screen
        await until(pilot, lambda: len(screen._rows) == 5)  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(make_app(None), terminal_size=(120, 40), run_before=run_before)


@pytest.fixture
def copies_on_disk(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A session, a sync tool's conflict copy of it (same id), and an unrelated session."""
    monkeypatch.setenv("GLMTUI_DATA_DIR", str(isolated_env / "home" / "glmtui-data"))
    monkeypatch.setattr("glmtui.ui.screens.sessions._now", lambda: FIXED_TIME)
    store = SessionStore.from_settings(load_settings())
    for index, (title, hours) in enumerate([("Rust lifetimes", 2), ("Docker layer cache", 30)]):
        when = FIXED_TIME - timedelta(hours=hours)
        path = store.save(
            Session(
                id=f"session{index}",
                title=title,
                created_at=when,
                updated_at=when,
                messages=[
                    Message("user", f"About {title}", created_at=when),
                    Message("assistant", "An answer.", status="complete", created_at=when),
                ],
            )
        )
        if index == 0:
            copy = path.with_name(path.stem + " (conflicted copy).toml")
            copy.write_bytes(path.read_bytes())


def test_session_browser_marks_files_sharing_an_id(snap_compare, copies_on_disk: None) -> None:
    """You should see three rows: the highlighted "Rust lifetimes  same id as 20261125-123000-
    rust-lifetimes (conflicted copy).toml" (the mark italic, on the cursor's background), "Rust
    lifetimes  same id as 20261125-123000-rust-lifetimes.toml" (the mark italic, in the warning
    colour), then "Docker layer cache" unmarked; the status line reads "3 sessions · 2 share an
    id with another file · sorted by last updated (s)"."""

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(pilot.app.screen, SessionsScreen))
        screen = pilot.app.screen
        await until(pilot, lambda: len(screen._rows) == 3)  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(make_app(None), terminal_size=(140, 40), run_before=run_before)
