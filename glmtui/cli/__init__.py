"""Command-line entry point: the TUI by default, plus scriptable subcommands.

``glmtui`` starts the app; ``glmtui ask``, ``glmtui models``, ``glmtui sessions``,
``glmtui config`` and ``glmtui mcp`` work without it and never import Textual, so they start
fast and behave in pipes. One module per command group (:mod:`~glmtui.cli.ask`,
:mod:`~glmtui.cli.models`, :mod:`~glmtui.cli.sessions`, :mod:`~glmtui.cli.config`,
:mod:`~glmtui.cli.mcp`, :mod:`~glmtui.cli.tui`), each imported only when its command runs;
the grammar is :mod:`~glmtui.cli.parser`.

Exit status: 0 success, 1 API, network or file error, 2 bad usage, configuration or an unknown
session, 130 Ctrl-C, 141 the output was closed early (``glmtui … | head``), as ``cat``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from glmtui.cli.common import (
    EXIT_API_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT_CLOSED,
    EXIT_USAGE,
    UsageError,
    output_closed,
    say,
    text_argument,
    tolerant_output,
)
from glmtui.cli.parser import build_parser

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_OUTPUT_CLOSED",
    "EXIT_USAGE",
    "build_parser",
    "main",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    tolerant_output()
    words = [text_argument(word) for word in (sys.argv[1:] if argv is None else argv)]
    try:
        try:
            args = build_parser().parse_args(words)
        except UsageError as exc:
            say(f"glmtui: {exc}")
            return EXIT_USAGE
        try:
            if args.command == "ask":
                from glmtui.cli import ask

                return ask.run(args)
            if args.command == "models":
                from glmtui.cli import models

                return models.run(args)
            if args.command == "sessions":
                from glmtui.cli import sessions

                return sessions.run(args)
            if args.command == "config":
                from glmtui.cli import config

                return config.run(args)
            if args.command == "mcp":
                from glmtui.cli import mcp

                return mcp.run(args)
            from glmtui.cli import tui

            return tui.run(args)
        except UsageError as exc:
            say(f"glmtui: {exc}")
            return EXIT_USAGE
        except KeyboardInterrupt:
            say(("\n" if sys.stderr.isatty() else "") + "glmtui: interrupted.")
            return EXIT_INTERRUPTED
    except BrokenPipeError:
        return output_closed()
