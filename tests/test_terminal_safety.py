"""Escape sequences in a model's reply are shown, never obeyed, when ``glmtui ask`` writes to a
terminal; into a pipe the reply goes out byte for byte (it is data there, not a display)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

from tests.conftest import FAKE_KEY
from tests.server import LoopbackServer, stream_of

HOSTILE = [
    "Title\x1b]0;pwned\x07 ",
    "clipboard\x1b]52;c;cm0gLXJmIH4=\x07 ",
    "clear\x1b[2J\x1b[H ",
    "csi\x9b31m ",
    "bidi\u202eevil ",
    "cr\rover ",
    "nul\x00 end",
]


def run_ask(server: LoopbackServer, *, terminal: bool) -> bytes:
    """Run ``glmtui ask`` as a real process; stdout is a pseudo-terminal or a pipe."""
    env = {**os.environ, "OXEN_API_KEY": FAKE_KEY, "PYTHONIOENCODING": "utf-8"}
    argv = [sys.executable, "-m", "glmtui", "ask", "--base-url", server.base_url, "hello"]
    if not terminal:
        done = subprocess.run(argv, env=env, capture_output=True, timeout=60, check=True)
        return done.stdout
    leader, follower = pty.openpty()
    process = subprocess.Popen(argv, env=env, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            process.kill()
            raise AssertionError("glmtui ask did not finish")
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal (EIO on Linux)
            break
        if not data:
            break
        output += data
    os.close(leader)
    assert process.wait(timeout=30) == 0
    return output


def test_ask_on_a_terminal_shows_escapes_instead_of_obeying_them(server: LoopbackServer) -> None:
    server.enqueue(stream_of(HOSTILE))
    shown = run_ask(server, terminal=True).decode("utf-8")
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\x00"):
        assert raw not in shown
    assert "\r" not in shown.replace("\r\n", "")  # the terminal's own line endings only
    assert "Title\\x1b]0;pwned\\x07" in shown
    assert "bidi\\u202eevil" in shown
    assert "cr\\x0dover" in shown


def test_ask_into_a_pipe_is_byte_exact(server: LoopbackServer) -> None:
    server.enqueue(stream_of(HOSTILE))
    assert run_ask(server, terminal=False).decode("utf-8") == "".join(HOSTILE)
