"""Reading a streamed reply's socket at the pace a UI draws it, not once per token.

A model sends one token per network packet. Waking up for each costs ~0.1-0.2 ms of CPU on a
small VM, besides the HTTP and SSE parsing done per read: at 200 tokens/s that is several % of
a core, for a UI that draws at most ~30 frames a second and so gains nothing from faster reads.
With pacing, tokens wait in the kernel's buffer until the next read, which takes them all at
once. Scripts (``glmtui ask``) read as data arrives.

The pause sits in front of the *socket* read (httpcore's network stream, which it hands out as
the ``network_stream`` response extension), not in front of each body chunk: the chunks one
read brought in are passed on at once, never held back a second interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import httpx


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

    def interval(self, events: int, elapsed: float) -> float:
        """Seconds until the next read, given ``events`` received over ``elapsed`` seconds."""
        if events < 2 or elapsed <= 0:
            return self.fastest
        return min(self.slowest, max(self.fastest, self.batch * elapsed / events))


class PacedReads:
    """Paces one connection's socket reads while one reply streams (a context manager).

    Count each event with :meth:`note_event`: the pace follows the reply's event rate,
    measured afresh after a silence (a model that thought for a while before its first token
    is not taken for a slow one).
    """

    def __init__(self, network: Any, pacing: ReadPacing) -> None:
        self._network = network
        self._read = network.read
        self._pacing = pacing
        self._last = -math.inf
        self._since: float | None = None
        """Start of the current run of steady data (the rate is measured over it)."""
        self._events = 0
        self._before = 0
        """Events that arrived before that run."""

    def note_event(self) -> None:
        """One more event (a chunk of the reply) arrived."""
        self._events += 1

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        """httpcore's ``AsyncNetworkStream.read``, after the pause (same signature)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._since is None:
            self._since = now
        interval = self._pacing.interval(self._events - self._before, now - self._since)
        wait = self._last + interval - now
        if wait > 0:
            await asyncio.sleep(wait)
        data = b""
        started = loop.time()
        try:
            data = cast(bytes, await self._read(max_bytes, timeout))
            return data
        finally:
            if loop.time() - started > self._pacing.slowest:  # the stream was silent
                self._since, self._before = loop.time(), self._events
            # A read that filled most of the buffer means text is piling up faster than it
            # is read (a burst, a reply sent all at once): read on at once, or pacing would
            # cap the stream at a buffer per interval (~2 MB/s).
            self._last = -math.inf if len(data) * 2 >= max_bytes else loop.time()

    def __enter__(self) -> PacedReads:
        # A network stream that cannot take the attribute (slots, a future httpcore) is
        # simply read as data arrives.
        with contextlib.suppress(AttributeError, TypeError):
            self._network.read = self.read
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(AttributeError):
            del self._network.read  # the class's own read again, for the next request


class _Unpaced:
    """Reads as data arrives (no pacing asked for, or no socket to pace)."""

    def __enter__(self) -> _Unpaced:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Nothing to undo."""

    def note_event(self) -> None:
        """Nothing to count."""


def paced(response: httpx.Response, pacing: ReadPacing | None) -> PacedReads | _Unpaced:
    """Pace ``response``'s socket reads per ``pacing`` (``None``: read as data arrives)."""
    network = response.extensions.get("network_stream")
    if pacing is None or network is None or not callable(getattr(network, "read", None)):
        return _Unpaced()
    return PacedReads(network, pacing)
