"""Writing the prompt in the user's own editor (Ctrl+E in the composer).

The app gives the terminal to the editor (:meth:`textual.app.App.suspend`), which opens the
draft in a private temporary ``.md`` file; when it exits, the file's text is the new draft.
The editor is ``$VISUAL``, else ``$EDITOR`` (shell words, so ``code --wait`` works), else
``nano`` if installed, else ``vi``. The draft is never lost: an editor that is missing, cannot
start or exits with an error leaves the composer as it was, and if it had written something,
the file is kept and the notice says where.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.app import App, SuspendNotSupported

FALLBACK_EDITORS = ("nano", "vi")
"""Tried in order when neither ``$VISUAL`` nor ``$EDITOR`` is set."""


def editor_command(env: Mapping[str, str] | None = None) -> list[str]:
    """The editor to run, as argv (the file's path is added after it).

    Args:
        env: The environment (default: this process's).

    Raises:
        ValueError: ``$VISUAL`` or ``$EDITOR`` is not valid shell words (an unclosed quote).
    """
    env = os.environ if env is None else env
    for name in ("VISUAL", "EDITOR"):
        words = shlex.split(env.get(name, ""))
        if words:
            return words
    for fallback in FALLBACK_EDITORS:
        if shutil.which(fallback, path=env.get("PATH")):
            return [fallback]
    return [FALLBACK_EDITORS[-1]]


@dataclass(frozen=True, slots=True)
class EditResult:
    """How an edit ended."""

    text: str | None
    """The new draft, or None when the composer keeps the old one."""
    problem: str = ""
    """What went wrong, in words, for the notice ("" when the edit worked)."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def edit_in_editor(app: App[Any], draft: str, env: Mapping[str, str] | None = None) -> EditResult:
    """Open ``draft`` in the user's editor, the app suspended, and give back what was saved.

    A headless app (tests) has no terminal to give away: the editor runs without suspending.

    Args:
        app: The app to suspend while the editor runs.
        draft: The composer's text.
        env: The environment (default: this process's): the editor and its ``PATH``.
    """
    env = os.environ if env is None else env
    try:
        argv = editor_command(env)
    except ValueError as error:  # shlex: an unclosed quote
        return EditResult(None, f"$VISUAL / $EDITOR cannot be read as a command: {error}.")
    shown = shlex.join(argv)
    # mkstemp creates the file readable by its owner only (0600): the draft stays private.
    try:
        handle, name = tempfile.mkstemp(prefix="glmtui-prompt-", suffix=".md")
    except OSError as error:
        return EditResult(None, f"No temporary file for the editor ({error}).")
    path = Path(name)
    keep = False
    try:
        try:
            with os.fdopen(handle, "w", encoding="utf-8", errors="replace") as file:
                file.write(draft)
        except OSError as error:
            return EditResult(None, f"The draft could not be written for the editor ({error}).")
        try:
            if app.is_headless:
                status = _run([*argv, name], env)
            else:
                with app.suspend():
                    status = _run([*argv, name], env)
        except SuspendNotSupported:
            return EditResult(None, "This terminal cannot be handed to an editor.")
        except FileNotFoundError:
            return EditResult(
                None, f"Editor not found: {shown}. Set $VISUAL or $EDITOR to your editor."
            )
        except OSError as error:
            return EditResult(None, f"The editor could not start ({shown}: {error}).")
        text = _read(path)
        if status != 0:
            if text is not None and text != draft:
                keep = True
                return EditResult(
                    None,
                    f"The editor ({shown}) exited with status {status}; the composer is "
                    f"unchanged, and what it saved is in {path}.",
                )
            return EditResult(
                None, f"The editor ({shown}) exited with status {status}; the draft is unchanged."
            )
        if text is None:
            return EditResult(None, "The editor's file could not be read; the draft is unchanged.")
        # Editors end a file with a newline; a prompt does not need one.
        return EditResult(text.removesuffix("\n"))
    finally:
        if not keep:
            path.unlink(missing_ok=True)


def _run(argv: list[str], env: Mapping[str, str]) -> int:
    """Run the editor on the terminal and wait for it; its exit status."""
    return subprocess.run(argv, env=dict(env), check=False).returncode
