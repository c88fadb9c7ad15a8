"""Pasted text reaches the model as it was pasted, and the terminal only ever sees symbols.

* Line breaks pasted as CR (xterm, VTE, tmux) or CRLF become newlines, in the composer and in
  what is sent; other controls are shown as symbols (``␛``) and sent as themselves.
* A bracketed paste is read whole by the terminal input parser, ESC sequences and all
  (Textual's own parser ends a paste at its first ESC and types the rest as keys).
"""

from __future__ import annotations

import itertools

import pytest
from textual import events
from textual._xterm_parser import XTermParser
from textual.pilot import Pilot

from glmtui.domain.text import control_marks, pasted_text, restore_controls, visible_controls
from glmtui.ui.compat import PASTE_END, PASTE_START, PasteParser
from glmtui.ui.widgets.composer import Composer
from tests.server import LoopbackServer, stream_of
from tests.ui_helpers import chat, make_app, send_anyway, settle, until, visible_text

ESC = "\x1b"
COLOURED = f"{ESC}[31merror{ESC}[0m: disk {ESC}[1mfull{ESC}[22m"
"""A line of a coloured log, as ``ls --color`` or a test runner writes it."""

LINE_BREAKS = [
    pytest.param("one\rtwo\rthree", "one\ntwo\nthree", id="CR"),
    pytest.param("one\r\ntwo\r\nthree", "one\ntwo\nthree", id="CRLF"),
    pytest.param("one\r\ntwo\rthree\nfour", "one\ntwo\nthree\nfour", id="mixed"),
    pytest.param("one\rtwo\r", "one\ntwo\n", id="lone CR at the end"),
    pytest.param("\r\rone", "\n\none", id="CRs first"),
    pytest.param("one\n\rtwo", "one\n\ntwo", id="LF then CR"),
]


# --- the composer ------------------------------------------------------------------------------


async def paste(pilot: Pilot[int], text: str) -> Composer:
    """Paste ``text`` into the focused composer, as the driver delivers a bracketed paste."""
    composer = chat(pilot.app).query_one(Composer)
    composer.focus()
    await until(pilot, lambda: composer.has_focus)
    before = composer.document.text
    pilot.app.post_message(events.Paste(text))
    # The app hands the paste on to the focused widget, whose queue may not be empty yet when
    # the app's is (a loaded machine): wait for the text itself.
    await until(pilot, lambda: composer.document.text != before)
    return composer


async def paste_and_send(server: LoopbackServer, text: str) -> tuple[str, str, str]:
    """(what the composer shows, what was sent, what was saved) for a pasted ``text``."""
    server.enqueue(stream_of(["ok"]))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: chat(app).is_mounted)
        composer = await paste(pilot, text)
        shown = composer.document.text
        screen = chat(app)
        await pilot.press("enter")
        await send_anyway(pilot, screen, 0)  # a paste larger than the model's window
        await settle(pilot)
        saved = chat(app).session.messages[0].content
        assert not _raw_controls(visible_text(app))
    [request] = server.chat_requests
    return shown, request.json()["messages"][-1]["content"], saved


def first_difference(got: str, expected: str) -> str | None:
    """Where two long texts first differ, briefly (None when they are equal)."""
    if got == expected:
        return None
    at = next(
        (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
        min(len(got), len(expected)),
    )
    return (
        f"lengths {len(got):,} and {len(expected):,}; first difference at {at:,}: "
        f"{got[at : at + 40]!r} vs {expected[at : at + 40]!r}"
    )


def _raw_controls(text: str) -> list[str]:
    return sorted({c for c in text if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0)})


@pytest.mark.parametrize(("pasted", "expected"), LINE_BREAKS)
async def test_pasted_line_breaks_become_newlines(
    server: LoopbackServer, pasted: str, expected: str
) -> None:
    shown, sent, saved = await paste_and_send(server, pasted)
    assert shown == expected
    assert "␍" not in shown
    assert sent == saved == expected


@pytest.mark.parametrize(
    "pasted",
    [
        pytest.param(COLOURED, id="colour codes"),
        pytest.param(f"title{ESC}]0;pwned\x07 clip{ESC}]52;c;SGVsbG8={ESC}\\", id="OSC"),
        pytest.param("bell\x07 nul-free\x08 del\x7f csi\x9b31m rlo\u202eevil\u202c", id="others"),
        pytest.param(f"{COLOURED}\r{COLOURED}\r\n", id="with CR line breaks"),
    ],
)
async def test_pasted_controls_are_shown_as_symbols_and_sent_verbatim(
    server: LoopbackServer, pasted: str
) -> None:
    shown, sent, saved = await paste_and_send(server, pasted)
    expected = pasted_text(pasted)
    assert not _raw_controls(shown)  # the composer holds symbols (␛), never raw controls
    assert shown == visible_controls(expected)
    assert sent == saved == expected  # ... and what goes out is what was pasted


async def test_a_symbol_pasted_as_itself_stays_a_symbol(server: LoopbackServer) -> None:
    """Only symbols that stand for pasted controls turn back into them: ``␛`` copied from the
    screen, with no ESC in the draft, is sent as ``␛``."""
    _, sent, _ = await paste_and_send(server, "the screen showed ␛[31m and ␇")
    assert sent == "the screen showed ␛[31m and ␇"


async def test_a_paste_into_a_draft_keeps_both_and_recall_keeps_the_controls(
    server: LoopbackServer,
) -> None:
    """Typed text around a paste, and a prompt recalled from history (Up) or reloaded for
    editing, still sends its controls as they were."""
    server.enqueue(stream_of(["ok"]))
    server.enqueue(stream_of(["ok"]))
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: chat(app).is_mounted)
        composer = await paste(pilot, COLOURED)
        await pilot.press("home", "x", "end", "y")
        assert composer.text == f"x{COLOURED}y"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("up")  # the composer is empty: recall the prompt
        assert composer.document.text == visible_controls(f"x{COLOURED}y")
        await pilot.press("enter")
        await settle(pilot)
    first, second = (r.json()["messages"][-1]["content"] for r in server.chat_requests[-2:])
    assert first == second == f"x{COLOURED}y"


async def test_a_one_megabyte_paste_with_cr_line_breaks(server: LoopbackServer) -> None:
    line = f"2026-11-25 20:31:07 {ESC}[32mINFO{ESC}[0m worker processed item; é ✓"
    lines = [f"{line} {n:06d}" for n in range(16_000)]
    pasted = "\r".join(lines)
    assert len(pasted.encode()) > 1_000_000
    shown, sent, saved = await paste_and_send(server, pasted)
    assert shown.count("\n") == len(lines) - 1
    expected = "\n".join(lines)
    # Compared without pytest's diff of two megabytes (it took minutes when this failed).
    assert first_difference(sent, expected) is None
    assert first_difference(saved, expected) is None


def test_marks_restore_exactly_what_was_shown() -> None:
    """The helpers behind the composer, on every kind of control :func:`visible_controls`
    draws: C0 (one symbol each), DEL, C1 and bidi controls (written as escapes)."""
    controls = [chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(c) not in "\t\n"]
    controls += [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
    for control in controls:
        text = f"a{control}b{control}"
        if control == "\r":
            text = pasted_text(text)
        marks = control_marks(text)
        assert restore_controls(visible_controls(text), marks) == text, repr(control)
    assert control_marks("plain text") == frozenset()
    assert restore_controls("␛ stays", frozenset()) == "␛ stays"


# --- the terminal input parser -----------------------------------------------------------------


def parse(data: list[str], parser: XTermParser | None = None) -> list[object]:
    """Events from feeding ``data`` piece by piece, then the end of input."""
    parser = parser or PasteParser()
    out: list[object] = []
    for piece in data:
        out.extend(parser.feed(piece))
    out.extend(parser.feed(""))
    return [(type(e).__name__, getattr(e, "key", None) or getattr(e, "text", None)) for e in out]


BEFORE = "ab"
AFTER = "\rq"
PASTES = [
    pytest.param(COLOURED, id="colour codes"),
    pytest.param(f"line one\r{COLOURED}\rline three\r", id="CR line breaks"),
    pytest.param(f"{ESC}{ESC}[{ESC}[200~ nested start, a lone ESC at the end {ESC}", id="ESCs"),
    pytest.param(f"almost the end {ESC}[201 and {ESC}[20", id="near misses"),
    pytest.param("x" * 10_000 + ESC + "[1m" + "y" * 10_000, id="long"),
    pytest.param("plain text", id="plain"),
]


@pytest.mark.parametrize("text", PASTES)
def test_a_bracketed_paste_arrives_whole(text: str) -> None:
    data = f"{BEFORE}{PASTE_START}{text}{PASTE_END}{AFTER}"
    expected = [*parse([BEFORE]), ("Paste", text), *parse([AFTER])]
    assert parse([data]) == expected
    # Read in pieces, split anywhere (the markers too), it is the same.
    marks = [i for i, c in enumerate(data) if c == ESC]
    near = {i + d for i in marks for d in range(-1, 8)} | set(range(0, len(data), 997))
    cuts = range(1, len(data)) if len(data) < 400 else sorted(near & set(range(1, len(data))))
    for cut in cuts:
        assert parse([data[:cut], data[cut:]]) == expected, cut
    assert parse(list(data)) == expected  # one character per read


def test_textuals_own_parser_scrambles_such_a_paste() -> None:
    """Why PasteParser exists: Textual's parser ends the paste at the first ESC, types the
    rest as keys (pressing Enter at each CR) and loses text. (When this fails, Textual reads
    pastes whole itself and PasteParser can go.)"""
    data = f"{PASTE_START}one\r{COLOURED}\rtwo{PASTE_END}"
    scrambled = parse([data], XTermParser())
    assert ("Paste", f"one\r{COLOURED}\rtwo") not in scrambled
    assert ("Key", "enter") in scrambled


def test_input_outside_pastes_is_parsed_as_textual_parses_it() -> None:
    keys = [
        "hello",
        f"{ESC}[A{ESC}[B{ESC}OP{ESC}[1;5D",  # arrows, F1, Ctrl+Left
        f"{ESC}[<0;10;5M{ESC}[<0;10;5m",  # a mouse click
        "\r\t\x7f\x02",  # Enter, Tab, Backspace, Ctrl+B
        f"{ESC}[20",  # the start of a paste marker that never comes
        f"{ESC}[I{ESC}[O",  # focus in / out
    ]
    for sample in keys:
        assert parse([sample]) == parse([sample], XTermParser()), repr(sample)
    joined = "".join(keys)
    assert parse(list(joined)) == parse(list(joined), XTermParser())


def test_pastes_one_after_another_and_nul() -> None:
    """Two pastes in one read, and a NUL in a paste (dropped, as Textual drops it)."""
    data = f"{PASTE_START}one\x00{ESC}[1m{PASTE_END}{PASTE_START}two{PASTE_END}"
    assert parse([data]) == [("Paste", f"one{ESC}[1m"), ("Paste", "two")]
    for pieces in itertools.combinations(range(1, len(data)), 2):
        a, b = pieces
        assert parse([data[:a], data[a:b], data[b:]]) == [
            ("Paste", f"one{ESC}[1m"),
            ("Paste", "two"),
        ]


def test_a_paste_cut_off_by_the_end_of_input_is_delivered() -> None:
    assert parse([f"{PASTE_START}half {ESC}[1"]) == [("Paste", f"half {ESC}[1")]


@pytest.mark.textual_internals(
    "glmtui replaces XTermParser (private) in textual.drivers.linux_driver, which looks it up "
    "by name when it starts reading input"
)
def test_the_linux_driver_uses_the_paste_parser() -> None:
    from textual.drivers import linux_driver

    from glmtui.ui.app import GlmApp
    from tests.ui_helpers import settings_for

    GlmApp(settings_for())  # the app installs it as it is made
    assert linux_driver.XTermParser is PasteParser
    assert "XTermParser(" in _source(linux_driver.LinuxDriver.run_input_thread)


def _source(function: object) -> str:
    import inspect

    return inspect.getsource(function)  # type: ignore[arg-type]
