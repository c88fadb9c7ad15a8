"""Command-line entry point: the TUI by default, plus scriptable subcommands.

``glmtui`` starts the app; ``glmtui ask``, ``glmtui models``, ``glmtui sessions`` and
``glmtui config`` work without it and never import Textual, so they start fast and behave in
pipes. Global options (``--base-url``, ``--model``, ``--provider``, ``--demo``, ``--config``)
are accepted before or after the subcommand name.

Exit status: 0 success, 1 API, network or file error, 2 bad usage, configuration or an unknown
session, 130 Ctrl-C, 141 the output was closed early (``glmtui … | head``), as ``cat``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from glmtui import __version__
from glmtui.domain.text import printable

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_OUTPUT_CLOSED = 141
"""128 + SIGPIPE: what a shell reports for ``cat`` when its reader went away."""


class UsageError(Exception):
    """Bad command-line usage; the message is printed and the exit status is 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, so ``main`` owns every exit path."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\nRun '{self.prog} --help' for usage.")


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options every command takes. Subparsers use SUPPRESS so they don't clobber the top level."""
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("connection (any command, before or after its name)")
    group.add_argument(
        "--base-url", metavar="URL", default=default, help="API root (overrides config/env)"
    )
    group.add_argument("--model", metavar="ID", default=default, help="model id to use")
    group.add_argument(
        "--provider", metavar="NAME", default=default, help="provider profile from the config"
    )
    group.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="use the built-in offline demo backend (no key, no network)",
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="config file (default: $GLMTUI_CONFIG if set, else the one 'glmtui config path' "
        "prints)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    parser = _Parser(
        prog="glmtui",
        usage="glmtui [options] [--session ID | --sessions | --model-info ID]\n"
        "       glmtui COMMAND [options] ...   (ask, models, sessions, config)",
        description=(
            "A terminal chat client for GLM-5 on Oxen.ai and any OpenAI-compatible server. "
            "With no command, starts the full-screen app."
        ),
        epilog=(
            "Environment: OXEN_API_KEY (key), GLMTUI_BASE_URL, GLMTUI_MODEL, GLMTUI_PROVIDER, "
            "GLMTUI_THEME, GLMTUI_CONFIG (config file), GLMTUI_DATA_DIR (sessions, caches). "
            "Exit status: 0 ok, 1 API, network or file error, 2 bad usage, config or unknown "
            "session, 130 interrupted, 141 output closed (as cat)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"glmtui {__version__}")
    _global_options(parser, suppress=False)
    parser.add_argument("--theme", metavar="NAME", help="theme for this run")
    tui = parser.add_mutually_exclusive_group()
    tui.add_argument(
        "--session", metavar="ID", help="resume a saved session (an id or a unique prefix)"
    )
    tui.add_argument("--sessions", action="store_true", help="start in the session browser")
    tui.add_argument(
        "--model-info", metavar="ID", help="start on a model's details (its id, e.g. zai-org-glm-5)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    ask = commands.add_parser(
        "ask",
        help="one-shot question; streams the answer to stdout",
        description=(
            "Ask one question and stream the answer to stdout. The prompt comes from the "
            "arguments, from stdin, or both (arguments first, then stdin)."
        ),
    )
    ask.add_argument(
        "prompt",
        nargs="*",
        help="the prompt; '-' stands for stdin (default: read stdin when it is piped)",
    )
    ask.add_argument("--system", metavar="TEXT", help="system prompt")
    ask.add_argument("--temperature", type=float, metavar="T", help="sampling temperature, 0–2")
    ask.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling, 0–1")
    ask.add_argument("--max-tokens", type=int, metavar="N", help="most tokens to generate")
    ask.add_argument("--frequency-penalty", type=float, metavar="F", help="frequency penalty, −2–2")
    ask.add_argument("--presence-penalty", type=float, metavar="F", help="presence penalty, −2–2")
    ask.add_argument("--seed", type=int, metavar="N", help="sampling seed")
    ask.add_argument(
        "--stop",
        action="append",
        metavar="TEXT",
        help="stop sequence (repeat for up to 4)",
    )
    ask.add_argument(
        "--no-stream", action="store_true", help="wait for the whole answer, then print it"
    )
    ask.add_argument(
        "--print-request",
        choices=("curl", "python", "json"),
        metavar="FORMAT",
        help="print the request as curl, python or json instead of sending it "
        "(the key is written as its environment variable)",
    )
    ask.add_argument(
        "--show-reasoning", action="store_true", help="print the model's reasoning to stderr"
    )
    ask.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: content, reasoning, usage, finish_reason, model, error",
    )
    ask.add_argument(
        "--save",
        action="store_true",
        help="also store the exchange as a session (see 'glmtui sessions')",
    )
    _global_options(ask, suppress=True)

    models = commands.add_parser(
        "models",
        usage="glmtui models [--json] [--search TEXT] [options]\n"
        "       glmtui models show ID [--json] [options]",
        help="list the provider's models, or show one",
        description=(
            "The provider's model catalogue: id, name, context length and prices per 1M "
            "tokens. The provider is always asked; when it cannot be reached, or there is no "
            "key or the key is rejected, the copy cached on the last success is shown (or the "
            "built-in GLM-5 card) and stderr says so."
        ),
    )
    models.add_argument("--json", action="store_true", help="print the raw model objects")
    models.add_argument(
        "--search",
        metavar="TEXT",
        help="only models whose id, name, developer or summary contain every word of TEXT",
    )
    _global_options(models, suppress=True)
    models_sub = models.add_subparsers(dest="models_command", metavar="ACTION")
    show = models_sub.add_parser(
        "show",
        help="show one model's card",
        description=(
            "One model's card: limits, prices per 1M tokens, size and precision, request "
            "parameters and description. Exits 1 when the model does not exist."
        ),
    )
    show.add_argument("model_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="print the raw model object")
    _global_options(show, suppress=True)

    _sessions_parser(commands)

    config = commands.add_parser(
        "config", help="where the config lives and what it holds", description="Configuration."
    )
    _global_options(config, suppress=True)
    config.add_argument(
        "action",
        choices=("path", "show", "reference"),
        nargs="?",
        default="show",
        help="path: print the config file's path; show: the effective settings (default); "
        "reference: every setting, as a Markdown table",
    )
    return parser


def _sessions_parser(commands: Any) -> None:
    """``glmtui sessions list|show|search|export``: the saved conversations, from the shell."""
    sessions = commands.add_parser(
        "sessions",
        usage="glmtui sessions [list] [--json] [options]\n"
        "       glmtui sessions show ID | search TEXT... | export ID [--format F] [-o FILE]",
        help="list, show, search and export saved sessions",
        description=(
            "Saved sessions (one TOML or JSON file each, in the data dir's sessions/ folder). "
            "ID may be any unique prefix of a session id, or a session file's path. "
            "With no action, lists them."
        ),
    )
    sessions.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _global_options(sessions, suppress=True)
    actions = sessions.add_subparsers(dest="sessions_command", metavar="ACTION")

    listing = actions.add_parser("list", help="every session, most recently updated first")
    listing.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print a JSON array"
    )
    _global_options(listing, suppress=True)

    show = actions.add_parser("show", help="print one conversation as Markdown")
    show.add_argument("ref", metavar="ID")
    _global_options(show, suppress=True)

    search = actions.add_parser(
        "search", help="sessions whose title or messages contain every word of TEXT"
    )
    search.add_argument("text", nargs="+", metavar="TEXT")
    search.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print a JSON array"
    )
    search.add_argument(
        "--limit", type=int, default=200, metavar="N", help="at most N results (default 200)"
    )
    _global_options(search, suppress=True)

    export = actions.add_parser("export", help="write a session as Markdown, JSON or TOML")
    export.add_argument("ref", metavar="ID")
    export.add_argument(
        "--format",
        dest="export_format",
        choices=("md", "json", "toml"),
        default="md",
        help="md (default): Markdown with a front-matter header; json/toml: a session file",
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    _global_options(export, suppress=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    _tolerant_output()
    words = [_text_argument(word) for word in (sys.argv[1:] if argv is None else argv)]
    try:
        try:
            args = build_parser().parse_args(words)
        except UsageError as exc:
            _say(f"glmtui: {exc}")
            return EXIT_USAGE
        try:
            if args.command == "ask":
                return _ask(args)
            if args.command == "models":
                return _models(args)
            if args.command == "sessions":
                return _sessions(args)
            if args.command == "config":
                return _config(args)
            return _tui(args)
        except UsageError as exc:
            _say(f"glmtui: {exc}")
            return EXIT_USAGE
        except KeyboardInterrupt:
            _say(("\n" if sys.stderr.isatty() else "") + "glmtui: interrupted.")
            return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _output_closed()


def _output_closed() -> int:
    """The reader of our output went away (``| head``): stop quietly, as ``cat`` does.

    Python would still try to flush stdout at exit and print a second error, so both output
    streams are pointed at the null device first.
    """
    import os

    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                os.dup2(null, stream.fileno())
        os.close(null)
    return EXIT_OUTPUT_CLOSED


def _tolerant_output() -> None:
    """Text that the output's encoding cannot hold is escaped, never a UnicodeEncodeError
    (a terminal set to Latin-1 or ASCII, ``PYTHONIOENCODING=ascii``, a lone surrogate)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")


def _text_argument(word: str) -> str:
    """A command-line word as text: bytes that are not UTF-8 (Python keeps them as lone
    surrogates, which no JSON or HTTP body can carry) become U+FFFD."""
    if not any("\udc80" <= char <= "\udcff" for char in word):
        return word
    return word.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _say(line: str) -> None:
    """One line for the user on stderr, with any control character escaped (a message may
    quote a server, a file or a config value; none of them may drive the terminal)."""
    sys.stderr.write(printable(line.rstrip("\n")) + "\n")
    sys.stderr.flush()


# --- settings ------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Any:
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
        _say(f"glmtui: warning: {warning}")
    return settings


def _require_key(settings: Any) -> None:
    if settings.key_required:
        from glmtui.api.errors import missing_key_error

        error = missing_key_error(settings.provider.api_key_env or "OXEN_API_KEY")
        raise UsageError(error.describe())


# --- glmtui (the TUI) ----------------------------------------------------------------------


def _tui(args: argparse.Namespace) -> int:
    from glmtui import startup_gc

    startup_gc.pause()  # until the first screen is drawn (see glmtui.startup_gc)
    try:
        return _run_tui(args)
    finally:
        startup_gc.resume()


def _run_tui(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = session = None
    if args.session:  # otherwise the app opens the store when it first needs it
        from glmtui.store import SessionStore, StoreError

        store = SessionStore.from_settings(settings)
        try:
            opened = store.open_session(args.session)
        except StoreError as exc:
            raise UsageError(f"cannot resume session: {exc}") from None
        session = opened.session
        if opened.notice:
            _say(f"glmtui: note: {opened.notice}")
    from glmtui.ui.app import GlmApp

    app = GlmApp(
        settings,
        session=session,
        store=store,
        open_browser=bool(args.sessions),
        model_info=args.model_info,
    )
    app.run()
    return app.return_code or 0


# --- glmtui ask ----------------------------------------------------------------------------


def _stdin_has_input(stdin: TextIO, wait: float) -> bool:
    """Whether piped stdin has data (or EOF) within ``wait`` seconds.

    A prompt given as arguments is combined with piped text, but a harness that leaves stdin
    open and idle must not hang ``glmtui ask "…"`` forever.
    """
    import select

    try:
        ready, _, _ = select.select([stdin], [], [], wait)
    except (OSError, ValueError, io.UnsupportedOperation):
        return True  # not a selectable file (a StringIO): reading cannot block
    return bool(ready)


def _read_text(stdin: TextIO) -> str:
    """All of stdin as text. Bytes that are not UTF-8 (a Latin-1 file, a binary) become
    U+FFFD, and stderr says how many: the rest is still worth asking about."""
    raw = getattr(stdin, "buffer", None)
    if raw is None:  # already text (a StringIO in tests)
        return stdin.read()
    data: bytes = raw.read()
    text = data.decode("utf-8", "replace")
    if "\ufffd" in text and data.count("\ufffd".encode()) != text.count("\ufffd"):
        replaced = text.count("\ufffd") - data.count("\ufffd".encode())
        _say(
            f"glmtui: note: stdin is not UTF-8 text; {replaced:,} undecodable byte sequence"
            f"{'s' if replaced != 1 else ''} sent as \ufffd."
        )
    return text.removeprefix("\ufeff")


def _read_prompt(args: argparse.Namespace, stdin: TextIO) -> str:
    words = list(args.prompt)
    piped = ""
    if "-" in words:  # explicit: wait for all of stdin
        piped = _read_text(stdin)
        words = [w for w in words if w != "-"]
    elif not stdin.isatty() and (not words or _stdin_has_input(stdin, 0.2)):
        piped = _read_text(stdin)
    parts = [" ".join(words), piped]
    prompt = "\n\n".join(p for p in parts if p.strip())
    if not prompt.strip():
        raise UsageError('ask needs a prompt: glmtui ask "your question", or pipe text into it.')
    return prompt


def _ask_parameters(args: argparse.Namespace, settings: Any) -> Any:
    """The config's default parameters with the command line's on top, validated by the
    same rules as the sidebar (the model's request schema when known, else OpenAI's)."""
    from dataclasses import replace

    from glmtui.api.models import builtin_card
    from glmtui.domain.params import ranges_for, validate

    values: dict[str, Any] = {}
    for key in (
        "temperature",
        "top_p",
        "max_tokens",
        "frequency_penalty",
        "presence_penalty",
        "seed",
    ):
        value = getattr(args, key)
        if value is not None:
            values[key] = value
    if args.stop:
        # Each --stop is one sequence as given: a sequence may itself hold a line break.
        if len(args.stop) > 4:
            raise UsageError("--stop: at most 4 stop sequences; nothing was sent.")
        if not all(args.stop):
            raise UsageError("--stop: a stop sequence cannot be empty; nothing was sent.")
        values["stop"] = tuple(args.stop)
    if args.no_stream:
        values["stream"] = False
    parameters = replace(settings.parameters, **values)
    problems = validate(parameters, ranges_for(builtin_card(settings.model)))
    if problems:
        first = problems[0]
        raise UsageError(f"--{first.name.replace('_', '-')}: {first.reason}; nothing was sent.")
    return parameters


def _ask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    parameters = _ask_parameters(args, settings)
    prompt = _read_prompt(args, sys.stdin)

    from glmtui.api.request import build_request
    from glmtui.chat.endpoints import DEMO_URL, session_endpoint
    from glmtui.domain import Message, Session

    # Where the conversation goes, so a resumed session goes back there (the demo is its
    # own provider: nothing of it may be sent to a real server later).
    provider, base_url = session_endpoint(settings)
    session = Session(
        model=settings.model,
        provider=provider,
        base_url=base_url,
        system_prompt=args.system if args.system is not None else settings.system_prompt,
        parameters=parameters,
        messages=[Message("user", prompt)],
    )
    request = build_request(session, thinking_style=settings.thinking_style)
    if args.print_request:
        from glmtui.chat.export import render

        base_url = DEMO_URL if settings.demo else settings.base_url
        sys.stdout.write(render(request, args.print_request, base_url, _key_variable(settings)))
        return EXIT_OK
    _require_key(settings)
    return asyncio.run(_ask_run(settings, request, args, session))


def _key_variable(settings: Any) -> str | None:
    """The environment variable a printed request reads the key from (None: no key needed)."""
    if settings.demo:
        return None
    variable = settings.provider.api_key_env or "OXEN_API_KEY"
    needed = settings.provider.key_required(settings.base_url) or bool(settings.api_key)
    return str(variable) if needed else None


async def _ask_run(
    settings: Any, request: Any, args: argparse.Namespace, session: Any = None
) -> int:
    from glmtui.api.client import Completion
    from glmtui.api.errors import ApiError
    from glmtui.api.events import (
        ContentDelta,
        Finished,
        ReasoningDelta,
        Retrying,
        UsageReport,
    )
    from glmtui.chat.endpoints import make_client

    out, err = sys.stdout, sys.stderr
    # On a terminal, escape sequences in the model's text are shown, not obeyed (a reply
    # must not retitle the window, rewrite the clipboard or clear the screen); into a pipe
    # or a file the text goes exactly as the model wrote it.
    shown_out = printable if out.isatty() else _verbatim
    shown_err = printable if err.isatty() else _verbatim
    from glmtui.domain.stats import TurnStats, estimate_conversation_tokens

    save = bool(getattr(args, "save", False))
    result = Completion(model=request.model)
    stats = TurnStats()  # counts the deltas: the usage, estimated, when the server sends none
    if session is not None:
        stats.start(estimate_conversation_tokens(session.messages, session.system_prompt))
    content: list[str] = []
    reasoning: list[str] = []
    printed_reasoning = False
    error: ApiError | None = None
    async with make_client(settings) as client:
        try:
            if not request.stream:
                async with _waiting_note(err if err.isatty() else None):
                    result = await client.complete(request)
                content.append(result.content)
                reasoning.append(result.reasoning)
                if args.show_reasoning and result.reasoning and not args.json:
                    err.write(shown_err(result.reasoning) + "\n\n")
                if not args.json:
                    out.write(shown_out(result.content))
            else:
                async for event in client.stream_chat(request):
                    if isinstance(event, ContentDelta):
                        stats.add(event.text)
                        content.append(event.text)
                        if not args.json:
                            if printed_reasoning:
                                err.write("\n\n")
                                err.flush()
                                printed_reasoning = False
                            out.write(shown_out(event.text))
                            out.flush()
                    elif isinstance(event, ReasoningDelta):
                        stats.add(event.text, reasoning=True)
                        reasoning.append(event.text)
                        if args.show_reasoning and not args.json:
                            err.write(shown_err(event.text))
                            err.flush()
                            printed_reasoning = True
                    elif isinstance(event, UsageReport):
                        result.usage = event.usage
                    elif isinstance(event, Finished):
                        result.finish_reason = event.finish_reason
                        result.model = event.model or request.model
                    elif isinstance(event, Retrying) and err.isatty():
                        _say(
                            f"glmtui: {event.reason} Retrying in {event.delay:.0f} s "
                            f"(attempt {event.attempt})…"
                        )
        except ApiError as exc:
            error = exc
        except (asyncio.CancelledError, BrokenPipeError):
            # Ctrl-C, or the reader of stdout went away (| head): keep what arrived, then
            # exit as usual (main() makes a closed pipe a quiet exit).
            if save and session is not None:
                with contextlib.suppress(Exception):
                    _save_exchange(settings, session, content, reasoning, result, None, True)
            raise
    text = "".join(content)
    if result.usage is None and stats.chunks:
        result.usage = stats.final_usage()  # marked "estimated": true
    saved: Path | None = None
    save_error = ""
    if save and session is not None:
        from glmtui.store import StoreError

        try:
            saved = _save_exchange(settings, session, content, reasoning, result, error, False)
        except StoreError as exc:
            save_error = str(exc)
    if args.json:
        payload: dict[str, Any] = {
            "content": text,
            "reasoning": "".join(reasoning),
            "finish_reason": result.finish_reason,
            "model": result.model or request.model,
            "usage": result.usage.to_dict() if result.usage else None,
            "error": None,
        }
        if error is not None:
            payload["error"] = {"kind": error.kind, "message": error.describe()}
            payload["status"] = "error"
        if saved is not None:
            payload["session"] = {"id": session.id, "path": str(saved)}
        out.write(json.dumps(payload, ensure_ascii=False) + "\n")
    elif out.isatty() and text and not text.endswith("\n"):
        out.write("\n")
    out.flush()
    if saved is not None and not args.json:
        _say(f"glmtui: saved as session {session.id[:8]} ({saved})")
    if save_error:
        _say(f"glmtui: error: {save_error}")
    if error is not None:
        # A partial answer stays on stdout exactly as it arrived; the reason goes to stderr.
        if printed_reasoning or (text and out.isatty()):
            err.write("\n")
        _say(f"glmtui: error: {error.describe()}")
        return EXIT_API_ERROR
    if save_error:
        return EXIT_API_ERROR
    if result.finish_reason not in (None, "stop", "tool_calls") and not args.json:
        _say(f"glmtui: note: the reply ended with finish_reason '{result.finish_reason}'.")
    return EXIT_OK


@contextlib.asynccontextmanager
async def _waiting_note(terminal: TextIO | None) -> AsyncIterator[None]:
    """While a non-streamed reply is awaited, say so on the terminal with the seconds waited
    (nothing arrives until the whole reply is written, which may take minutes); the line is
    cleared when the reply comes. Nothing is written when stderr is not a terminal."""
    if terminal is None:
        yield
        return
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def tick() -> None:
        while True:
            waited = loop.time() - started
            terminal.write(f"\rglmtui: waiting for the complete reply… {waited:.0f} s")
            terminal.flush()
            await asyncio.sleep(1)

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        terminal.write("\r\x1b[2K")  # the whole line, cleared
        terminal.flush()


def _save_exchange(
    settings: Any,
    session: Any,
    content: list[str],
    reasoning: list[str],
    result: Any,
    error: Any,
    interrupted: bool,
) -> Path:
    """Store the prompt and the reply (whole or partial) as a session; returns its file.

    Raises:
        StoreError: the session could not be written (the message says why).
    """
    from glmtui.domain import Message, MessageStatus, auto_title
    from glmtui.store import SessionStore

    text = "".join(content)
    status: MessageStatus = "complete"
    if interrupted:
        status = "interrupted"  # stopped by the user (Ctrl-C), as the TUI's Esc
    elif error is not None:
        status = "error"  # the partial text, if any, is kept with the error
    session.messages.append(
        Message(
            "assistant",
            text,
            reasoning="".join(reasoning),
            status=status,
            finish_reason=result.finish_reason,
            model=result.model or session.model,
            usage=result.usage,
            error=error.describe() if error is not None else None,
        )
    )
    session.title = session.title or auto_title(session.messages[0].content)
    session.touch()
    with SessionStore.from_settings(settings) as store:
        return store.save(session)


# --- glmtui models -------------------------------------------------------------------------


def _models(args: argparse.Namespace) -> int:
    # No key check here: without a key the catalogue answers from its cache or the built-in
    # card (and says so), which is what someone offline or not yet signed up wants to see.
    settings = _settings(args)
    return asyncio.run(_models_run(settings, args))


async def _models_run(settings: Any, args: argparse.Namespace) -> int:
    from glmtui.chat.catalog import ModelCatalog, filter_cards
    from glmtui.chat.formatting import context_cell, per_million, visible

    catalog = ModelCatalog.from_settings(settings)
    if args.models_command == "show":
        result = await catalog.card(args.model_id, refresh=True)
        if result.card is None:
            reason = result.error.describe() if result.error else "no card."
            print(f"glmtui: error: {visible(reason)}", file=sys.stderr)
            return EXIT_API_ERROR
        _models_note(catalog, result)
        if args.json:
            print(json.dumps(result.card.raw, indent=2, ensure_ascii=False))
        else:
            print(visible(_model_card_text(result.card)), end="")
        return EXIT_OK
    listing = await catalog.catalogue(refresh=True)
    _models_note(catalog, listing)
    cards = filter_cards(listing.cards, args.search or "")
    if args.json:
        print(json.dumps([c.raw for c in cards], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not cards:
        print("No models found.", file=sys.stderr)
        return EXIT_OK
    header = ("ID", "NAME", "CONTEXT", "PRICE IN", "PRICE OUT")
    table = [
        (
            c.id,
            c.display_name or "",
            context_cell(c),
            per_million(c.pricing.input_per_token),
            per_million(c.pricing.output_per_token),
        )
        for c in cards
    ]
    widths = [max(len(r[i]) for r in (header, *table)) for i in range(len(header))]
    for row in (header, *table):
        print(visible("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()))
    return EXIT_OK


def _models_note(catalog: Any, result: Any) -> None:
    """Say on stderr when the data is not live: how old the copy is and why (offline, no key,
    key rejected …), with what to do about it."""
    from glmtui.chat.formatting import visible

    if result.source == "live":
        return
    note = catalog.describe(result)
    if result.error is not None and result.error.hint:
        note += f" {result.error.hint}"
    print(f"glmtui: note: {visible(note)}", file=sys.stderr)


def _model_card_text(card: Any) -> str:
    """``glmtui models show``: the facts, the summary, the request parameters, the description."""
    from glmtui.api.models import schema_rows
    from glmtui.chat.formatting import model_fact_rows

    rows = [("Name", card.name), ("Id", card.id), *model_fact_rows(card)]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    if card.summary:
        lines += ["", card.summary]
    parameters = schema_rows(card.request_schema)
    lines.append("")
    if parameters:
        lines.append("Request parameters:")
        header = ("NAME", "TYPE", "RANGE", "DEFAULT", "DESCRIPTION")
        table = [
            (p.name + ("*" if p.required else ""), p.type, p.range, p.default, p.description)
            for p in parameters
        ]
        widths = [max(len(r[i]) for r in (header, *table)) for i in range(4)]
        for row in (header, *table):
            cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:4])]
            lines.append("  " + "  ".join([*cells, row[4]]).rstrip())
        if any(p.required for p in parameters):
            lines.append("  (* required)")
    else:
        lines.append("Request parameters: none published (the chat-completions parameters apply).")
    if card.description.strip():
        lines += ["", "Description:", "", card.description.strip()]
    return "\n".join(lines) + "\n"


# --- glmtui sessions -----------------------------------------------------------------------


def _verbatim(text: str) -> str:
    return text


def _sessions(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from glmtui.store import AmbiguousSession, SessionNotFound, SessionStore, StoreError

    action = args.sessions_command or "list"
    with SessionStore.from_settings(settings) as store:
        try:
            if action in ("list", "search") and sys.stderr.isatty():
                _refresh_with_progress(store)
            if action == "list":
                return _sessions_list(store, args)
            if action == "search":
                return _sessions_search(store, args)
            if action == "show":
                print(printable(store.export(store.load(args.ref), "md")), end="")
                return EXIT_OK
            return _sessions_export(store, args)
        except (SessionNotFound, AmbiguousSession) as exc:
            _say(f"glmtui: {exc}")  # a reference that names no session, or several
            return EXIT_USAGE
        except StoreError as exc:
            _say(f"glmtui: error: {exc}")
            return EXIT_API_ERROR


def _refresh_with_progress(store: Any) -> None:
    """Index the folder, showing a counter when that means parsing many files (a first run)."""

    def progress(done: int, total: int) -> None:
        if total >= 200:
            end = "\n" if done == total else ""
            print(f"\rglmtui: indexing sessions {done:,}/{total:,}", end=end, file=sys.stderr)

    store.refresh(progress)


def _summary_json(summary: Any) -> dict[str, Any]:
    return {
        "id": summary.id or None,
        "title": summary.title,
        "created_at": summary.created_at.isoformat(),
        "updated_at": summary.updated_at.isoformat(),
        "model": summary.model,
        "provider": summary.provider,
        "message_count": summary.message_count,
        "tokens": summary.tokens,
        "tokens_estimated": summary.tokens_estimated,
        "path": str(summary.path),
        "format": summary.format,
        "read_only": summary.read_only,
        "error": summary.error,
    }


def _local_time(when: Any) -> str:
    return str(when.astimezone().strftime("%Y-%m-%d %H:%M")) if when.tzinfo else str(when)[:16]


def _sessions_list(store: Any, args: argparse.Namespace) -> int:
    items = store.list_sessions()
    if args.json:
        print(json.dumps([_summary_json(s) for s in items], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not items:
        _say(f"No sessions yet (they are saved in {store.folder}).")
        return EXIT_OK
    header = ("ID", "UPDATED", "MSGS", "TOKENS", "MODEL", "TITLE")
    rows = []
    for s in items:
        if s.error is not None:
            reason = f"{s.title}: unreadable ({s.error})"
            rows.append(("-", _local_time(s.updated_at), "-", "-", "-", reason))
            continue
        tokens = ("~" if s.tokens_estimated else "") + f"{s.tokens:,}"
        title = (s.title or "Untitled") + (" (read-only)" if s.read_only else "")
        rows.append(
            (
                s.id[:8],
                _local_time(s.updated_at),
                str(s.message_count),
                tokens,
                s.model,
                title,
            )
        )
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header) - 1)]
    right = {2, 3}
    for row in (header, *rows):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row[:-1])
        ]
        print(printable("  ".join([*cells, row[-1]])))
    return EXIT_OK


def _sessions_search(store: Any, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be 1 or more.")
    text = " ".join(args.text)
    hits = store.search(text, limit=args.limit)
    if args.json:
        payload = [
            {
                **_summary_json(h.summary),
                "snippet": h.snippet,
                "match": h.field,
                "message_index": h.message_index,
            }
            for h in hits
        ]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not hits:
        print(f"No sessions match '{printable(text)}'.", file=sys.stderr)
        return EXIT_OK
    for hit in hits:
        s = hit.summary
        print(printable(f"{s.id[:8]}  {_local_time(s.updated_at)}  {s.title or 'Untitled'}"))
        if hit.field == "message":
            print(printable(f"    {hit.snippet}"))
    return EXIT_OK


def _sessions_export(store: Any, args: argparse.Namespace) -> int:
    from glmtui.fileio import atomic_write_text
    from glmtui.store import StoreError, describe_os_error

    text = store.export(store.load(args.ref), args.export_format)
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    target = Path(args.output).expanduser()
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        raise StoreError(describe_os_error(exc, "write", target)) from None
    _say(f"glmtui: wrote {target}")
    return EXIT_OK


# --- glmtui config -------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> int:
    from glmtui.config import config_reference

    if args.action == "reference":
        print(config_reference())
        return EXIT_OK
    settings = _settings(args)
    if args.action == "path":
        print(printable(str(settings.config_path)))
        return EXIT_OK
    key_state = f"set (from {settings.api_key_source})" if settings.api_key else "not set"
    rows = [
        (
            "config file",
            f"{settings.config_path}"
            + ("" if settings.config_path.exists() else " (not created yet)"),
        ),
        ("data dir", str(settings.data_dir)),
        ("provider", settings.provider.name),
        ("base_url", settings.base_url),
        ("model", settings.model),
        ("api key", key_state),
        ("thinking switch", settings.thinking_style),
        ("session_format", settings.session_format),
        ("theme", settings.theme),
        ("parameters", json.dumps(settings.parameters.to_dict()) or "{}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(printable(f"{key:<{width}}  {value}"))
    return EXIT_OK
