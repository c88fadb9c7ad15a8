"""How attaching files looks: chips above the composer, the ``@`` list, a sent prompt with its
attachments, and a request too large for the model's window.

Each test's docstring says what you should see in its SVG under tests/__snapshots__/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from glmtui.domain import Parameters, Session
from glmtui.ui.widgets.attachment_chips import AttachmentChips
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.path_completion import PathCompletion
from glmtui.ui.widgets.status import StatusBar
from tests.server import LoopbackServer, stream_of
from tests.ui_helpers import FIXED_TIME, chat, chat_opened, make_app, settle, until

SIZES = [(120, 40), (80, 24)]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("glmtui.domain.utc_now", lambda: FIXED_TIME)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a few files of known sizes."""
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "notes.md").write_text("Meeting notes\n" + "- decided to ship on Friday\n" * 40)
    (root / "src" / "main.py").write_text("def main() -> int:\n    return 0\n" * 300)
    (root / "src" / "settings.py").write_text("DEBUG = False\n")
    (root / "quarterly report with a long name (final, v3).md").write_text("# Q3\n" * 500)
    monkeypatch.chdir(root)
    return root


async def ready(pilot: Pilot[int]) -> Composer:
    """The composer, focused, once the chat and its workers have settled."""
    screen = await chat_opened(pilot)
    await settle(pilot)
    composer = screen.query_one(Composer)
    composer.focus()
    await until(pilot, lambda: composer.has_focus)
    return composer


async def attach(pilot: Pilot[int], *paths: Path) -> None:
    """Attach ``paths`` as the picker does, and wait for their chips."""
    screen = chat(pilot.app)
    chips = screen.query_one(AttachmentChips)
    expected = len(chips.chips) + len(paths)
    screen.attach_paths(list(paths))
    await settle(pilot)
    assert len(chips.chips) == expected


@pytest.mark.parametrize("size", SIZES)
def test_composer_with_chips(
    snap_compare, server: LoopbackServer, files: Path, size: tuple[int, int]
) -> None:
    """You should see, above the composer, three chips on a tinted background, each with its
    name, size, estimated tokens and a red ✕: "notes.md · 1.1 KB · ~288 tok" and
    "src/main.py · 9.4 KB · ~2.4k tok" on one line, "quarterly report with a long name
    (final, v3).md · 2.4 KB · ~639 tok" on the next; the composer holds "Compare these with
    last quarter"; the status bar ends with "request ~3,344 tok" (the draft and the files)."""

    async def run_before(pilot: Pilot[int]) -> None:
        await ready(pilot)
        await attach(
            pilot,
            files / "notes.md",
            files / "src" / "main.py",
            files / "quarterly report with a long name (final, v3).md",
        )
        await pilot.press(*"Compare these with last quarter")
        await settle(pilot)

    app = make_app(server)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_at_list_open(snap_compare, server: LoopbackServer, files: Path) -> None:
    """You should see the composer holding "Explain @s" and, just above it, a list in an
    orange rounded border: "src/" in bold (highlighted), then "notes.md  1.1 KB"; above the
    list, one chip: "src/settings.py · 14 bytes · ~9 tok ✕"."""

    async def run_before(pilot: Pilot[int]) -> None:
        await ready(pilot)
        await attach(pilot, files / "src" / "settings.py")
        await pilot.press(*"Explain @s")
        await until(pilot, lambda: chat(pilot.app).query_one(PathCompletion).is_open)
        await settle(pilot)

    app = make_app(server)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_chips_focused(snap_compare, server: LoopbackServer, files: Path) -> None:
    """You should see two chips, the second ("src/settings.py …") highlighted in the accent
    colour, and under them the hint "←/→ choose · Del remove · Esc back"; the composer is not
    focused (its placeholder shows) and the footer offers "del Remove"."""

    async def run_before(pilot: Pilot[int]) -> None:
        await ready(pilot)
        await attach(pilot, files / "notes.md", files / "src" / "settings.py")
        await pilot.press("shift+tab", "right")
        await settle(pilot)

    app = make_app(server)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_sent_message_with_attachments(snap_compare, server: LoopbackServer, files: Path) -> None:
    """You should see the prompt "Summarise both" and under it two muted lines,
    "+ notes.md · 1.1 KB" and "+ src/main.py · 9.4 KB" (the inlined text itself is not
    shown), then the reply "Both files are short."; no chips are left above the empty
    composer."""
    server.enqueue(stream_of(["Both files ", "are short."]))

    async def run_before(pilot: Pilot[int]) -> None:
        await ready(pilot)
        await attach(pilot, files / "notes.md", files / "src" / "main.py")
        await pilot.press(*"Summarise both", "enter")
        await settle(pilot)

    app = make_app(server)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_request_too_large(snap_compare, server: LoopbackServer, files: Path) -> None:
    """You should see the draft "a draft that is a little too long" in the composer and, at
    the end of the status bar in the warning colour (bold orange), "request ~12 ⚠ over the
    10 limit": max_tokens leaves ten tokens of the 200k window for the request."""

    async def run_before(pilot: Pilot[int]) -> None:
        await ready(pilot)
        await pilot.press(*"a draft that is a little too long")
        await until(pilot, lambda: "⚠" in chat(pilot.app).query_one(StatusBar).text)
        await settle(pilot)

    app = make_app(server, session=Session(parameters=Parameters(max_tokens=199_990)))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
