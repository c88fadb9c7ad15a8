"""``glmtui ask``: one question, its answer streamed to stdout; or the next turn of a saved
session (``--session ID``).

The turn runs through the same :class:`~glmtui.chat.controller.ConversationController` as the
app, with a subscriber that prints: the answer to stdout exactly as it arrives (control
characters escaped only when stdout is a terminal), reasoning to stderr on request, and one
line on stderr for anything else worth saying. ``--save`` and ``--session`` save as the app
does: the prompt before the request goes out, the reply as it streams and when it ends.

``-f FILE`` attaches files with the app's readers (:mod:`glmtui.chat.attachments`): a file
that cannot be attached, a limit, or a model that does not take an image or a PDF stops the
command with status 2 and one line, before anything is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from glmtui.cli.common import (
    EXIT_API_ERROR,
    EXIT_OK,
    UsageError,
    load_settings_for,
    require_key,
    say,
    verbatim,
)
from glmtui.domain.text import printable

if TYPE_CHECKING:
    from glmtui.api.errors import ApiError
    from glmtui.chat.attachments import Loaded
    from glmtui.chat.controller import Approver, ConversationController
    from glmtui.chat.events import ChatEvent, ToolCallUpdated
    from glmtui.config import Settings
    from glmtui.domain import Message, Parameters, Session
    from glmtui.domain.attachments import Attachment
    from glmtui.store import SessionStore
    from glmtui.tools.host import McpHost


def run(args: argparse.Namespace) -> int:
    """Ask; the exit status."""
    settings = load_settings_for(args)
    ref: str | None = getattr(args, "session", None)
    store: SessionStore | None = None
    if ref is not None:
        session, store = _continued(settings, ref)
    else:
        session = _new_session(settings, args)
    parameters = _checked(
        session.parameters.merged(_parameter_overrides(args)), session.model, settings, session
    )
    system = args.system if args.system is not None else session.system_prompt
    files = _attachments(args, settings, sys.stdin)
    prompt = _read_prompt(args, sys.stdin, attached=bool(files), stdin_taken="-" in args.files)
    model = getattr(args, "model", None) or session.model  # --model: this turn and on
    _check_kinds(settings, session, model, files, ask_provider=not args.print_request)
    if args.print_request:
        chosen = replace(session, parameters=parameters)
        return _print_request(settings, chosen, prompt, args, files)
    if ref is None:
        require_key(settings)
        if args.save:
            from glmtui.store import SessionStore

            store = SessionStore.from_settings(settings)
    client_settings = _client_settings(settings, session)
    return asyncio.run(
        _ask(
            client_settings,
            session,
            store,
            prompt,
            args,
            parameters=parameters,
            system=system,
            files=files,
        )
    )


# --- which session, and where it goes ----------------------------------------------------------


def _new_session(settings: Settings, args: argparse.Namespace) -> Session:
    from glmtui.chat.endpoints import session_endpoint
    from glmtui.domain import Session

    # Where the conversation goes, so a resumed session goes back there (the demo is its
    # own provider: nothing of it may be sent to a real server later).
    provider, base_url = session_endpoint(settings)
    return Session(
        model=settings.model,
        provider=provider,
        base_url=base_url,
        system_prompt=settings.system_prompt,
        parameters=settings.parameters,
    )


def _continued(settings: Settings, ref: str) -> tuple[Session, SessionStore]:
    """The saved session ``ref`` names, ready to continue where it talked to.

    Raises:
        UsageError: no such session, several, a read-only one, or one whose server no
            profile is configured for now (nothing is sent; the message says what to do).
    """
    from glmtui.chat.endpoints import route_session
    from glmtui.store import SessionStore, StoreError

    store = SessionStore.from_settings(settings)
    try:
        opened = store.open_session(ref)
    except StoreError as exc:
        raise UsageError(f"cannot continue session: {exc}") from None
    session = opened.session
    if opened.notice:
        say(f"glmtui: note: {opened.notice}")
    if session.read_only:
        raise UsageError(
            f"session {session.id[:8]} was saved by a newer glmtui: it is read-only here. "
            "Nothing was sent."
        )
    route = route_session(settings, session.provider, session.base_url)
    if not route.configured:
        raise UsageError(
            f"session {session.id[:8]} was held with {route.recorded}, and no provider "
            "profile is configured for that server now; nothing was sent. To continue it "
            f"there, pass --base-url {route.recorded} (or add a [providers.NAME] profile "
            "for it)."
        )
    return session, store


def _client_settings(settings: Settings, session: Session) -> Settings:
    """The settings the session's client is made from (its route's profile and key)."""
    from glmtui.chat.endpoints import client_settings, route_session

    route = route_session(settings, session.provider, session.base_url)
    _, chosen = client_settings(settings, route.provider, route.base_url)
    return chosen


def _thinking_style(settings: Settings, session: Session) -> str:
    from glmtui.chat.endpoints import session_profile

    profile = session_profile(settings, session)
    return profile.thinking if profile is not None else settings.thinking_style


# --- the question --------------------------------------------------------------------------


def _parameter_overrides(args: argparse.Namespace) -> Parameters:
    """The sampling options given on the command line, unset where not given (each ``--stop``
    is one sequence, as given: a sequence may itself hold a line break).

    Raises:
        UsageError: more than 4 stop sequences, or an empty one.
    """
    from glmtui.domain import Parameters

    if args.stop:
        if len(args.stop) > 4:
            raise UsageError("--stop: at most 4 stop sequences; nothing was sent.")
        if not all(args.stop):
            raise UsageError("--stop: a stop sequence cannot be empty; nothing was sent.")
    return Parameters(
        temperature=args.temperature,
        top_p=args.top_p,
        max_tokens=args.max_tokens,
        frequency_penalty=args.frequency_penalty,
        presence_penalty=args.presence_penalty,
        seed=args.seed,
        stop=tuple(args.stop) if args.stop else None,
        stream=False if args.no_stream else None,
        json_mode=True if getattr(args, "json_mode", False) else None,
    )


def _checked(
    parameters: Parameters,
    model: str,
    settings: Settings | None = None,
    session: Session | None = None,
) -> Parameters:
    """``parameters`` when the sidebar's rules allow them: the model's request schema when
    known, else OpenAI's ranges, narrowed by the limits of the provider the session sends to
    (z.ai: temperature 0–1, one stop sequence, no penalties), and JSON mode only where the
    provider and model take it.

    Raises:
        UsageError: the first value out of range or not taken (nothing is sent).
    """
    from glmtui.api.models import builtin_card, model_traits
    from glmtui.domain.params import NO_LIMITS, ranges_for, validate

    profile = None
    if settings is not None and session is not None:
        from glmtui.chat.endpoints import session_profile

        profile = session_profile(settings, session)
    limits = profile.limits if profile is not None else NO_LIMITS
    card = builtin_card(model)
    problems = validate(parameters, ranges_for(card, limits), limits)
    if problems:
        first = problems[0]
        raise UsageError(f"--{first.name.replace('_', '-')}: {first.reason}; nothing was sent.")
    if parameters.json_mode:
        traits = model_traits(card, model)
        if profile is not None and not profile.takes_json_mode:
            why = f"{profile.name} does not take JSON mode (json_mode = false in its profile)"
            raise UsageError(f"--json-mode: {why}; nothing was sent.")
        if traits.json_mode is False:
            raise UsageError(f"--json-mode: {traits.json_reason}; nothing was sent.")
    return parameters


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
    replaced = text.count("\ufffd") - data.count("\ufffd".encode())
    if replaced:
        say(
            f"glmtui: note: stdin is not UTF-8 text; {replaced:,} undecodable byte sequence"
            f"{'s' if replaced != 1 else ''} sent as \ufffd."
        )
    return text.removeprefix("\ufeff")


def _read_prompt(
    args: argparse.Namespace, stdin: TextIO, *, attached: bool = False, stdin_taken: bool = False
) -> str:
    """The prompt from the words and stdin (see the module's rules).

    With files attached the prompt may be empty (the model gets the files alone), and stdin is
    waited for only as with words given (0.2 s), since the files already make a question.
    ``stdin_taken``: ``-f -`` read stdin as an attachment, so it is not the prompt.

    Raises:
        UsageError: no prompt and nothing attached, or stdin asked for twice.
    """
    words = list(args.prompt)
    piped = ""
    if "-" in words:  # explicit: wait for all of stdin
        if stdin_taken:
            raise UsageError(
                "stdin can be the prompt ('-') or an attachment ('-f -'), not both; "
                "nothing was sent."
            )
        piped = _read_text(stdin)
        words = [w for w in words if w != "-"]
    elif (
        not stdin_taken
        and not stdin.isatty()
        and (not (words or attached) or _stdin_has_input(stdin, 0.2))
    ):
        piped = _read_text(stdin)
    parts = [" ".join(words), piped]
    prompt = "\n\n".join(p for p in parts if p.strip())
    if not prompt.strip() and not attached:
        raise UsageError(
            'ask needs a prompt: glmtui ask "your question", pipe text into it, or attach a '
            "file with -f."
        )
    return prompt


# --- attachments ---------------------------------------------------------------------------


def _stdin_bytes(stdin: TextIO) -> bytes:
    raw = getattr(stdin, "buffer", None)
    if raw is None:  # already text (a StringIO in tests)
        return stdin.read().encode("utf-8")
    data: bytes = raw.read()
    return data


def _attachments(args: argparse.Namespace, settings: Settings, stdin: TextIO) -> list[Loaded]:
    """The ``-f`` files, read and checked against the ``[attachments]`` limits; for a
    folder, one line on stderr names what it left out.

    Raises:
        UsageError: a file cannot be attached, or a limit is exceeded (nothing is sent).
    """
    if not args.files:
        return []
    from glmtui.chat.attachments import AttachmentError, check_message, load_path, load_stdin

    if args.files.count("-") > 1:
        raise UsageError("-f -: stdin can be attached once; nothing was sent.")
    limits = settings.attachments
    files: list[Loaded] = []
    try:
        for given in args.files:
            if given == "-":
                files.append(load_stdin(_stdin_bytes(stdin), limits))
                continue
            loaded = load_path(given, cwd=Path.cwd(), limits=limits)
            if loaded.note:
                say(f"glmtui: note: {loaded.note}")
            files.extend(loaded)
        check_message(files, limits)
    except AttachmentError as exc:
        raise UsageError(f"{exc} Nothing was sent.") from None
    return files


def _check_kinds(
    settings: Settings,
    session: Session,
    model: str,
    files: Sequence[Loaded],
    *,
    ask_provider: bool,
) -> None:
    """Refuse images or PDFs (attached now, or earlier in the session) that the model does
    not take, naming one that does when the catalogue knows one.

    The model's card is glmtui's own (GLM-5), else the provider's (its cached copy when fresh;
    with ``ask_provider`` False only a cached copy: ``--print-request`` sends nothing). A model
    whose card says nothing of its inputs is not refused: the server decides.

    Raises:
        UsageError: the one-line refusal (nothing is sent).
    """
    attachments = [f.attachment for f in files] + [
        a for m in session.messages if not m.compacted for a in m.attachments
    ]
    if not any(a.binary for a in attachments):
        return
    from glmtui.api.models import builtin_card
    from glmtui.chat.attachments import check_capabilities
    from glmtui.chat.catalog import ModelCatalog

    hint = "--model ID picks another; 'glmtui models' lists them"
    catalog = ModelCatalog.from_settings(_client_settings(settings, session))
    card = builtin_card(model)
    if card is None:
        found = asyncio.run(catalog.card(model)) if ask_provider else catalog.cached_card(model)
        card = found.card if found is not None else None
    refusal = check_capabilities(attachments, card, hint=hint)
    if refusal is None:
        return
    if ask_provider:  # worth one request: the refusal can name a model that takes them
        known = asyncio.run(catalog.catalogue()).cards
        refusal = check_capabilities(attachments, card, known, hint=hint) or refusal
    raise UsageError(f"{refusal} Nothing was sent.")


def _print_request(
    settings: Settings,
    session: Session,
    prompt: str,
    args: argparse.Namespace,
    files: Sequence[Loaded] = (),
) -> int:
    """``--print-request``: the request as curl, python or json; nothing is sent.

    Text attachments are inlined as they would be sent; an image's or a PDF's data is a
    placeholder naming the file and its size (nothing is stored, and no one wants megabytes
    of base64 on a terminal)."""
    from glmtui.api.request import build_request
    from glmtui.chat.endpoints import DEMO_URL
    from glmtui.chat.export import render
    from glmtui.domain import Message

    system = args.system if args.system is not None else session.system_prompt
    attached = tuple(f.attachment for f in files)
    upcoming = replace(
        session,
        system_prompt=system,
        messages=[*session.messages, Message("user", prompt, attachments=attached)],
    )
    from glmtui.chat.endpoints import provider_options

    request = build_request(
        upcoming,
        thinking_style=_thinking_style(settings, session),
        options=provider_options(settings, session),
        blobs=None,
    )
    chosen = _client_settings(settings, session)
    base_url = DEMO_URL if chosen.demo else chosen.base_url
    sys.stdout.write(render(request, args.print_request, base_url, _key_variable(chosen)))
    return EXIT_OK


def _key_variable(settings: Settings) -> str | None:
    """The environment variable a printed request reads the key from (None: no key needed)."""
    if settings.demo:
        return None
    variable = settings.provider.api_key_env or "OXEN_API_KEY"
    needed = settings.provider.key_required(settings.base_url) or bool(settings.api_key)
    return variable if needed else None


# --- the turn, printed -----------------------------------------------------------------------


@dataclass
class Printer:
    """A controller subscriber that prints the turn as ``glmtui ask`` shows it."""

    out: TextIO
    err: TextIO
    show_reasoning: bool
    json: bool
    error: ApiError | None = None
    save_errors: list[str] = field(default_factory=list)
    reasoning_open: bool = False
    """Reasoning was written to stderr last (a blank line separates it from the answer)."""
    waiting: asyncio.Task[None] | None = None
    text_tail: str = ""
    """The last answer text written to stdout."""
    paragraph_due: bool = False
    """A step of a tool loop began after text was written: its text starts a new paragraph."""
    tool_results: list[Message] = field(default_factory=list)
    """The tool messages of this turn, for ``--json``."""

    def __post_init__(self) -> None:
        # On a terminal, escape sequences in the model's text are shown, not obeyed (a reply
        # must not retitle the window, rewrite the clipboard or clear the screen); into a
        # pipe or a file the text goes exactly as the model wrote it.
        self.shown_out = printable if self.out.isatty() else verbatim
        self.shown_err = printable if self.err.isatty() else verbatim

    def __call__(self, event: ChatEvent) -> None:
        from glmtui.chat import events

        if isinstance(event, events.ContentAdded):
            self._stop_waiting()
            if not self.json:
                if self.reasoning_open:
                    self.err.write("\n\n")
                    self.err.flush()
                    self.reasoning_open = False
                if self.paragraph_due:
                    self.out.write("\n" if self.text_tail.endswith("\n") else "\n\n")
                    self.paragraph_due = False
                self.out.write(self.shown_out(event.text))
                self.out.flush()
                self.text_tail = event.text
        elif isinstance(event, events.ReasoningAdded):
            self._stop_waiting()
            if self.show_reasoning and not self.json:
                self.err.write(self.shown_err(event.text))
                self.err.flush()
                self.reasoning_open = True
        elif isinstance(event, events.TurnStarted):
            self.paragraph_due = bool(self.text_tail)
            if event.request.stream is False and self.err.isatty():
                self.waiting = asyncio.get_running_loop().create_task(self._waiting_note())
        elif isinstance(event, events.RetryingTurn):
            if self.err.isatty():
                say(
                    f"glmtui: {event.reason} Retrying in {event.delay:.0f} s "
                    f"(attempt {event.attempt})…"
                )
        elif isinstance(event, events.TurnFailed):
            self._stop_waiting()
            self.error = event.error
        elif isinstance(event, events.TurnFinished | events.TurnStopped):
            self._stop_waiting()
        elif isinstance(event, events.ToolCallUpdated):
            self._tool(event)
        elif isinstance(event, events.ToolLimitReached):
            say(
                f"glmtui: the model was still calling tools after {event.limit} steps; "
                "stopped there (raise [mcp] max_steps in the config to allow more)."
            )
        elif isinstance(event, events.SaveFailed):
            self.save_errors.append(event.message)

    def _tool(self, event: ToolCallUpdated) -> None:
        """One line on stderr for each call that ended: what ran, and what did not."""
        result = event.result
        if result is None:
            return
        self.tool_results.append(result)
        name = self.shown_err(event.label)
        if result.tool_outcome == "ok":
            say(f"glmtui: tool {name} ran ({result.duration_ms or 0:,} ms)")
        elif result.tool_outcome == "denied":
            say(
                f"glmtui: tool {name} was denied: not allowed by the config; pass "
                f"--allow-tool {self.shown_err(event.label)} (or --allow-tools) to let it run"
            )
        else:
            first = result.content.strip().splitlines()[0] if result.content.strip() else ""
            say(f"glmtui: tool {name} {result.tool_outcome}: {self.shown_err(first[:200])}")

    async def _waiting_note(self) -> None:
        """A non-streamed reply arrives whole, after minutes maybe: say what is awaited, with
        the seconds waited, until the reply comes (then the line is cleared)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            while True:
                waited = loop.time() - started
                self.err.write(f"\rglmtui: waiting for the complete reply… {waited:.0f} s")
                self.err.flush()
                await asyncio.sleep(1)
        finally:
            self.err.write("\r\x1b[2K")  # the whole line, cleared
            self.err.flush()

    def _stop_waiting(self) -> None:
        if self.waiting is not None:
            self.waiting.cancel()
            self.waiting = None


async def _ask(
    settings: Settings,
    session: Session,
    store: SessionStore | None,
    prompt: str,
    args: argparse.Namespace,
    *,
    parameters: Parameters,
    system: str,
    files: Sequence[Loaded] = (),
) -> int:
    from glmtui.chat.controller import ConversationController, TurnRefused
    from glmtui.chat.endpoints import make_client, provider_options
    from glmtui.store import StoreError

    out, err = sys.stdout, sys.stderr
    printer = Printer(out, err, show_reasoning=args.show_reasoning, json=args.json)
    thinking = _thinking_style(settings, session)
    options = provider_options(settings, session)
    host = None if args.no_tools else await _start_tools(settings)
    async with make_client(settings) as client:
        chat = ConversationController(
            session,
            client=lambda _: client,
            thinking_style=lambda _: thinking,
            options=lambda _: options,
            store=(lambda: store) if store is not None else None,
            on_event=printer,
            tools=lambda _: host,
            approve=_approver(args),
            tool_settings=settings.mcp.loop if host is not None else None,
        )
        chat.configure(
            parameters=parameters,
            system_prompt=system,
            model=getattr(args, "model", None),  # --model: this turn and on (a new one has it)
        )
        try:
            reply = await chat.send(prompt, files)
        except TurnRefused as exc:  # an earlier attachment's content is gone
            raise UsageError(f"{exc} Nothing was sent.") from None
        except StoreError as exc:  # an attachment could not be stored before sending
            say(f"glmtui: error: {exc} Nothing was sent.")
            return EXIT_API_ERROR
        finally:
            printer._stop_waiting()
            if store is not None:
                store.close()
            if host is not None:
                await host.close()
    return _report(chat, reply, printer, store is not None, args, out, err, files)


async def _start_tools(settings: Settings) -> McpHost | None:
    """The configured MCP servers, started (None when none is enabled); each that fails to
    start is said on stderr with the end of its own error output, and the question goes on
    without it."""
    config = settings.mcp
    if not any(server.enabled for server in config.servers):
        return None
    from glmtui.tools.host import McpHost

    host = McpHost(config, config_path=settings.config_path)
    await host.start()
    for status in host.servers():
        if status.state == "failed":
            say(f"glmtui: MCP server {status.name!r} did not start: {status.error}")
    return host


def _approver(args: argparse.Namespace) -> Approver:
    """Calls the config does not allow run only when the command line says so."""
    from glmtui.tools import Approval, ApprovalRequest

    named = set(args.allow_tool)

    async def approve(request: ApprovalRequest) -> Approval:
        spec = request.spec
        if args.allow_tools or named & {spec.name, spec.label, spec.wire_name}:
            return "once"
        return "deny"

    return approve


def _report(
    chat: ConversationController,
    reply: object,
    printer: Printer,
    saving: bool,
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    files: Sequence[Loaded] = (),
) -> int:
    """After the turn: the JSON object, where it was saved, and what went wrong."""
    from glmtui.domain import Message

    assert isinstance(reply, Message)
    session = chat.session
    error = printer.error
    saved = chat.path if saving and not chat.unsaved else None
    if args.json:
        payload: dict[str, object] = {
            "content": reply.content,
            "reasoning": reply.reasoning,
            "finish_reason": reply.finish_reason,
            "model": reply.model or session.model,
            "usage": reply.usage.to_dict() if reply.usage else None,
            "error": None,
        }
        if printer.tool_results:
            payload["tools"] = [
                {
                    "tool": result.tool_name,
                    "outcome": result.tool_outcome,
                    "duration_ms": result.duration_ms,
                    "result": result.content,
                }
                for result in printer.tool_results
            ]
        if files:
            payload["attachments"] = [_attachment_json(f.attachment) for f in files]
        if error is not None:
            payload["error"] = {"kind": error.kind, "message": error.describe()}
            payload["status"] = "error"
        if saved is not None:
            payload["session"] = {"id": session.id, "path": str(saved)}
        out.write(json.dumps(payload, ensure_ascii=False) + "\n")
    elif out.isatty() and reply.content and not reply.content.endswith("\n"):
        out.write("\n")
    out.flush()
    if saved is not None and not args.json:
        what = "into" if getattr(args, "session", None) is not None else "as"
        say(f"glmtui: saved {what} session {session.id[:8]} ({saved})")
    for message in printer.save_errors:
        say(f"glmtui: error: {message}")
    if error is not None:
        # A partial answer stays on stdout exactly as it arrived; the reason goes to stderr.
        if printer.reasoning_open or (reply.content and out.isatty()):
            err.write("\n")
        say(f"glmtui: error: {error.describe()}")
        return EXIT_API_ERROR
    if printer.save_errors:
        return EXIT_API_ERROR
    if reply.finish_reason not in (None, "stop", "tool_calls") and not args.json:
        say(f"glmtui: note: the reply ended with finish_reason '{reply.finish_reason}'.")
    return EXIT_OK


def _attachment_json(attachment: Attachment) -> dict[str, object]:
    """An attachment as ``--json`` lists it (the text of a text file is left out: it is the
    caller's own file)."""
    out: dict[str, object] = {
        "name": attachment.name,
        "kind": attachment.kind,
        "mime": attachment.mime,
        "size": attachment.size,
    }
    if attachment.sha256:
        out["sha256"] = attachment.sha256
    return out
