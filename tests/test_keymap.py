"""The ``[keymap]`` table and ``vi_keys``: ids, checking, the app using them, ``config keys``.

One app launch covers what the user sees (the remapped send key, footer, help, the notice,
the vi keys); the rest is checked without a UI.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from glmtui.cli import main
from glmtui.config import Overrides, config_line, load_settings
from glmtui.ui.keymap import (
    PLACES,
    bound_actions,
    check_keymap,
    key_label,
    normalize_keys,
)
from glmtui.ui.keys import resolved
from glmtui.ui.widgets.composer import Composer
from glmtui.ui.widgets.conversation import ConversationView
from tests.server import LoopbackServer
from tests.ui_helpers import (
    Notices,
    chat,
    chat_opened,
    make_app,
    sample_session,
    settle,
    until,
    visible_text,
)

CONFIG = """\
theme = "glmtui"
vi_keys = true

[keymap]
"chat.send" = "ctrl+s"
"chat.new" = "ctrl+o"
"no.such" = "x"
"message.copy" = "ctrl+"
"""
"""Line 5 remaps send; line 6 clashes with Sessions; line 7 is no id; line 8 is no key."""

UI = Path(__file__).parent.parent / "glmtui" / "ui"


def test_every_binding_has_an_id_and_every_place_is_known() -> None:
    """Every ``Binding(`` in glmtui/ui has ``id=``, and every class with BINDINGS is in
    PLACES (else its keys could not be checked for clashes)."""
    placed = {path.rpartition(":")[2] for _name, path, _parents in PLACES}
    for file in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Binding":
                assert any(k.arg == "id" for k in node.keywords), f"{file}:{node.lineno}"
            if isinstance(node, ast.ClassDef):
                names = {
                    t.id
                    for s in node.body
                    if isinstance(s, ast.Assign | ast.AnnAssign)
                    for t in (s.targets if isinstance(s, ast.Assign) else [s.target])
                    if isinstance(t, ast.Name)
                }
                if "BINDINGS" in names and node.name != "ParameterSidebar":
                    assert node.name in placed, f"{file}: {node.name} is not in PLACES"
    ids = [i for i in bound_actions()]
    assert all("." in i for i in ids)
    assert {"chat.send", "chat.newline", "conversation.first", "conversation.find"} <= set(ids)


def test_keys_are_normalised_and_labelled() -> None:
    assert normalize_keys("Ctrl+S, /,F6") == "ctrl+s,slash,f6"
    assert normalize_keys("?") == "question_mark"
    for bad in ("", "ctrl+", "ctlr+s", "nosuchkey", "a,,b"):
        with pytest.raises(ValueError, match=r"key|modifier"):
            normalize_keys(bad)
    assert key_label("ctrl+s,slash,escape,pageup,G") == "Ctrl+S, /, Esc, PageUp, G"


def test_problems_name_the_line_and_keep_the_default(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    table = {"chat.send": "ctrl+s", "chat.new": "ctrl+o", "no.such": "x", "message.copy": "ctrl+"}
    keymap = check_keymap(table, path)
    assert keymap.overrides == {"chat.send": "ctrl+s"}
    assert [(p.binding_id, p.line) for p in keymap.problems] == [
        ("chat.new", 6),
        ("no.such", 7),
        ("message.copy", 8),
    ]
    keys = keymap.keys()
    assert (keys["chat.send"], keys["chat.new"], keys["message.copy"]) == ("ctrl+s", "ctrl+n", "c")
    notice = keymap.notice(path)
    assert str(path) in notice
    assert "line 6: 'chat.new': Ctrl+O is already 'chat.sessions'" in notice
    palette = check_keymap({"message.copy": "ctrl+p"}, path).problems
    assert [p.why for p in palette] == ["'message.copy': Ctrl+P is the command palette's"]
    # Swapping two keys is no clash: each leaves the other's key free.
    swapped = check_keymap({"chat.new": "ctrl+o", "chat.sessions": "ctrl+n"}, path)
    assert not swapped.problems
    # The same key in different places is fine (c copies in the conversation and sessions).
    assert not check_keymap({"message.copy": "y", "sessions.duplicate": "y"}, path).problems
    assert config_line(path, "chat.send") == 5
    # Unquoted, an id is a dotted key: TOML makes it a table, taken as the id it spells.
    assert check_keymap({"chat": {"send": "ctrl+s"}}, path).overrides == {"chat.send": "ctrl+s"}
    assert config_line(path, "theme", table="keymap") is None


def test_the_help_shows_the_keys_in_force() -> None:
    for _title, rows in resolved():
        assert all("{" not in key for key, _action in rows), "a {binding.id} names no binding"
    rows = dict(resolved({"chat.send": "ctrl+s"})[0][1])
    assert rows["Ctrl+S"] == "Send the prompt"
    assert dict(resolved()[0][1])["Enter"] == "Send the prompt"


def test_config_keys_prints_the_map_in_force(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text(CONFIG, encoding="utf-8")
    assert main(["config", "keys"]) == 0
    out, err = capsys.readouterr()
    send = next(line for line in out.splitlines() if line.startswith("chat.send "))
    assert send.split() == ["chat.send", "Ctrl+S", "Send", "(remapped)"]
    assert "chat.new" in out
    assert f"Keymap in {config_file}" in err
    assert "line 7" in err
    assert main(["config", "keys", "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["chat.send"]["keys"] == ["ctrl+s"]
    assert rows["chat.send"]["default"] == ["enter"]
    assert rows["chat.new"]["keys"] == ["ctrl+n"]


@pytest.fixture
def remapped(config_file: Path) -> Path:
    """The test's config file, holding :data:`CONFIG`."""
    config_file.write_text(CONFIG, encoding="utf-8")
    return config_file


async def test_remapped_keys_in_the_app(server: LoopbackServer, remapped: Path) -> None:
    """You should see Ctrl+S send (Enter only breaks the line), ^s in the footer and Ctrl+S in
    the help, one notice naming the file and lines 6-8, and the vi keys in the conversation."""
    config_file = remapped
    app = make_app(server, session=sample_session())
    notices = Notices(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await chat_opened(pilot)
        composer = screen.query_one(Composer)
        composer.focus()
        await pilot.pause()
        assert "(Ctrl+S sends · Ctrl+J new line" in composer.placeholder
        footer = visible_text(app).splitlines()[-1]
        assert "^s Send" in footer
        assert "⏎ Send" not in footer
        [notice] = [m for m in notices.messages if "Keymap" in m]
        assert str(config_file) in notice
        assert all(f"line {n}:" in notice for n in (6, 7, 8))

        before = len(screen.session.messages)
        composer.text = "Say hello"
        composer.move_cursor(composer.document.end)
        await pilot.press("enter")
        assert composer.text == "Say hello\n"
        assert server.chat_requests == []
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(server.chat_requests) == 1)
        await settle(pilot)
        assert len(screen.session.messages) == before + 2

        await pilot.press("f1")
        await pilot.pause()
        reference = app.screen.query_one("KeyReference")
        assert "Ctrl+S" in str(reference.render())
        await pilot.press("escape")
        await pilot.pause()

        view = chat(app).query_one(ConversationView)
        view.focus()
        await pilot.press("g")
        assert view.selected == 0
        await pilot.press("G")
        assert view.selected == len(view.items) - 1


def test_the_docs_example_keymap_is_used_whole(tmp_path: Path) -> None:
    page = (Path(__file__).parent.parent / "docs" / "keys.md").read_text("utf-8")
    section = page[page.index("## Remapping keys") :]
    block = section[section.index("```toml") + len("```toml") : section.index("```\n", 10)]
    path = tmp_path / "config.toml"
    path.write_text(block, encoding="utf-8")
    settings = load_settings(Overrides(), config_path=path)
    assert settings.vi_keys
    keymap = check_keymap(settings.keymap, path)
    assert not keymap.problems
    assert keymap.overrides["chat.send"] == "ctrl+s"
