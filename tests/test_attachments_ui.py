"""Attaching files in the chat: the ``@`` list, the picker, pasted paths, the chips, what is
sent, refusals, and the request's size before sending (issue 22, points 1, 5 and 9).

Every app runs in a working folder of its own (``files``) holding a few known files.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import DirectoryTree

from glmtui.config import AttachmentLimits
from glmtui.domain import Message, Parameters, Session, Usage
from glmtui.domain.attachments import Attachment
from glmtui.ui.app import GlmApp
from glmtui.ui.chat.status import RequestEstimate, request_limit
from glmtui.ui.items import UserItem
from glmtui.ui.screens.file_picker import FilePicker
from glmtui.ui.screens.prompt import ChoiceScreen
from glmtui.ui.widgets.attachment_chips import AttachmentChips
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.path_completion import (
    PathCompletion,
    list_candidates,
    pasted_paths,
    token_at,
)
from glmtui.ui.widgets.status import StatusBar, StatusInfo, render_status
from tests.server import HANG, LoopbackServer, StreamReply, chunk, sse, stream_of
from tests.ui_helpers import Notices, chat, chat_opened, make_app, settle, until, visible_text

SIZE = (120, 40)
NOTES = "Meeting notes\n- ship it on Friday\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder: notes.md, my notes.md, src/{main,util}.py, docs/index.md, a PNG,
    a binary file and a hidden file."""
    root = tmp_path / "work"
    (root / "src").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "notes.md").write_text(NOTES)
    (root / "my notes.md").write_text("spaces in the name\n")
    (root / "src" / "main.py").write_text("def main() -> int:\n    return 0\n")
    (root / "src" / "util.py").write_text("X = 1\n")
    (root / "docs" / "index.md").write_text("# Docs\n")
    (root / "logo.png").write_bytes(PNG)
    (root / "blob.bin").write_bytes(bytes(range(256)) * 4)
    (root / ".env").write_text("SECRET=1\n")
    monkeypatch.chdir(root)
    return root


async def opened(pilot: Pilot[int]) -> tuple[Composer, PathCompletion, AttachmentChips]:
    """The composer (focused), the ``@`` list and the chips, once the chat is up."""
    screen = await chat_opened(pilot)
    await settle(pilot)
    composer = screen.query_one(Composer)
    composer.focus()
    await until(pilot, lambda: composer.has_focus)
    return composer, screen.query_one(PathCompletion), screen.query_one(AttachmentChips)


def names(chips: AttachmentChips) -> list[str]:
    """The attached files' names, in order."""
    return [chip.loaded.attachment.name for chip in chips.chips]


def offered(completion: PathCompletion) -> list[str]:
    """What the ``@`` list offers, in order."""
    return [candidate.text for candidate in completion.candidates]


async def paste(pilot: Pilot[int], composer: Composer, text: str) -> None:
    """Paste ``text`` as the terminal delivers a bracketed paste."""
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()
    await settle(pilot)
    del composer


# --- the pieces, without a screen -------------------------------------------------------------


def test_the_at_word_is_found_only_at_the_start_of_a_word() -> None:
    assert token_at("Sum @no", 0, 7) is not None
    token = token_at("Sum @src/ma and", 0, 11)
    assert token is not None
    assert (token.start, token.end, token.typed) == (4, 11, "src/ma")
    inside = token_at("see @src/main.py now", 0, 8)  # the cursor inside the word
    assert inside is not None
    assert (inside.typed, inside.end) == ("src", 16)
    assert token_at("mail me@example.com", 0, 19) is None  # not at a word's start
    assert token_at("@", 0, 1) is not None
    assert token_at("@", 0, 0) is None  # the cursor before the @
    assert token_at("word", 0, 4) is None
    assert token_at("@a@b", 0, 4) is None


def test_candidates_list_folders_first_then_files_and_hide_dotfiles(files: Path) -> None:
    assert [c.text for c in list_candidates("", files)] == [
        "docs/",
        "src/",
        "blob.bin",
        "logo.png",
        "my notes.md",
        "notes.md",
    ]
    # What starts with the typed text first, then what contains it.
    assert [c.text for c in list_candidates("no", files)] == ["notes.md", "my notes.md"]
    assert [c.text for c in list_candidates("src/", files)] == ["src/main.py", "src/util.py"]
    assert [c.text for c in list_candidates(".e", files)] == [".env"]
    assert list_candidates("nothing-like-this", files) == []
    assert list_candidates("missing/", files) == []
    notes = list_candidates("notes", files)[0]
    assert notes.size == len(NOTES)
    assert not notes.folder
    absolute = list_candidates(f"{files}/src/u", Path("/"))
    assert [c.text for c in absolute] == [f"{files}/src/util.py"]


def test_pasted_paths_are_read_as_terminals_paste_dropped_files(files: Path) -> None:
    notes, spaced = files / "notes.md", files / "my notes.md"
    assert pasted_paths(str(notes), files) == [notes]
    assert pasted_paths(f"  {notes}\n", files) == [notes]
    assert pasted_paths(f"'{spaced}'", files) == [spaced]  # GNOME Terminal quotes
    assert pasted_paths(str(spaced).replace(" ", "\\ "), files) == [spaced]  # iTerm2 escapes
    url = "file://" + str(spaced).replace(" ", "%20")
    assert pasted_paths(url, files) == [spaced]
    assert pasted_paths(f"{notes} '{spaced}'", files) == [notes, spaced]
    assert pasted_paths(f"{notes}\n{files / 'src'}", files) == [notes, files / "src"]
    # Anything else is text.
    assert pasted_paths("notes.md", files) is None  # relative: a word, not a dropped file
    assert pasted_paths(f"{files}/missing.md", files) is None
    assert pasted_paths(f"see {notes}", files) is None
    assert pasted_paths(f"'{notes}", files) is None  # an open quote
    assert pasted_paths("file://elsewhere/etc/hosts", files) is None
    assert pasted_paths("", files) is None


def test_the_request_estimate_caches_each_message_and_anchors_on_reported_usage() -> None:
    counted: list[str] = []

    def tokens(attachment: Attachment) -> int:
        counted.append(attachment.name)
        return 100

    estimate = RequestEstimate(tokens)
    attached = Attachment("a.md", "text", "text/markdown", 8, text="x" * 8)
    session = Session(
        system_prompt="Be brief.",
        messages=[Message("user", "q" * 40, attachments=(attached,)), Message("assistant", "a")],
    )
    first = estimate.history(session)
    assert first == (2 + 4) + (10 + 4 + 100) + (1 + 4)
    assert estimate.history(session) == first
    assert counted == ["a.md"]  # estimated once, however often the history is worked out
    # A reported usage stands for everything up to its reply.
    session.messages[1].usage = Usage(prompt_tokens=500, completion_tokens=20, total_tokens=520)
    session.messages.append(Message("user", "z" * 8))
    assert estimate.history(session) == 520 + 2 + 4
    # ...unless a compaction came after it (the summary stands for what it replaced).
    session.messages[0].compacted = True
    session.messages.append(Message("assistant", "s" * 20, summary_of=("x",)))
    assert estimate.history(session) == (2 + 4) + (1 + 4) + (2 + 4) + (5 + 4)
    # A keystroke adds the draft and the attachments' tokens, nothing else.
    assert estimate.request("d" * 40, 7) == estimate.tokens + 10 + 4 + 7
    assert request_limit(200_000, 4_096) == 195_904
    assert request_limit(200_000, None) == 200_000
    assert request_limit(None, 100) is None


def test_the_status_line_shows_the_request_size_and_warns_when_it_does_not_fit() -> None:
    info = StatusInfo(model="GLM-5", request=12_345, request_limit=195_904)
    assert "request ~12k tok" in render_status(info).plain
    over = replace(info, request=210_000)
    assert over.request_over
    assert "request ~210k ⚠ over the 196k limit" in render_status(over).plain
    assert "⚠ too large" in render_status(over, width=30).plain  # never dropped
    assert "request" not in render_status(replace(info, request=None)).plain


# --- @ in the composer ------------------------------------------------------------------------


async def test_at_opens_a_list_and_enter_attaches_the_file_as_a_chip(
    server: LoopbackServer, files: Path
) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        composer, completion, chips = await opened(pilot)
        await pilot.press(*"Sum @")
        assert completion.is_open
        assert offered(completion)[:2] == ["docs/", "src/"]
        await pilot.press(*"no")
        assert offered(completion) == ["notes.md", "my notes.md"]
        assert "notes.md" in visible_text(app)
        await pilot.press("down", "up")  # the highlight moves, and wraps
        assert completion.chosen is not None
        assert completion.chosen.text == "notes.md"
        await pilot.press("enter")
        assert not completion.is_open
        assert composer.text == "Sum"  # the @word left the text ...
        await until(pilot, lambda: names(chips) == ["notes.md"])  # ... and became a chip
        assert chips.display
        assert server.chat_requests == []  # Enter took the file, it sent nothing


async def test_tab_completes_a_folder_esc_closes_and_enter_then_sends(
    server: LoopbackServer, files: Path
) -> None:
    server.enqueue(stream_of(["ok"]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        composer, completion, chips = await opened(pilot)
        await pilot.press(*"look at @sr")
        assert offered(completion) == ["src/"]
        await pilot.press("tab")  # into the folder: the list shows what is in it
        assert composer.text == "look at @src/"
        assert offered(completion) == ["src/main.py", "src/util.py"]
        assert composer.has_focus  # Tab did not move the focus
        await pilot.press("escape")
        assert not completion.is_open
        assert composer.text == "look at @src/"  # Esc closes the list, the text stays
        assert chat(app).query_one("#composer").has_focus
        await pilot.press("enter")  # the list is closed: Enter sends, as ever
        await settle(pilot)
        assert server.chat_requests[0].json()["messages"][-1]["content"] == "look at @src/"
        assert names(chips) == []


async def test_tab_attaches_a_file_and_a_click_on_an_entry_too(
    server: LoopbackServer, files: Path
) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        composer, completion, chips = await opened(pilot)
        await pilot.press(*"@src/m", "tab")
        await until(pilot, lambda: names(chips) == ["src/main.py"])
        assert composer.text == ""
        await pilot.press(*"and @do", "tab", "i")
        assert offered(completion) == ["docs/index.md"]
        await pilot.click(PathCompletion, offset=(3, 1))  # the first entry (inside the border)
        await until(pilot, lambda: names(chips) == ["src/main.py", "docs/index.md"])
        assert composer.text == "and"
        assert composer.has_focus


async def test_esc_while_a_reply_streams_closes_the_list_first(
    server: LoopbackServer, files: Path
) -> None:
    server.enqueue(StreamReply([sse(chunk("Partial ")), HANG]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        composer, completion, _chips = await opened(pilot)
        await pilot.press(*"go", "enter")
        screen = chat(app)
        await until(pilot, lambda: screen.generating)
        await pilot.press(*"next @no")
        assert completion.is_open
        await pilot.press("escape")  # the list's: the reply goes on
        assert not completion.is_open
        assert screen.generating
        await pilot.press("escape")  # now it stops the reply
        await settle(pilot)
        assert not screen.generating
        assert screen.session.messages[-1].status == "interrupted"
        assert composer.text == "next @no"


async def test_a_recalled_prompt_ending_in_an_at_word_opens_no_list(
    server: LoopbackServer, files: Path
) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        composer, completion, _chips = await opened(pilot)
        composer.remember("mail it to @notes")
        await pilot.press("up")
        assert composer.text == "mail it to @notes"
        await pilot.pause()
        assert not completion.is_open
        await pilot.press("backspace")  # typing in the word opens it
        assert offered(completion) == ["notes.md", "my notes.md"]


# --- the picker, the palette, pasted paths ------------------------------------------------------


async def test_ctrl_f_and_the_palette_open_the_picker_which_attaches_a_file(
    server: LoopbackServer, files: Path
) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        _composer, _completion, chips = await opened(pilot)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, FilePicker))
        picker = app.screen
        assert isinstance(picker, FilePicker)
        tree = picker.query_one(DirectoryTree)
        await until(pilot, lambda: len(tree.root.children) == 6)  # .env is not listed
        shown = [node.data.path.name for node in tree.root.children if node.data is not None]
        assert shown == ["docs", "src", "blob.bin", "logo.png", "my notes.md", "notes.md"]
        tree.move_cursor(tree.root.children[-1])
        await pilot.press("enter")
        await until(pilot, lambda: names(chips) == ["notes.md"])
        assert isinstance(app.screen, type(chat(app)))

        # The palette's "attach: a file…"; "a" attaches a folder's text files.
        await pilot.press("ctrl+p")
        await pilot.press(*"attach: a file")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FilePicker))
        tree = app.screen.query_one(DirectoryTree)
        await until(pilot, lambda: len(tree.root.children) == 6)
        tree.move_cursor(tree.root.children[1])  # src
        await pilot.press("a")
        await until(pilot, lambda: names(chips) == ["notes.md", "src/main.py", "src/util.py"])


async def test_the_picker_cancels_with_esc(server: LoopbackServer, files: Path) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        composer, _completion, chips = await opened(pilot)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, FilePicker))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, FilePicker))
        await settle(pilot)
        assert names(chips) == []
        assert composer.has_focus


async def test_a_pasted_path_of_an_existing_file_is_attached_not_typed(
    server: LoopbackServer, files: Path
) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        notices = Notices(app)
        composer, _completion, chips = await opened(pilot)
        await pilot.press(*"Compare")
        spaced = files / "my notes.md"
        await paste(pilot, composer, f"'{spaced}'")  # as a terminal drops a file
        await until(pilot, lambda: names(chips) == ["my notes.md"])
        assert composer.text == "Compare"
        assert "Attached my notes.md (a pasted path" in notices.text
        await paste(pilot, composer, "file://" + str(files / "notes.md"))
        await until(pilot, lambda: names(chips) == ["my notes.md", "notes.md"])
        # A pasted word that names a file here is text.
        await paste(pilot, composer, " notes.md")
        await until(pilot, lambda: composer.text == "Compare notes.md")
        assert len(chips.chips) == 2


async def test_a_refused_pasted_path_goes_in_as_text_with_one_notice(
    server: LoopbackServer, files: Path
) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        notices = Notices(app)
        composer, _completion, chips = await opened(pilot)
        pasted = str(files / "blob.bin")
        await paste(pilot, composer, pasted)
        await until(pilot, lambda: composer.text == pasted)
        assert names(chips) == []
        [notice] = notices.messages
        assert notice.startswith("blob.bin is a binary file")


# --- chips ------------------------------------------------------------------------------------


async def attach(pilot: Pilot[int], chips: AttachmentChips, *paths: Path) -> None:
    """Attach ``paths`` as the picker does, and wait for their chips."""
    before = len(chips.chips)
    chat(pilot.app).attach_paths(list(paths))
    await settle(pilot)
    assert len(chips.chips) > before


async def test_chips_are_removed_by_key_and_by_click(server: LoopbackServer, files: Path) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        composer, _completion, chips = await opened(pilot)
        await attach(pilot, chips, files / "notes.md", files / "src" / "main.py")
        await pilot.press(*"draft")
        assert "notes.md · 34 bytes · ~" in visible_text(app)
        await pilot.press("shift+tab")  # from the composer to the chips
        assert chips.has_focus
        assert "Del remove" in visible_text(app)
        await pilot.press("right", "delete")
        assert names(chips) == ["notes.md"]
        await pilot.press("escape")
        assert composer.has_focus
        assert composer.text == "draft"
        # A click on a chip's ✕ removes it.
        place = chips.chip_regions[0]
        await pilot.click(AttachmentChips, offset=(place.end + 1, place.row))
        await pilot.pause()
        assert names(chips) == []
        assert not chips.display
        assert composer.text == "draft"
        assert composer.has_focus  # the last chip gone, the keys go back to the composer


async def test_a_file_is_not_attached_twice(server: LoopbackServer, files: Path) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        _composer, _completion, chips = await opened(pilot)
        await attach(pilot, chips, files / "notes.md")
        chat(app).attach_paths([files / "notes.md"])
        await settle(pilot)
        assert names(chips) == ["notes.md"]


async def test_attachments_are_sent_with_the_prompt_and_shown_in_it(
    server: LoopbackServer, files: Path
) -> None:
    server.enqueue(stream_of(["Done."]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        composer, _completion, chips = await opened(pilot)
        await pilot.press(*"Summarise @notes", "enter")
        await until(pilot, lambda: names(chips) == ["notes.md"])
        await pilot.press("enter")
        await settle(pilot)
        content = server.chat_requests[0].json()["messages"][-1]["content"]
        assert content == f"Summarise\n\nnotes.md\n```\n{NOTES}```"
        screen = chat(app)
        prompt = screen.session.messages[0]
        assert prompt.content == "Summarise"
        assert [a.name for a in prompt.attachments] == ["notes.md"]
        assert names(chips) == []
        assert not chips.display
        assert composer.text == ""
        assert isinstance(screen.conversation.items[0], UserItem)
        assert "+ notes.md · 34 bytes" in visible_text(app)


async def test_files_alone_are_sent_with_enter(server: LoopbackServer, files: Path) -> None:
    server.enqueue(stream_of(["ok"]))
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        _composer, _completion, chips = await opened(pilot)
        await attach(pilot, chips, files / "docs" / "index.md")
        await pilot.press("enter")
        await settle(pilot)
        content = server.chat_requests[0].json()["messages"][-1]["content"]
        assert content == "docs/index.md\n```\n# Docs\n```"


async def test_a_refused_file_is_named_once_and_nothing_else_changes(
    server: LoopbackServer, files: Path
) -> None:
    limits = AttachmentLimits(max_file_bytes=30)
    app = make_app(server, attachments=limits)
    async with app.run_test(size=SIZE) as pilot:
        notices = Notices(app)
        composer, _completion, chips = await opened(pilot)
        await attach(pilot, chips, files / "src" / "util.py")
        await pilot.press(*"keep this draft")
        chat(app).attach_paths([files / "notes.md"])
        await settle(pilot)
        [notice] = notices.messages
        assert notice == (
            "notes.md is 34 bytes; text files can be attached up to 30 bytes "
            "([attachments] max_file_kb)."
        )
        assert composer.text == "keep this draft"
        assert names(chips) == ["src/util.py"]


async def test_a_model_that_cannot_take_an_image_refuses_it_and_keeps_the_draft(
    server: LoopbackServer, files: Path
) -> None:
    app = make_app(server)
    async with app.run_test(size=SIZE) as pilot:
        notices = Notices(app)
        composer, _completion, chips = await opened(pilot)
        await attach(pilot, chips, files / "logo.png")
        assert "zai-org-glm-5 takes text only" in notices.text  # said when attached
        await pilot.press(*"describe it", "enter")
        await settle(pilot)
        assert server.chat_requests == []
        assert notices.messages[-1].startswith("zai-org-glm-5 takes text only")
        assert composer.text == "describe it"
        assert names(chips) == ["logo.png"]
        assert chat(app).session.messages == []


# --- the request's size -----------------------------------------------------------------------


def status(app: GlmApp) -> StatusInfo:
    info = chat(app).query_one(StatusBar).info
    assert info is not None
    return info


async def test_the_status_line_estimates_the_request_as_you_type(
    server: LoopbackServer, files: Path
) -> None:
    session = Session(
        system_prompt="Be brief.",
        messages=[Message("user", "q" * 400), Message("assistant", "a" * 400)],
    )
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        composer, _completion, chips = await opened(pilot)
        assert status(app).request is None  # nothing to send: nothing shown
        history = (2 + 4) + (100 + 4) * 2  # "Be brief." is ~2 tokens
        await pilot.press(*"x" * 8)
        await until(pilot, lambda: status(app).request == history + 2 + 4)
        assert f"request ~{history + 6} tok" in chat(app).query_one(StatusBar).text
        await pilot.press(*"y" * 8)
        await until(pilot, lambda: status(app).request == history + 4 + 4)  # the last change
        await attach(pilot, chips, files / "notes.md")
        fenced = len(f"notes.md\n```\n{NOTES}```") / 4
        await until(pilot, lambda: status(app).request == history + 8 + round(fenced))
        composer.text = ""
        await until(pilot, lambda: status(app).request == history + 4 + round(fenced))


async def test_a_request_too_large_warns_and_enter_asks_first(
    server: LoopbackServer, files: Path
) -> None:
    server.enqueue(stream_of(["ok"]))
    # GLM-5's window is 200,000 tokens; a reply kept 199,990 of them leaves ten.
    session = Session(parameters=Parameters(max_tokens=199_990))
    app = make_app(server, session=session)
    async with app.run_test(size=SIZE) as pilot:
        composer, _completion, _chips = await opened(pilot)
        await pilot.press(*"short")
        await until(pilot, lambda: status(app).request == 1 + 4)
        assert not status(app).request_over
        await pilot.press(*" and then rather longer")
        await until(pilot, lambda: status(app).request_over)
        assert "⚠ over the 10 limit" in chat(app).query_one(StatusBar).text
        screen = chat(app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert "more than the 10 the model takes" in visible_text(app)
        await pilot.press("c")  # Cancel: keep the draft
        await until(pilot, lambda: app.screen is screen)
        assert composer.text == "short and then rather longer"
        assert server.chat_requests == []
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("s")  # Send anyway
        await settle(pilot)
        assert len(server.chat_requests) == 1
        assert composer.text == ""


def test_the_request_size_benchmark_runs() -> None:
    """The benchmark's harness end to end, on a short history (the figures are its job)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.bench_request_size",
            "--messages",
            "40",
            "--keys",
            "2",
            "--runs",
            "3",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "| keystroke → status |" in done.stdout, done.stderr
    assert "| history, warm |" in done.stdout, done.stderr
