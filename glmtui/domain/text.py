"""Text from a model, a server or a file, made safe to put on a terminal.

A reply is data, not instructions for the terminal: an escape sequence in it must not set the
window title, write the clipboard (OSC 52), clear the screen or reorder text with bidi
overrides. Control characters are therefore shown, not sent: as Unicode Control Pictures
(``␛``, ``␇``, ``␀``) in the full-screen app, and as ``\\xNN`` escapes in command-line output.
The stored text is never changed; only what is drawn.
"""

from __future__ import annotations

import re

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 controls except tab and newline, DEL, C1 controls, and bidi embeddings/overrides."""


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟: one cell wide, like the text around it
    if code == 0x7F:
        return "\u2421"  # ␡
    return _escape(match)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible_controls(text: str) -> str:
    """``text`` with every control character drawn as a visible symbol (for the TUI).

    ``\\r\\n`` becomes ``\\n`` first, so Windows line endings stay line endings.
    """
    if _CONTROLS.search(text) is None:
        return text
    return _CONTROLS.sub(_picture, text.replace("\r\n", "\n"))


def control_marks(text: str) -> frozenset[str]:
    """The symbols :func:`visible_controls` draws for the controls in ``text``."""
    if _CONTROLS.search(text) is None:
        return frozenset()
    return frozenset(_picture(match) for match in _CONTROLS.finditer(text))


def restore_controls(shown: str, marks: frozenset[str]) -> str:
    """``shown`` (text drawn by :func:`visible_controls`) with each of ``marks`` turned back
    into the control it stands for: what the user pasted, exactly.

    Only the given marks are restored, so a symbol that was typed or pasted as itself (a
    ``␛`` copied from the screen) stays one unless the same text also holds the control.
    """
    if not marks:
        return shown
    pattern = "|".join(re.escape(mark) for mark in sorted(marks, key=len, reverse=True))
    return re.sub(pattern, lambda match: _control(match.group()), shown)


def _control(mark: str) -> str:
    if len(mark) == 1:
        return "\x7f" if mark == "\u2421" else chr(ord(mark) - 0x2400)
    return chr(int(mark[2:], 16))  # \\xNN or \\uNNNN


def pasted_text(text: str) -> str:
    """Pasted text with its line breaks as newlines.

    Terminals paste line breaks as they would type them: a carriage return (xterm, VTE and
    tmux by default), or CRLF (text copied on Windows). Other controls are left as they are.
    """
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def printable(text: str) -> str:
    """``text`` with every control character written as ``\\xNN`` / ``\\uNNNN`` (for the CLI)."""
    if _CONTROLS.search(text) is None:
        return text
    return _CONTROLS.sub(_escape, text.replace("\r\n", "\n"))
