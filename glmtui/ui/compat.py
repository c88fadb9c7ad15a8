"""The one place where glmtui leans on Textual behaviour that is not public API.

- :class:`PasteParser` / :func:`use_whole_pastes`: a bracketed paste is read whole (a
  correctness fix: Textual's parser types a pasted escape sequence as keys).

Speed-ups that rested on private API were measured one by one at 200 tokens/s (issue 20) and
removed, none paying 5 points of CPU or 20 ms of startup: lines handed out again until
``_set_dirty`` (0.8 points), the styles cache re-implemented for the conversation's lines
(0.6), the first resume's restyle skipped (~7 ms of startup) and the theme watcher repeated
with ``_refresh_truecolor_filter`` (~15 ms). The one that skipped a screen layout as the
conversation grows (``_scroll_update``) is now done with public API (the conversation
widget). What stays has a test marked ``textual_internals`` that fails loudly when a Textual
release changes what it relies on (``python -m pytest -m textual_internals`` lists
them). When upgrading Textual, start here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from textual import events
from textual._xterm_parser import XTermParser  # private: see PasteParser
from textual.message import Message

PASTE_START: Final = "\x1b[200~"
"""What a terminal sends before a bracketed paste."""
PASTE_END: Final = "\x1b[201~"
"""... and after it."""


def _partial(text: str, marker: str) -> int:
    """How many characters at the end of ``text`` could be the start of ``marker``."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if text.endswith(marker[:size]):
            return size
    return 0


class PasteParser(XTermParser):
    """Textual's parser of terminal input, reading a bracketed paste whole.

    Why: Textual's parser (8.2) reads an ESC inside a paste as the start of a key's escape
    sequence, and what follows it as key presses: a pasted log with colour codes lost most of
    its text, typed the rest as keys, and a line break among them pressed Enter. Here the
    text between the paste's start and end markers is set aside as it arrives (over as many
    reads as it takes) and delivered as one ``Paste`` event, exactly as pasted; everything
    outside pastes goes to Textual's parser unchanged, and a marker split across two reads is
    still found. Textual's parser still sees the markers (and makes an empty paste of them,
    which is dropped), so its own state stays what it would be.

    Buys: pastes of logs with colour codes arrive whole (a correctness fix, not speed).
    Relies on: ``textual._xterm_parser.XTermParser`` (subclassed) and the Linux driver
    looking its parser class up by name (``use_whole_pastes``); ``tests/test_paste.py``
    fails when either changes.
    """

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._pasting = False
        self._paste: list[str] = []
        self._tail = ""
        """Outside a paste: the last characters read (the start of a marker may be there).
        Inside: characters held back because they may begin the end marker."""

    def feed(self, data: str) -> Iterable[events.Event | Message]:
        if not data:  # the end of input
            if self._pasting:
                self._pasting = False
                yield self._pasted("".join(self._paste) + self._tail)
            yield from self._parsed(data)
            return
        while data:
            seen = self._tail + data
            if not self._pasting:
                found = seen.find(PASTE_START)
                if found < 0:
                    self._tail = seen[-(len(PASTE_START) - 1) :]
                    yield from self._parsed(data)
                    return
                end = found + len(PASTE_START) - len(self._tail)
                yield from self._parsed(data[:end])  # Textual's parser enters its paste
                self._pasting, self._tail, data = True, "", data[end:]
                continue
            found = seen.find(PASTE_END)
            if found < 0:
                keep = _partial(seen, PASTE_END)
                self._paste.append(seen[: len(seen) - keep])
                self._tail = seen[len(seen) - keep :]
                return
            self._paste.append(seen[:found])
            text = "".join(self._paste)
            self._pasting, self._paste, self._tail = False, [], ""
            yield from self._parsed(PASTE_END)  # ... and leaves it
            yield self._pasted(text)
            data = seen[found + len(PASTE_END) :]

    @staticmethod
    def _pasted(text: str) -> events.Paste:
        return events.Paste(text.replace("\x00", ""))  # as Textual does (its issue 1661)

    def _parsed(self, data: str) -> Iterable[events.Event | Message]:
        """Textual's parsing of ``data``, less the empty pastes it makes of bare markers."""
        for event in super().feed(data):
            if not isinstance(event, events.Paste):
                yield event


def use_whole_pastes() -> None:
    """Make Textual's Linux driver parse input with :class:`PasteParser` (it looks its parser
    class up by name each time it starts reading input)."""
    from textual.drivers import linux_driver

    linux_driver.XTermParser = PasteParser  # type: ignore[attr-defined]
