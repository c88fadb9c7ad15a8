"""Reading a streamed reply at the pace a UI draws it, not once per token.

A model sends one token per network packet. Waking up for each costs ~0.1-0.2 ms of CPU on a
small VM, besides the HTTP and SSE parsing done per read: at 200 tokens/s that is several % of
a core, for a UI that draws at most ~30 frames a second and so gains nothing from faster reads.
With pacing, tokens wait in the kernel's buffer until the next read, which takes them all at
once. Scripts (``glmtui ask``) read as data arrives.

With public httpx API only: the response's raw body is read a chunk at a time
(``Response.aiter_raw``). One socket read can bring several chunks (a server may send each
event as an HTTP chunk of its own); those come without waiting, and are passed on at once. A
chunk that had to be *waited for* started a read of the network: it is held until a frame's
interval has passed since the last such hand-over, so what the model sends meanwhile piles up
in the kernel and is read, and handed on, together with it. The app thus gets the reply in one
batch per interval, in step with its frames (passing the lone waited-for chunk on at once would
wake the UI twice per interval and draw half-batches out of step). :func:`paced` gives a
response that reads its body that way, which the SSE parser then reads as any response.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import httpx

WAITED: Final = 0.001
"""Seconds of idle waiting a chunk must have taken in coming to count as read from the
network (one that was buffered already comes at once, or after whatever else the thread ran
meanwhile)."""
READ_SIZE: Final = 64 * 1024
"""The most one read of the connection returns (httpcore's read size). A chunk of at least
half of it means text is piling up faster than it is read."""


@dataclass(frozen=True, slots=True)
class ReadPacing:
    """How often to read while a reply streams: the UI's frame policy, for the socket.

    At most once per ``fastest`` seconds; when events trickle in, about ``batch`` events per
    read, but at least once per ``slowest`` seconds (a read then lands just before the frame
    that draws it, instead of three reads per frame).
    """

    fastest: float = 1 / 30
    slowest: float = 1 / 12
    batch: int = 5
    behind: float = 0.0
    """Seconds added to each interval. A UI that draws at most once per interval sets a few
    ms: each read then finds the frame that draws it already due. Read exactly as often as
    frames are drawn, reads and frames drift in and out of step, and text waits up to a whole
    frame after its read (measured at 200 tokens/s, 3 runs: latency p95 36-53 ms with 0, 38
    ms in every run with 2 ms)."""

    def interval(self, events: int, elapsed: float) -> float:
        """Seconds until the next read, given ``events`` received over ``elapsed`` seconds."""
        if events < 2 or elapsed <= 0:
            return self.fastest + self.behind
        spaced = min(self.slowest, max(self.fastest, self.batch * elapsed / events))
        return spaced + self.behind


class Pacer:
    """Paces one reply's reads: call :meth:`note_event` per event, and await :meth:`hold`
    with each chunk before handing it on (it waits while the next hand-over is not due).

    The pace follows the reply's event rate, measured afresh after a silence (a model that
    thought for a while before its first token is not taken for a slow one).
    """

    def __init__(self, pacing: ReadPacing) -> None:
        self._pacing = pacing
        self._last = -math.inf
        """When the last waited-for chunk was handed on."""
        self._since: float | None = None
        """Start of the current run of steady data (the rate is measured over it)."""
        self._events = 0
        self._before = 0
        """Events that arrived before that run."""

    def note_event(self) -> None:
        """One more event (a chunk of the reply) arrived."""
        self._events += 1

    async def hold(self, size: int, waited: float) -> None:
        """A chunk of ``size`` bytes came, ``waited`` seconds after it was asked for: wait
        until it may be handed on.

        A chunk that came without waiting is one more of a read already made (or data that
        piled up meanwhile): on at once. So is a chunk that filled most of a read (a burst, a
        reply sent at once), or pacing would cap the stream at a read per interval (~2 MB/s).
        A chunk the network was waited for is held until an interval after the last one; a
        slow stream's chunks, further apart than that, are never held.
        """
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._since is None or waited > self._pacing.slowest:
            self._since, self._before = now, self._events  # after a silence: measure afresh
        if waited < WAITED or size * 2 >= READ_SIZE:
            return
        interval = self._pacing.interval(self._events - self._before, now - self._since)
        due = self._last + interval
        if due > now:
            await asyncio.sleep(due - now)
        self._last = loop.time()

    async def chunks(self, raw: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """``raw``'s chunks, each handed on when :meth:`hold` says."""
        loop = asyncio.get_running_loop()
        while True:
            asked, busy = loop.time(), time.thread_time()
            try:
                chunk = await anext(raw)
            except StopAsyncIteration:
                return
            # Time this thread spent running other work meanwhile (drawing a frame, say) is
            # not time spent waiting for the network: a chunk already buffered, read after a
            # frame was drawn, is one more of the read already made, not a new arrival.
            await self.hold(len(chunk), (loop.time() - asked) - (time.thread_time() - busy))
            yield chunk


class _Unpaced:
    """Counts nothing: the reply is read as data arrives."""

    def note_event(self) -> None:
        """Nothing to count."""


def paced(
    response: httpx.Response, pacing: ReadPacing | None
) -> tuple[httpx.Response, Pacer | _Unpaced]:
    """``response``, reading its body per ``pacing`` (``None``: as data arrives), and what to
    tell each event.

    The response given back has the same status and headers; its body is the original's raw
    body (still encoded: it decodes it as the original would), a chunk at a time, each
    held as :meth:`Pacer.hold` says.
    """
    if pacing is None:
        return response, _Unpaced()
    import httpx  # (the UI imports this module for ReadPacing before httpx is needed)

    pacer = Pacer(pacing)
    paced_response = httpx.Response(
        response.status_code,
        headers=response.headers,
        content=pacer.chunks(response.aiter_raw()),
        request=response.request,
    )
    return paced_response, pacer
