"""What every command shares: exit statuses, one-line messages, settings, safe output.

Exit status: 0 success, 1 API, network or file error, 2 bad usage, configuration or a session
reference that names none or several, 130 Ctrl-C, 141 the output was closed early
(``glmtui … | head``), as ``cat``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from glmtui.domain.text import printable

if TYPE_CHECKING:
    from glmtui.config import Settings

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_OUTPUT_CLOSED = 141
"""128 + SIGPIPE: what a shell reports for ``cat`` when its reader went away."""


class UsageError(Exception):
    """Bad command-line usage; the message is printed and the exit status is 2."""


def say(line: str) -> None:
    """One line for the user on stderr, with any control character escaped (a message may
    quote a server, a file or a config value; none of them may drive the terminal)."""
    sys.stderr.write(printable(line.rstrip("\n")) + "\n")
    sys.stderr.flush()


def verbatim(text: str) -> str:
    """Text as it is (what goes into a pipe or a file)."""
    return text


def output_closed() -> int:
    """The reader of our output went away (``| head``): stop quietly, as ``cat`` does.

    Python would still try to flush stdout at exit and print a second error, so both output
    streams are pointed at the null device first.
    """
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                os.dup2(null, stream.fileno())
        os.close(null)
    return EXIT_OUTPUT_CLOSED


def tolerant_output() -> None:
    """Text that the output's encoding cannot hold is escaped, never a UnicodeEncodeError
    (a terminal set to Latin-1 or ASCII, ``PYTHONIOENCODING=ascii``, a lone surrogate)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")


def text_argument(word: str) -> str:
    """A command-line word as text: bytes that are not UTF-8 (Python keeps them as lone
    surrogates, which no JSON or HTTP body can carry) become U+FFFD."""
    if not any("\udc80" <= char <= "\udcff" for char in word):
        return word
    return word.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def load_settings_for(args: argparse.Namespace) -> Settings:
    """The settings for this run (config file, environment, then the global options); any
    warning about them (a key in a file others can read) is said once.

    Raises:
        UsageError: a setting is invalid (the message names where and what is allowed).
    """
    from glmtui.config import ConfigError, Overrides, load_settings

    overrides = Overrides(
        base_url=getattr(args, "base_url", None),
        model=getattr(args, "model", None),
        provider=getattr(args, "provider", None),
        theme=getattr(args, "theme", None),
        demo=bool(getattr(args, "demo", False)),
    )
    config = getattr(args, "config", None)
    try:
        settings = load_settings(
            overrides, config_path=Path(config).expanduser() if config else None
        )
    except ConfigError as exc:
        raise UsageError(f"config error: {exc}") from None
    for warning in settings.warnings:
        say(f"glmtui: warning: {warning}")
    return settings


def require_key(settings: Settings) -> None:
    """Stop with the missing-key message when the endpoint needs a key and has none.

    Raises:
        UsageError: no key where one is needed.
    """
    if settings.key_required:
        from glmtui.api.errors import missing_key_error

        error = missing_key_error(settings.provider.api_key_env or "OXEN_API_KEY")
        raise UsageError(error.describe())
