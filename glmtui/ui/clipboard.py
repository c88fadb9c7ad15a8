"""Copying to the clipboard: every copy in glmtui goes through :func:`copy_text`.

Two ways reach a clipboard, and glmtui uses both by default (``clipboard = "auto"``):

* **OSC 52** (:meth:`textual.app.App.copy_to_clipboard`): an escape sequence asking the
  terminal to set its clipboard. It works over SSH, but only where the terminal accepts it
  (kitty, WezTerm, foot, Ghostty, iTerm2 with clipboard access, Windows Terminal …), and tmux
  passes it on only with ``set -g set-clipboard on``. Nothing tells the app whether it worked.
* **A local tool**, fed the text on stdin: ``wl-copy`` (Wayland), ``xclip -selection
  clipboard`` or ``xsel -b -i`` (X11), ``pbcopy`` (macOS), ``clip.exe`` (WSL); or the
  ``clipboard_command`` of the config. It says whether it worked (its exit status), but only
  reaches the clipboard of the machine glmtui runs on.

``clipboard = "osc52"`` or ``"command"`` keeps to one of them. When a copy can work neither
way, the notice says how to fix it (tmux's ``set-clipboard``, a terminal that takes OSC 52, a
tool to install, ``clipboard_command``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel

CLIPBOARD_MODES = ("auto", "osc52", "command")
"""Values of the ``clipboard`` setting."""

COMMAND_TIMEOUT = 2.0
"""Seconds a clipboard tool may take. They return at once (``wl-copy`` and ``xclip`` leave a
child process behind to hold the selection), so this only bounds a tool that hangs; the copy
runs on the app's loop, which is why it is short."""


@dataclass(frozen=True, slots=True)
class Clipboard:
    """How this run copies: the ``clipboard`` and ``clipboard_command`` settings."""

    mode: str = "auto"
    """``auto`` (OSC 52 and a local tool if one is found), ``osc52`` or ``command``."""
    command: str = ""
    """A command reading the text on stdin (shell words, no shell); "" = find a known tool."""


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What a copy did, for the notice."""

    tool: str = ""
    """The local tool that took the text ("" if none did)."""
    osc52: bool = False
    """Whether the OSC 52 sequence was sent."""
    problem: str = ""
    """Why the copy may not have reached a clipboard, and how to fix it ("" if it did)."""
    certain: bool = True
    """False when the problem is only a doubt (OSC 52 over SSH may well have worked)."""


def tool_command(env: Mapping[str, str] | None = None) -> list[str]:
    """The first known clipboard tool that can work here, as argv ([] if none).

    Args:
        env: The environment (default: this process's); its ``PATH`` is searched.
    """
    env = os.environ if env is None else env
    path = env.get("PATH")

    def found(name: str) -> str | None:
        return shutil.which(name, path=path)

    candidates: list[tuple[bool, list[str]]] = [
        (bool(env.get("WAYLAND_DISPLAY")), ["wl-copy"]),
        (bool(env.get("DISPLAY")), ["xclip", "-selection", "clipboard"]),
        (bool(env.get("DISPLAY")), ["xsel", "-b", "-i"]),
        (True, ["pbcopy"]),
        (True, ["clip.exe"]),
    ]
    for usable, argv in candidates:
        if usable and (where := found(argv[0])):
            return [where, *argv[1:]]
    return []


def _tmux_drops_osc52(env: Mapping[str, str]) -> bool:
    """True inside tmux unless ``set-clipboard`` is ``on`` (its default, ``external``, drops
    an application's OSC 52). A tmux that cannot be asked is taken as dropping it."""
    if not env.get("TMUX"):
        return False
    try:
        shown = subprocess.run(
            ["tmux", "show", "-gv", "set-clipboard"],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            env=dict(env),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return True
    return shown.stdout.strip() != "on"


def _run_tool(argv: list[str], text: str, env: Mapping[str, str]) -> str:
    """Feed ``text`` to ``argv``; "" when it worked, else what went wrong, in words."""
    try:
        done = subprocess.run(
            argv,
            input=text.encode("utf-8"),
            # Not captured: wl-copy and xclip leave a child holding the selection, and a pipe
            # it inherits would keep run() waiting until the timeout.
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=COMMAND_TIMEOUT,
            env=dict(env),
            check=False,
        )
    except FileNotFoundError:
        return f"{argv[0]} was not found"
    except subprocess.TimeoutExpired:
        return f"{argv[0]} did not finish within {COMMAND_TIMEOUT:g} s"
    except OSError as error:
        return f"{argv[0]} could not start ({error.strerror or error})"
    if done.returncode != 0:
        return f"{argv[0]} failed (exit status {done.returncode})"
    return ""


def copy(
    app: App[Any], text: str, clipboard: Clipboard, env: Mapping[str, str] | None = None
) -> CopyResult:
    """Copy ``text`` the way ``clipboard`` says, without telling the user (see
    :func:`copy_text`).

    Args:
        app: Sends the OSC 52 sequence.
        text: What to copy.
        clipboard: The settings.
        env: The environment (default: this process's): ``PATH``, ``DISPLAY``, ``TMUX`` …
    """
    env = os.environ if env is None else env
    osc52 = clipboard.mode in ("auto", "osc52")
    if osc52:
        app.copy_to_clipboard(text)
    if clipboard.mode == "osc52":
        tool_failed = ""
    else:
        try:
            argv = shlex.split(clipboard.command) if clipboard.command else tool_command(env)
        except ValueError as error:  # an unclosed quote
            argv, unreadable = [], f"clipboard_command cannot be read as a command ({error})"
        else:
            unreadable = ""
        if unreadable:
            tool_failed = unreadable
        elif argv:
            tool_failed = _run_tool(argv, text, env)
            if not tool_failed:
                return CopyResult(tool=os.path.basename(argv[0]), osc52=osc52)
        else:
            tool_failed = "no clipboard tool was found (wl-copy, xclip, xsel, pbcopy, clip.exe)"
    if not osc52:
        return CopyResult(
            problem=f"Not copied: {tool_failed}. Install one, set clipboard_command in the "
            'config, or set clipboard = "auto" to use the terminal\'s clipboard (OSC 52).'
        )
    problem = _osc52_doubt(env, tool_failed)
    return CopyResult(osc52=True, problem=problem, certain=not problem.startswith(SSH_NOTE))


SSH_NOTE = "Sent to the terminal's clipboard (OSC 52): over SSH"


def _osc52_doubt(env: Mapping[str, str], tool_failed: str) -> str:
    """Why OSC 52 alone may not reach a clipboard here, and the fix ("" when nothing says so)."""
    tool_note = ""
    if tool_failed and "no clipboard tool" not in tool_failed:
        tool_note = f" ({tool_failed})"
    if _tmux_drops_osc52(env):
        return (
            "Sent to the terminal's clipboard (OSC 52), but tmux drops it: add "
            "`set -g set-clipboard on` to ~/.tmux.conf (then `tmux source ~/.tmux.conf`), or "
            f"install wl-copy / xclip / xsel{tool_note}."
        )
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return (
            f"{SSH_NOTE} this needs a terminal that accepts OSC 52 (kitty, WezTerm, foot, "
            f"iTerm2 with clipboard access, Windows Terminal){tool_note}."
        )
    if tool_note:
        return f"Sent to the terminal's clipboard (OSC 52) only{tool_note}."
    return ""


def clipboard_of(app: App[Any]) -> Clipboard:
    """The app's clipboard settings (``app.clipboard_settings``; ``App.clipboard`` is Textual's
    record of the last OSC 52 copy); an app without them copies through OSC 52 only, which
    never runs a program."""
    chosen = getattr(app, "clipboard_settings", None)
    return chosen if isinstance(chosen, Clipboard) else Clipboard(mode="osc52")


def copy_text(
    app: App[Any], text: str, what: str, *, timeout: float = 3, quiet: bool = False
) -> CopyResult:
    """Copy ``text`` and tell the user: "{what} copied to the clipboard.", or what stood in
    the way and how to fix it.

    Args:
        app: The app (its clipboard settings, see :func:`clipboard_of`).
        text: What to copy.
        what: What it is, for the notice ("Message", "Code block 2").
        timeout: Seconds the success notice stays.
        quiet: Say nothing when it worked (a copy the user sees happen, as in an editor).
    """
    result = copy(app, text, clipboard_of(app))
    if result.problem:
        severity: SeverityLevel = "warning" if result.certain else "information"
        if not (result.tool or result.osc52):
            severity = "error"
        app.notify(f"{what}: {result.problem}", severity=severity, timeout=10, markup=False)
    elif not quiet:
        app.notify(f"{what} copied to the clipboard.", timeout=timeout, markup=False)
    return result
