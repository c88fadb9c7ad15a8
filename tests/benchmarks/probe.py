"""In-process instruments for one benchmark run: frames drawn, token arrivals, CPU, memory.

* **Clock**: every time here is ``time.monotonic()`` (``CLOCK_MONOTONIC``), the clock the
  loopback server stamps its writes with, so times from both processes compare directly.
* **Frames** are counted by wrapping ``Screen._compositor_refresh`` (private Textual API,
  acceptable in a benchmark; perf-baseline did the same). Only frames of the screen on top
  count. Each frame records the time, the process CPU (``time.process_time()``: every thread
  of this process, never the loopback server, which runs in its own process) and how many
  answer characters are on screen, as reported by :attr:`Recorder.rendered`.
* **Arrivals**: the chat request carries an ``x_trace`` id; the server notes when each write of
  the reply left (on loopback the bytes are in this process's socket buffer at that moment)
  and :meth:`Recorder.use_timeline` turns that into the arrival of each content delta the
  client yielded. This costs the app nothing and also counts any time a token waits in the
  socket because the app reads it late. Without a timeline, arrivals fall back to the moment
  the client read the bytes.
* **CPU window start**: the process CPU when the client first read bytes carrying content.
* :class:`StampingTransport` also adds the loopback server's per-request fields (``x_tokens``,
  ``x_rate``, ``x_doc``, ``x_trace``) to the chat request body, so the real chat screen needs
  no special code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import httpx
from textual.screen import Screen

from glmtui.api.client import ChatClient, RetryPolicy
from glmtui.api.events import ContentDelta, StreamEvent
from glmtui.api.request import ChatRequest
from tests.benchmarks.figures import Arrival, Frame

BENCH_KEY = "sk-glmtui-bench"
"""The API key the benchmark clients send (the loopback server accepts anything)."""


def rss_mib() -> float:
    """This process's resident memory now (``VmRSS`` from ``/proc/self/status``), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan  # pragma: no cover - not Linux


class Recorder:
    """Everything one run records; see the module docstring."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        """Every frame drawn by the top screen since the hook was installed."""
        self.arrivals: list[Arrival] = []
        """One entry per non-empty content delta, in order."""
        self.chars = 0
        """Answer characters received so far."""
        self.start: tuple[float, float] | None = None
        """``(time, cpu)`` of the network read that carried the first content delta (the time
        becomes the server's write time once :meth:`use_timeline` ran)."""
        self.rendered: Callable[[], int] | None = None
        """Answer characters on screen now; set once the answer widget exists."""
        self.on_frame: Callable[[Screen[Any]], None] | None = None
        """Extra per-frame callback (the long-session run watches for its first frame)."""
        self.stamp: tuple[float, float] = (0.0, 0.0)
        """``(time, cpu)`` of the network chunk the client is parsing now."""
        self.trace = uuid.uuid4().hex
        """The ``x_trace`` id sent with the chat request."""
        self._waiters: list[asyncio.Future[Frame]] = []

    def install(self) -> None:
        """Wrap ``Screen._compositor_refresh`` so every drawn frame is recorded."""
        original = Screen._compositor_refresh
        recorder = self

        def counting_refresh(screen: Screen[Any]) -> None:
            original(screen)
            app = screen.app
            if app.is_inline or not app._running or screen is not app.screen:
                return
            recorder._frame(screen)

        Screen._compositor_refresh = counting_refresh  # type: ignore[method-assign, assignment]

    def _frame(self, screen: Screen[Any]) -> None:
        now, cpu = time.monotonic(), time.process_time()
        rendered = self.rendered() if self.rendered is not None else 0
        frame = (now, cpu, rendered)
        self.frames.append(frame)
        if self.on_frame is not None:
            self.on_frame(screen)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(frame)

    async def next_frame(self, screen: Screen[Any], within: float = 5.0) -> Frame:
        """Ask for a repaint and wait (``within`` seconds at most) until the next frame is
        drawn; returns that frame."""
        waiter: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        screen.refresh()
        return await asyncio.wait_for(waiter, within)

    def note_delta(self, text: str) -> None:
        """A content delta was handed to the screen; stamp it with its network arrival."""
        if not text:
            return
        if self.start is None:
            self.start = self.stamp
        self.chars += len(text)
        self.arrivals.append((self.stamp[0], self.chars))

    def use_timeline(self, sends: list[tuple[float, int]]) -> int:
        """Re-time arrivals from the server's writes ``(time, chars sent so far)``.

        Each delta arrived with the first write that had sent all of its characters. Returns
        how many deltas were re-timed (the rest keep their read time).
        """
        retimed = 0
        arrivals: list[Arrival] = []
        j = 0
        for read_at, chars in self.arrivals:
            while j < len(sends) and sends[j][1] < chars:
                j += 1
            if j < len(sends):
                arrivals.append((min(read_at, sends[j][0]), chars))
                retimed += 1
            else:
                arrivals.append((read_at, chars))
        self.arrivals = arrivals
        if self.start is not None and arrivals:
            self.start = (arrivals[0][0], self.start[1])
        return retimed


class _StampedStream(httpx.AsyncByteStream):
    """A response body that notes when (and at what CPU) each chunk was read."""

    def __init__(self, inner: httpx.AsyncByteStream, recorder: Recorder) -> None:
        self._inner = inner
        self._recorder = recorder

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for data in self._inner:
            self._recorder.stamp = (time.monotonic(), time.process_time())
            yield data

    async def aclose(self) -> None:
        await self._inner.aclose()


class StampingTransport(httpx.AsyncBaseTransport):
    """HTTP transport that adds the server's ``x_*`` fields and stamps chat reply chunks."""

    def __init__(self, recorder: Recorder, extra_body: dict[str, Any]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._recorder = recorder
        self._extra = {**extra_body, "x_trace": recorder.trace}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        chat = request.method == "POST" and request.url.path.endswith("/chat/completions")
        if chat and self._extra:
            body = json.loads(await request.aread())
            body.update(self._extra)
            headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
            request = httpx.Request(
                request.method,
                request.url,
                headers=headers,
                content=json.dumps(body).encode(),
                extensions=request.extensions,
            )
        response = await self._inner.handle_async_request(request)
        if chat:
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _StampedStream(response.stream, self._recorder)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class TimedClient(ChatClient):
    """The real :class:`ChatClient`, with every content delta's arrival recorded.

    ``options`` are passed on to :class:`ChatClient` (the chat-screen run passes what
    ``GlmApp`` gives its own client, such as ``read_pacing``).
    """

    def __init__(
        self, base_url: str, recorder: Recorder, extra_body: dict[str, Any], **options: Any
    ) -> None:
        super().__init__(
            base_url,
            BENCH_KEY,
            transport=StampingTransport(recorder, extra_body),
            retry=RetryPolicy(max_retries=0),
            **options,
        )
        self.recorder = recorder

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """The parent's events, unchanged; content deltas are noted on the way through."""
        async with contextlib.aclosing(super().stream_chat(request)) as events:
            async for event in events:
                if isinstance(event, ContentDelta):
                    self.recorder.note_delta(event.text)
                yield event


async def fetch_timeline(base_url: str, trace: str) -> list[tuple[float, int]] | None:
    """The server's write times for the request tagged ``trace`` (None if it has none)."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{base_url.rstrip('/')}/x/timeline/{trace}")
    if response.status_code != 200:
        return None
    return [(float(t), int(chars)) for t, chars in response.json()["sends"]]
