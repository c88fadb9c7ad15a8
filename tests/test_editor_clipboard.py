"""Writing the prompt in $EDITOR (Ctrl+E) and copying through glmtui.ui.clipboard.

The editor is a fake script that rewrites (or fails on) the file it is given; the clipboard
tools are a recording script on a temporary PATH: no test opens a real editor or touches the
real clipboard.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from textual.app import App
from textual.selection import Selection

from glmtui.ui.clipboard import Clipboard, copy, tool_command
from glmtui.ui.editor import editor_command
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.conversation import TEXT_X
from tests.server import HANG, LoopbackServer, StreamReply, chunk, sse
from tests.ui_helpers import (
    Notices,
    chat,
    make_app,
    sample_session,
    send,
    settle,
    until,
    visible_text,
)

SIZE = (100, 30)

FAKE_EDITOR = """\
import pathlib, sys
mode, path = sys.argv[1], pathlib.Path(sys.argv[-1])
before = path.read_text(encoding="utf-8")
if mode in ("rewrite", "write-then-fail"):
    path.write_text(f"edited: {before}\\nsecond line\\n", encoding="utf-8")
sys.exit(3 if mode != "rewrite" else 0)
"""

RECORDER = """\
import pathlib, sys
pathlib.Path(sys.argv[1]).write_bytes(sys.stdin.buffer.read())
"""


def _script(folder: Path, name: str, body: str) -> Path:
    """An executable Python script ``name`` in ``folder``."""
    path = folder / name
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _take(path: Path) -> tuple[str, int]:
    """A kept file's text and permission bits; the file is removed."""
    text, mode = path.read_text(encoding="utf-8"), stat.S_IMODE(path.stat().st_mode)
    path.unlink()
    return text, mode


def test_editor_command_takes_visual_then_editor_with_arguments(tmp_path: Path) -> None:
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "vim"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": "'my editor' -f"}) == ["my editor", "-f"]
    _script(tmp_path, "nano", "")
    assert editor_command({"PATH": str(tmp_path)}) == ["nano"]
    assert editor_command({"PATH": str(tmp_path / "none")}) == ["vi"]
    with pytest.raises(ValueError, match="quotation"):
        editor_command({"EDITOR": "vim '"})


async def test_editor_round_trip_failure_and_missing_editor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+E: the saved text comes back unsent; a failing or missing editor keeps the draft
    and says so (and where the text it wrote is)."""
    editor = tmp_path / "editor.py"
    editor.write_text(FAKE_EDITOR, encoding="utf-8")
    app = make_app()
    notices = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat(app)
        composer = screen.query_one(Composer)
        composer.text = "my draft"
        composer.focus()

        monkeypatch.setenv("VISUAL", f"{sys.executable} {editor} rewrite")
        await pilot.press("ctrl+e")
        await until(pilot, lambda: composer.text.startswith("edited:"))
        assert composer.text == "edited: my draft\nsecond line"
        assert composer.cursor_location == composer.document.end
        assert screen.session.messages == []  # not sent

        composer.text = "keep me"
        monkeypatch.setenv("VISUAL", f"{sys.executable} {editor} write-then-fail")
        await pilot.press("ctrl+e")
        await until(pilot, lambda: "status 3" in notices.text)
        assert composer.text == "keep me"
        kept = Path(notices.messages[-1].split(" is in ")[1].rstrip("."))
        assert kept.suffix == ".md"
        text, mode = _take(kept)
        assert text.startswith("edited: keep me")
        assert mode == 0o600  # private, like the file the editor was given

        monkeypatch.setenv("VISUAL", f"{sys.executable} {editor} fail")
        await pilot.press("ctrl+e")
        await until(pilot, lambda: "the draft is unchanged" in notices.text)
        assert composer.text == "keep me"

        titles = [c.title for c in app.get_system_commands(screen)]
        assert "chat: edit in editor" in titles
        monkeypatch.setenv("VISUAL", "glmtui-no-such-editor --flag")
        await pilot.press("ctrl+e")
        await until(pilot, lambda: "Editor not found" in notices.text)
        assert "$VISUAL or $EDITOR" in notices.messages[-1]
        assert composer.text == "keep me"


async def test_copy_goes_through_the_configured_command(tmp_path: Path) -> None:
    """A message copied with ``c`` reaches the clipboard command (stdin), and OSC 52 too."""
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER, encoding="utf-8")
    out = tmp_path / "copied.txt"
    session = sample_session()
    app = make_app(
        session=session,
        clipboard="auto",
        clipboard_command=f"{sys.executable} {recorder} {out}",
    )
    notices = Notices(app)
    async with app.run_test(size=SIZE) as pilot:
        conversation = chat(app).conversation
        conversation.focus()
        conversation.select(1)
        await pilot.press("c")
        await until(pilot, lambda: out.exists())
        assert out.read_text(encoding="utf-8") == session.messages[1].content
        assert app.clipboard == session.messages[1].content  # OSC 52 as well
        assert notices.messages[-1] == "Message copied to the clipboard."


def test_auto_finds_a_tool_on_path(tmp_path: Path) -> None:
    """``auto`` feeds wl-copy under Wayland (xclip under X11), text on stdin."""
    out = tmp_path / "copied.txt"
    for name in ("wl-copy", "xclip"):
        _script(
            tmp_path, name, f"import sys; open({str(out)!r}, 'wb').write(sys.stdin.buffer.read())"
        )
    env = {"PATH": str(tmp_path), "WAYLAND_DISPLAY": "wayland-0"}
    assert Path(tool_command(env)[0]).name == "wl-copy"
    assert Path(tool_command({"PATH": str(tmp_path), "DISPLAY": ":0"})[0]).name == "xclip"
    app: App[None] = App()
    result = copy(app, "héllo\nworld", Clipboard(), env)
    assert (result.tool, result.osc52, result.problem) == ("wl-copy", True, "")
    assert out.read_text(encoding="utf-8") == "héllo\nworld"
    assert app.clipboard == "héllo\nworld"


def test_fallback_notices_say_how_to_fix(tmp_path: Path) -> None:
    """No tool: inside tmux without set-clipboard on, the notice names the tmux setting; over
    SSH, a terminal that takes OSC 52; ``command`` mode with nothing to run says so."""
    _script(tmp_path, "tmux", "print('external')")
    app: App[None] = App()
    tmux = copy(app, "x", Clipboard(), {"PATH": str(tmp_path), "TMUX": "/tmp/tmux-1/default"})
    assert tmux.osc52
    assert "set -g set-clipboard on" in tmux.problem
    _script(tmp_path, "tmux", "print('on')")
    assert copy(app, "x", Clipboard(), {"PATH": str(tmp_path), "TMUX": "t"}).problem == ""
    ssh = copy(app, "x", Clipboard(), {"PATH": str(tmp_path), "SSH_TTY": "/dev/pts/1"})
    assert "accepts OSC 52" in ssh.problem
    assert not ssh.certain
    failing = copy(app, "x", Clipboard("command", "glmtui-no-such-tool"), {"PATH": ""})
    assert not failing.osc52
    assert "glmtui-no-such-tool was not found" in failing.problem
    assert "clipboard_command" in failing.problem
    unclosed = copy(app, "x", Clipboard("command", "xclip '"), {"PATH": ""})
    assert "cannot be read as a command" in unclosed.problem


async def test_mouse_selection_copies_and_survives_streaming(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """Dragging over a word in a reply selects it (highlighted); Ctrl+C copies it through the
    clipboard command; a reply streaming below leaves the selection where it was."""
    more = "\n\nline two\n\nline three\n\nthe end"
    server.enqueue(
        StreamReply([sse(chunk("Streaming on", role="assistant")), 0.6, sse(chunk(more)), HANG])
    )
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER, encoding="utf-8")
    out = tmp_path / "copied.txt"
    app = make_app(
        server,
        session=sample_session(),
        clipboard="command",
        clipboard_command=f"{sys.executable} {recorder} {out}",
    )
    async with app.run_test(size=(100, 50)) as pilot:
        screen = chat(app)
        view = screen.conversation
        await send(pilot, "more")  # typing clears a mouse selection (Textual): first
        await until(pilot, lambda: "Streaming on" in visible_text(app))
        whole = view.get_selection(Selection(None, None))
        assert whole is not None
        rows = whole[0].splitlines()
        row = next(i for i, line in enumerate(rows) if "def greet" in line)
        x = TEXT_X + rows[row].index("greet")
        y = row - int(view.scroll_y)
        assert 0 <= y < view.size.height
        await pilot.mouse_down(view, offset=(x, y))
        await pilot.hover(view, offset=(x + 4, y))  # the cell under the pointer is in
        await pilot.mouse_up(view, offset=(x + 4, y))
        assert screen.get_selected_text() == "greet"
        await pilot.press("ctrl+c")
        await until(pilot, lambda: out.exists())
        assert out.read_text(encoding="utf-8") == "greet"

        await until(pilot, lambda: "the end" in visible_text(app))  # the reply grew
        assert screen.get_selected_text() == "greet"
        y = row - int(view.scroll_y)
        chosen = screen.get_component_rich_style("screen--selection").bgcolor
        drawn = [seg for seg in view.render_line(y) if seg.style and seg.style.bgcolor == chosen]
        assert "".join(seg.text for seg in drawn) == "greet"

        await pilot.click(view, offset=(x + 2, y), times=2)  # a word
        assert screen.get_selected_text() == "greet"
        await pilot.click(view, offset=(x + 2, y), times=3)  # its line
        assert screen.get_selected_text() == rows[row]  # as drawn
        screen.action_stop()
        await settle(pilot)


async def test_keyboard_selection_copies_with_y_and_esc_leaves(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """``v`` on a message starts a cursor at its text; moving selects (the mouse's highlight),
    while a reply streams below; ``y`` copies exactly that through the clipboard command and
    leaves; Esc copies nothing."""
    more = "\n\nline two\n\nline three\n\nthe end"
    server.enqueue(
        StreamReply([sse(chunk("Streaming on", role="assistant")), 0.4, sse(chunk(more)), HANG])
    )
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER, encoding="utf-8")
    out = tmp_path / "copied.txt"
    app = make_app(
        server,
        session=sample_session(),
        clipboard="command",
        clipboard_command=f"{sys.executable} {recorder} {out}",
    )
    async with app.run_test(size=(100, 50)) as pilot:
        screen = chat(app)
        view = screen.conversation
        await send(pilot, "more")
        await until(pilot, lambda: "Streaming on" in visible_text(app))
        view.focus()
        view.select(1)
        await pilot.press("v")
        assert view.caret is not None
        start = view.caret
        whole = view.get_selection(Selection(None, None))
        assert whole is not None
        rows = whole[0].splitlines()
        assert rows[start.y] == "Here is a function and how to call it:"  # not the header
        assert screen.get_selected_text() == "H"  # the cell under the cursor
        shown = {b.binding.id for b in screen.active_bindings.values() if b.binding.show}
        assert {"text_selection.copy", "text_selection.cancel"} <= shown  # the footer's
        assert "message.copy" not in shown  # the view's own keys are off meanwhile
        await pilot.press("j", "j", "right", "l")  # the line below is blank
        assert rows[start.y + 2] == " python"  # the code block's title line
        expected = "Here is a function and how to call it:\n\n py"
        assert screen.get_selected_text() == expected
        await until(pilot, lambda: "the end" in visible_text(app))  # the reply grew
        assert view.caret is not None
        assert screen.get_selected_text() == expected
        chosen = screen.get_component_rich_style("screen--selection").bgcolor
        y = start.y + 2 - int(view.scroll_y)
        drawn = [seg for seg in view.render_line(y) if seg.style and seg.style.bgcolor == chosen]
        assert "".join(seg.text for seg in drawn) == " py"
        await pilot.press("y")
        await until(pilot, lambda: out.exists())
        assert out.read_text(encoding="utf-8") == expected
        assert view.caret is None
        assert not screen.selections

        out.unlink()
        await pilot.press("v", "j", "escape")  # Esc leaves the mode, the reply streams on
        await pilot.pause()
        assert view.caret is None
        assert not screen.selections
        assert not out.exists()
        assert view.has_focus
        assert screen.generating
        screen.action_stop()
        await settle(pilot)
