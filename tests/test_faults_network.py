"""Network and provider faults, each run against both the TUI (Pilot) and ``glmtui ask``.

One table (:data:`FAULTS`) describes every fault: how the loopback server (or a dead port, an
unresolvable host, a server that does not speak TLS) misbehaves, the words the one-line reason
must contain, and what part of the reply arrives before things go wrong. Two tests run each row:

- :func:`test_tui_fault` sends a prompt in the app and checks that nothing crashed, the prompt
  and any partial reply stay in the conversation and in the session file on disk, marked with
  their status, the reason is on screen, and the app then answers another prompt.
- :func:`test_ask_fault` runs ``glmtui ask`` in-process and checks the exit status, that stderr
  holds exactly one line with the reason (no traceback) and that stdout holds the partial answer.

Both front ends build their client from the settings, exactly as the product does, with a short
read timeout (``timeout = 1``, the smallest the config allows) and one retry with a tiny backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import math
import signal
import socket
import socketserver
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from textual.pilot import Pilot

from glmtui.cli import main
from glmtui.config import Overrides, load_settings
from glmtui.domain import Session
from glmtui.store import SessionStore
from glmtui.ui.app import GlmApp
from tests.conftest import _PROVIDER_ENV as PROVIDER_ENV
from tests.conftest import FAKE_KEY
from tests.server import (
    CLOSE,
    DONE,
    HANG,
    RESET,
    JsonReply,
    LoopbackServer,
    RawReply,
    Reply,
    StallReply,
    StreamPart,
    StreamReply,
    chunk,
    comment,
    oxen_error,
    sse,
    stream_of,
)
from tests.ui_helpers import chat, send, send_anyway, settle, until, visible_text

SIZE = (120, 40)
PROMPT = "Tell me about faults"
READ_TIMEOUT = 1.0
"""Seconds of silence before a request fails: the smallest ``timeout`` the config accepts."""
RETRIES = 1
"""``max_retries`` for both front ends: a retryable fault is tried twice, then explained."""
ATTEMPTS = RETRIES + 1
NO_SUCH_HOST = "glmtui-no-such-host.invalid"
BIG = "x" * (2 * 1024 * 1024)
"""One event larger than anything it passes through: twice the reply size the chat screen
saves in a thread (``LARGE_REPLY``), 32 times httpx's read size. (It was 10 MB; 2 MB takes
the same paths at a fifth of the time.)"""
RECOVERED = "Recovered after the fault."


# --- the fault table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One misbehaviour and what the user must see afterwards."""

    name: str
    replies: Callable[[], list[Reply]] = list
    """What the server answers to the chat requests, in order (fresh objects per run)."""
    reason: tuple[str, ...] = ()
    """Words the one-line reason contains (empty: the reply succeeds)."""
    noise: tuple[str, ...] = ()
    """Words the reason must not contain (markup, an empty JSON body, library noise)."""
    content: str = ""
    """The reply text that arrives (and is kept) before the fault, or the whole reply."""
    reasoning: str = ""
    """Reasoning text that arrives before the fault."""
    target: str = "server"
    """``server`` (the loopback server), ``refused``, ``dns`` or ``tls``."""
    requests: int = 1
    """Chat requests the loopback server receives (retries included)."""
    stop: bool = False
    """The user stops the reply (Esc in the TUI, Ctrl-C for ask) once ``content`` is shown."""
    slow: float = 0.0
    """Seconds the fault takes at the least (a timeout, a Retry-After)."""
    retrying: str = ""
    """What the TUI shows while it waits to retry."""

    @property
    def succeeds(self) -> bool:
        return not self.reason and not self.stop


def _times(reply: Callable[[], Reply], n: int = ATTEMPTS) -> Callable[[], list[Reply]]:
    return lambda: [reply() for _ in range(n)]


def _one(reply: Callable[[], Reply]) -> Callable[[], list[Reply]]:
    return lambda: [reply()]


def _keepalive() -> Reply:
    """Two tokens 1.2 s apart, with a comment every 0.1 s: never READ_TIMEOUT silent."""
    parts: list[StreamPart] = [sse(chunk("", role="assistant")), sse(chunk("alive "))]
    for _ in range(12):
        parts += [0.1, comment()]
    parts += [sse(chunk("and well", finish_reason="stop")), DONE]
    return StreamReply(parts)


def _endless() -> Reply:
    """A token every 20 ms for far longer than any test runs."""
    parts: list[StreamPart] = [sse(chunk("", role="assistant")), sse(chunk("endless "))]
    for n in range(50_000):
        parts += [0.02, sse(chunk(f"t{n} "))]
    return StreamReply(parts)


FAULTS: list[Fault] = [
    Fault(
        "connection-refused",
        target="refused",
        reason=("Could not connect to 127.0.0.1", "connection refused"),
        requests=0,
    ),
    Fault(
        "dns-failure",
        target="dns",
        reason=(f"Could not resolve host '{NO_SUCH_HOST}'",),
        requests=0,
    ),
    Fault(
        "tls-error",
        target="tls",
        reason=("Secure connection (TLS) to 127.0.0.1",),
        noise=("_ssl.c",),
        requests=0,
    ),
    Fault(
        "401",
        _one(lambda: JsonReply(401, {"error": {"message": "Invalid API key"}})),
        reason=("API key was rejected (401", "Invalid API key"),
    ),
    Fault(
        "402",
        _one(lambda: JsonReply(402, oxen_error("Payment required", "No credits left"))),
        reason=("Out of credits (402", "No credits left"),
    ),
    Fault(
        "404-model",
        _one(lambda: JsonReply(404, oxen_error("Model not found", "no such model"))),
        reason=("Model 'zai-org-glm-5' was not found on this provider (404",),
    ),
    Fault(
        "400-oxen-body",
        _one(
            lambda: JsonReply(
                400, oxen_error("Bad Request", "temperature too high", type="bad_request")
            )
        ),
        reason=("refused the request (400", "Bad Request: temperature too high"),
    ),
    Fault(
        "429-retry-after",
        _times(lambda: JsonReply(429, {"error": {"message": "slow down"}}, {"retry-after": "1"})),
        reason=("Rate limited by the provider (429", "slow down", "Retry in 1 s"),
        requests=ATTEMPTS,
        slow=1.0,
        retrying="Retrying in 1 s",
    ),
    Fault(
        "429-no-retry-after",
        _times(lambda: JsonReply(429, {"error": {"message": "Too many requests"}})),
        reason=("Rate limited by the provider (429", "Wait a moment, then retry"),
        requests=ATTEMPTS,
    ),
    Fault(
        "500",
        _times(lambda: JsonReply(500, {"error": {"message": "upstream exploded"}})),
        reason=("server failed (500", "upstream exploded"),
        requests=ATTEMPTS,
    ),
    Fault(
        "502",
        _times(lambda: RawReply(502, b"<html><body>Bad gateway</body></html>")),
        reason=("server failed (502",),
        requests=ATTEMPTS,
    ),
    Fault(
        "503",
        _times(lambda: JsonReply(503, {})),
        reason=("server failed (503 Service Unavailable).",),
        noise=("{}",),
        requests=ATTEMPTS,
    ),
    Fault(
        "stall-before-first-byte",
        _one(lambda: StallReply(math.inf)),
        reason=("silent before answering", "read timeout"),
        slow=READ_TIMEOUT,
    ),
    Fault(
        "stall-mid-stream",
        _one(
            lambda: StreamReply(
                [sse(chunk(reasoning_content="Hmm. ")), sse(chunk("So far so ")), HANG]
            )
        ),
        reason=("silent mid-reply", "read timeout"),
        content="So far so ",
        reasoning="Hmm. ",
        slow=READ_TIMEOUT,
    ),
    Fault("keepalive-comments-reset-timeout", _one(_keepalive), content="alive and well"),
    Fault(
        "reset-mid-stream",
        # The pause (under the read timeout) lets the client read the text first: an RST
        # discards unread bytes.
        _one(lambda: StreamReply([sse(chunk("Before the reset")), 0.6, RESET])),
        reason=("cut off", "connection broke"),
        content="Before the reset",
    ),
    Fault(
        # llama.cpp with a prompt longer than its window: 200, an event stream, then EOF. The
        # client asks once more without streaming (max_tokens 1) for the server's words.
        "closed-without-replying",
        lambda: [
            StreamReply([comment()]),
            JsonReply(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": "the request exceeds the available context size",
                        "type": "exceed_context_size_error",
                    }
                },
            ),
        ],
        reason=(
            "closed the stream without replying",
            "it said (400 Bad Request): the request exceeds the available context size",
        ),
        noise=("What arrived is kept", "cut off"),
        requests=2,
    ),
    Fault(
        "closed-without-replying-mid-body",
        lambda: [StreamReply([CLOSE]), JsonReply(500, {})],
        reason=("closed the stream without replying", "Likely causes", "context window"),
        noise=("What arrived is kept", "usually temporary"),
        requests=2,
    ),
    Fault(
        "malformed-json-event",
        _one(lambda: StreamReply([sse(chunk("Fine so far ")), b'data: {"choices": [\n\n'])),
        reason=("not valid JSON",),
        content="Fine so far ",
    ),
    Fault(
        "event-error",
        _one(
            lambda: StreamReply(
                [
                    sse(chunk("Some text ")),
                    sse({"error": {"message": "Upstream overloaded"}}, event="error"),
                ]
            )
        ),
        reason=("reported an error mid-reply", "Upstream overloaded"),
        content="Some text ",
    ),
    Fault(
        "error-object-mid-stream",
        _one(
            lambda: StreamReply(
                [sse(chunk("Some text ")), sse({"error": {"message": "context length exceeded"}})]
            )
        ),
        reason=("reported an error mid-reply", "context length exceeded"),
        content="Some text ",
    ),
    Fault(
        "html-page-status-200",
        _one(lambda: RawReply(200, b"<html><body><h1>Site maintenance</h1></body></html>")),
        reason=("did not answer with an event stream (text/html): Site maintenance",),
        noise=("<h1>", "<html>"),
    ),
    Fault("endless-stream-stopped", _one(_endless), content="endless ", stop=True),
    Fault(
        "invalid-utf8",
        _one(
            lambda: StreamReply(
                [b'data: {"choices":[{"delta":{"content":"ok \xff\xfe bytes"}}]}\n\n', DONE]
            )
        ),
        content="ok \ufffd\ufffd bytes",
    ),
    # Last: its 2 MB session file makes every later look at the session folder slower.
    Fault(
        "two-megabyte-event",
        _one(lambda: StreamReply([sse(chunk(BIG)), sse(chunk(finish_reason="stop")), DONE])),
        content=BIG,
    ),
]


# --- fixtures: the places a request can go wrong -------------------------------------------


class _PlainHttp(socketserver.BaseRequestHandler):
    """Answers a TLS ClientHello with plain HTTP, as a misconfigured https:// URL would."""

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            self.request.recv(1)
            self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def not_tls_port() -> Iterator[int]:
    """A 127.0.0.1 port whose server speaks plain HTTP, never TLS."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _PlainHttp) as plain:
        plain.daemon_threads = True
        thread = threading.Thread(target=plain.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        yield int(plain.server_address[1])
        plain.shutdown()
        thread.join(5)


@pytest.fixture
def offline_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """``*.invalid`` names fail to resolve at once, as glibc reports it, without asking any
    DNS server (the suite never touches the network); other names resolve as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the retry count from the settings but shrink the backoff to milliseconds
    (a ``Retry-After`` from the server is still honoured)."""
    from glmtui.api.client import RetryPolicy

    fast = functools.partial(RetryPolicy, base_delay=0.01, max_delay=0.02)
    monkeypatch.setattr("glmtui.api.client.RetryPolicy", fast)


@pytest.fixture
def endpoint(request: pytest.FixtureRequest, server: LoopbackServer) -> Callable[[Fault], str]:
    """The base URL a fault's requests go to (the extra servers start only when needed)."""

    def url(fault: Fault) -> str:
        if fault.target == "refused":
            return f"http://127.0.0.1:{request.getfixturevalue('unused_port')}/v1"
        if fault.target == "dns":
            request.getfixturevalue("offline_dns")
            return f"http://{NO_SUCH_HOST}:{server.port}/v1"
        if fault.target == "tls":
            return f"https://127.0.0.1:{request.getfixturevalue('not_tls_port')}/v1"
        return server.base_url

    return url


# --- the TUI ------------------------------------------------------------------------------------

FREEZE_LIMIT = 3.0
"""Longest the UI may stop responding (the event loop blocked), in seconds: a frozen app, not
a slow frame, on a loaded CI machine. How long frames take is for the benchmarks
(``tests/benchmarks/bench_bombs.py`` for huge replies)."""
PARKED_URL = "http://127.0.0.1:9/v1"
"""Where the shared app points between tests (nothing listens on the discard port)."""


def _waiting_for_a_cpu() -> float | None:
    """Seconds this thread has spent ready to run but waiting for a CPU (Linux's
    ``/proc/thread-self/schedstat``), or None where the system does not say."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


class LoopWatch:
    """Measures the longest time the app's event loop was blocked (the UI frozen).

    A beat that comes late was held up by work on the loop's thread (computing, or blocking
    on a file or socket), or by other processes taking the CPU from it: on a loaded machine
    (the suite runs two workers per core, maybe beside other work) the second alone once
    made a beat 3.8 s late. The time the thread spent waiting for a CPU is therefore left
    out, so the figure is the app's, not the machine's. Where the system does not say, the
    thread's CPU time stands in (blocking I/O then goes unseen).
    """

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before, waited, cpu = loop.time(), _waiting_for_a_cpu(), time.thread_time()
            await asyncio.sleep(0.02)
            wall = loop.time() - before
            now_waited = _waiting_for_a_cpu()
            if waited is not None and now_waited is not None:
                busy = wall - (now_waited - waited)
            else:
                busy = min(wall, time.thread_time() - cpu)
            self.worst = max(self.worst, busy - 0.02)

    def __enter__(self) -> LoopWatch:
        self._task = asyncio.get_running_loop().create_task(self._beat())
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def tui(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pilot[int]]:
    """One app for every TUI case (starting a Textual app costs seconds on a small machine);
    each case opens a new chat in it, and leaves it as a user would after the fault.

    The app has its own config, data dir and HOME, and builds its client from its settings
    exactly as the product does (read timeout and retries from the settings, the UI's paced
    reads), with the retry backoff shrunk to milliseconds.
    """
    from glmtui.api.client import RetryPolicy

    root = tmp_path_factory.mktemp("tui")
    with pytest.MonkeyPatch.context() as patch:
        for name in PROVIDER_ENV:
            patch.delenv(name, raising=False)
        patch.setenv("HOME", str(root))
        patch.setenv("GLMTUI_CONFIG", str(root / "config" / "config.toml"))
        patch.setenv("GLMTUI_DATA_DIR", str(root / "data"))
        patch.setattr(
            "glmtui.api.client.RetryPolicy",
            functools.partial(RetryPolicy, base_delay=0.01, max_delay=0.02),
        )
        settings = replace(
            load_settings(Overrides(base_url=PARKED_URL)),
            api_key=FAKE_KEY,
            timeout=READ_TIMEOUT,
            max_retries=RETRIES,
        )
        app = GlmApp(settings)
        assert app.client.timeouts.read == READ_TIMEOUT  # made now, with the short backoff
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            yield pilot


def saved_by(app: GlmApp, session_id: str) -> Session:
    """The session as it is on disk (read by a separate store, as another process would)."""
    with SessionStore.from_settings(app.settings) as store:
        return store.load(session_id)


def conversation_text(app: GlmApp) -> str:
    """The conversation pane's text on screen, with line wraps, indentation and the reply
    gutter collapsed, so a sentence wrapped over several rows is found whole."""
    region = chat(app).conversation.region
    rows = visible_text(app).splitlines()[region.y : region.bottom]
    cells = " ".join(row[region.x : region.right] for row in rows)
    return " ".join(cells.replace("▌", " ").split())


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
async def test_tui_fault(
    fault: Fault, tui: Pilot[int], server: LoopbackServer, endpoint: Callable[[Fault], str]
) -> None:
    pilot = tui
    app = pilot.app
    assert isinstance(app, GlmApp)
    assert app.is_running, "an earlier case stopped the app"
    screen = chat(app)
    await pilot.press("ctrl+n")
    assert screen.session.messages == []
    app.client.base_url = endpoint(fault)
    for scripted in fault.replies():
        server.enqueue(scripted)

    started = time.monotonic()
    with LoopWatch() as watch:
        await send(pilot, PROMPT)
        retry_shown = False
        if fault.retrying:  # look while the reply waits to retry

            def retry_note_seen() -> bool:
                nonlocal retry_shown
                retry_shown = retry_shown or fault.retrying in conversation_text(app)
                return retry_shown or screen.session.messages[-1].status != "streaming"

            await until(pilot, retry_note_seen)
        if fault.stop:
            await until(
                pilot,
                lambda: (
                    screen.live_reply is not None
                    and screen.live_reply.content_text.startswith(fault.content)
                ),
            )
            await pilot.press("escape")
        await settle(pilot)
    assert time.monotonic() - started >= fault.slow

    # What is kept: the prompt and the reply (partial or whole), marked.
    assert not screen.generating
    assert len(screen.session.messages) == 2
    prompt, reply = screen.session.messages
    assert (prompt.role, prompt.content) == ("user", PROMPT)
    assert reply.role == "assistant"
    if fault.stop:
        assert reply.content.startswith(fault.content)
        assert reply.status == "interrupted"
        assert await server.async_wait_for_disconnects(1) >= 1
    else:
        assert reply.content == fault.content
        assert reply.reasoning == fault.reasoning
    view = screen.conversation.replies[-1]
    assert view.content_text == reply.content
    assert not view.streaming
    assert len(server.chat_requests) == fault.requests

    # What the user sees: the reason in one line, the partial text, no crash, no freeze.
    text = visible_text(app)
    pane = conversation_text(app)
    assert "Traceback" not in text
    assert "Unexpected error" not in text
    if fault.succeeds:
        assert reply.status == "complete"
        assert reply.error is None
    elif fault.stop:
        assert "Interrupted" in pane
    else:
        assert reply.status == "error"
        assert reply.error is not None
        assert "\n" not in reply.error
        assert FAKE_KEY not in reply.error
        for words in fault.reason:
            assert words in reply.error
            assert words in pane, f"{words!r} not on screen:\n{text}"
        for words in fault.noise:
            assert words not in reply.error
    if fault.content and len(fault.content) < 200:
        assert fault.content.strip() in pane

    # What is on disk: the same two messages, with the reply's status and reason.
    on_disk = saved_by(app, screen.session.id)
    assert [(m.role, m.content) for m in on_disk.messages] == [
        ("user", PROMPT),
        ("assistant", reply.content),
    ]
    assert on_disk.messages[1].status == reply.status
    assert on_disk.messages[1].error == reply.error
    assert on_disk.messages[1].reasoning == reply.reasoning

    # Still usable: the network is back and the next prompt gets its answer.
    app.client.base_url = server.base_url
    before = len(server.chat_requests)
    server.enqueue(stream_of([RECOVERED]))
    messages_before = len(screen.session.messages)
    await send(pilot, "And now?")
    await send_anyway(pilot, screen, messages_before)  # after a 2 MB reply the window is full
    await settle(pilot)
    assert len(server.chat_requests) == before + 1
    assert [m.content for m in screen.session.messages] == [
        PROMPT,
        reply.content,
        "And now?",
        RECOVERED,
    ]
    assert screen.session.messages[-1].status == "complete"
    assert RECOVERED in conversation_text(app)
    assert [m.content for m in saved_by(app, screen.session.id).messages][2:] == [
        "And now?",
        RECOVERED,
    ]
    app.client.base_url = PARKED_URL
    # Checked last, so these are reported after everything else was seen to work.
    if fault.retrying:
        assert retry_shown, f"{fault.retrying!r} was never shown in the conversation"
    assert watch.worst < FREEZE_LIMIT, f"the UI did not respond for {watch.worst:.1f} s"


# --- glmtui ask ---------------------------------------------------------------------------------


@pytest.fixture
def ask_env(monkeypatch: pytest.MonkeyPatch, config_file: Path) -> None:
    """A key in the environment; the config's short timeout and one retry."""
    monkeypatch.setenv("OXEN_API_KEY", FAKE_KEY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    config_file.write_text(f"timeout = {READ_TIMEOUT}\nmax_retries = {RETRIES}\n")


class _StopWhenShown(io.StringIO):
    """A stdout that presses Ctrl-C (raises SIGINT) once ``text`` has been written to it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text
        self._pressed = False

    def write(self, s: str) -> int:
        written = super().write(s)
        if not self._pressed and self._text in self.getvalue():
            self._pressed = True
            signal.raise_signal(signal.SIGINT)
        return written


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_ask_fault(
    fault: Fault,
    server: LoopbackServer,
    endpoint: Callable[[Fault], str],
    ask_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for scripted in fault.replies():
        server.enqueue(scripted)
    stdout: io.StringIO | None = None
    redirect: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if fault.stop:  # ask has no time limit: the user stops it with Ctrl-C
        stdout = _StopWhenShown(fault.content)
        redirect = contextlib.redirect_stdout(stdout)
    started = time.monotonic()
    with redirect:
        code = main(["ask", "--base-url", endpoint(fault), PROMPT])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    if stdout is not None:
        out = stdout.getvalue()

    assert "Traceback" not in err
    assert FAKE_KEY not in out + err
    assert len(server.chat_requests) == fault.requests
    assert elapsed >= fault.slow
    if fault.succeeds:
        assert (code, out, err) == (0, fault.content, "")
        return
    if fault.stop:
        assert code == 130
        assert out.startswith(fault.content)
        assert err.strip() == "glmtui: interrupted."
        assert server.wait_for_disconnects(1) >= 1
        return
    assert code == 1
    assert out == fault.content  # the partial answer, exactly as it arrived
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("glmtui: error: ")
    for words in fault.reason:
        assert words in err
    for words in fault.noise:
        assert words not in err
