"""Soak: a long scripted conversation in the headless app, against the loopback server.

Each turn sends a prompt through the composer and waits for the streamed reply (no pacing),
with a few turn shapes rotating: prose, a code block, a table, and every tenth reply broken
off mid-stream (the partial answer must be kept and marked). After the run, every turn must be
in the session file on disk, in order and complete, and resident memory is reported at the
start, at the end and at its peak; memory is "bounded" when the growth over the second half of
the run is a small fraction of the growth over the first half (the conversation itself grows
linearly, the app's overhead must not).

Run: ``python -m tests.benchmarks.soak [--turns 500]`` (about 2 minutes here).
The test suite runs a shorter soak (``tests/test_soak.py``) for the on-disk checks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks.probe import rss_mib
from tests.server import CLOSE, LoopbackServer, StreamPart, StreamReply, chunk, sse, stream_of

SIZE = (120, 40)


def reply_for(turn: int) -> tuple[StreamReply, str, str]:
    """The scripted reply for ``turn``: what the server sends, the text, and its status."""
    if turn % 10 == 9:  # broken off mid-stream: the partial answer is kept, marked
        text = f"Turn {turn}: this answer is cut"
        parts: list[StreamPart] = [sse(chunk("", role="assistant")), sse(chunk(text)), CLOSE]
        return StreamReply(parts), text, "error"
    shape = turn % 3
    if shape == 0:
        tokens = [f"Turn {turn}: ", "a short **answer** ", "in prose.\n\n", "- one\n", "- two\n"]
    elif shape == 1:
        tokens = [
            f"Turn {turn}:\n\n",
            "```python\n",
            f"def turn_{turn}():\n",
            "    return 1\n",
            "```\n",
        ]
    else:
        tokens = [f"Turn {turn}:\n\n", "| a | b |\n", "|---|---|\n", f"| {turn} | x |\n"]
    return stream_of(tokens, usage=True), "".join(tokens), "complete"


@dataclass
class SoakResult:
    """What a soak run measured and found."""

    turns: int
    seconds: float
    rss_start: float
    rss_middle: float
    rss_end: float
    rss_peak: float
    problems: list[str] = field(default_factory=list)
    """Turns missing or wrong on disk; empty when everything is there."""


async def soak(server: LoopbackServer, turns: int) -> SoakResult:
    """Run ``turns`` turns in the headless app, then check the session file on disk."""
    from glmtui.store import SessionStore
    from glmtui.ui.app import GlmApp
    from tests.ui_helpers import chat, make_app, send, settle

    for turn in range(turns):
        server.enqueue(reply_for(turn)[0])
    app: GlmApp = make_app(server)
    started = time.monotonic()
    async with app.run_test(size=SIZE) as pilot:
        rss_start = rss_peak = rss_mib()
        rss_middle = rss_start
        for turn in range(turns):
            await send(pilot, f"Question {turn}?")
            await settle(pilot)
            rss_peak = max(rss_peak, rss_mib())
            if turn == turns // 2:
                rss_middle = rss_mib()
        session_id = chat(app).session.id
        rss_end = rss_mib()
    seconds = time.monotonic() - started

    problems: list[str] = []
    from glmtui.config import load_settings

    stored = SessionStore.from_settings(load_settings()).load(session_id)
    messages = stored.messages
    if len(messages) != 2 * turns:
        problems.append(f"{len(messages)} messages on disk, expected {2 * turns}")
    for turn in range(min(turns, len(messages) // 2)):
        prompt, reply = messages[2 * turn], messages[2 * turn + 1]
        _, text, status = reply_for(turn)
        if prompt.content != f"Question {turn}?":
            problems.append(f"turn {turn}: prompt is {prompt.content!r}")
        if reply.content != text or reply.status != status:
            problems.append(f"turn {turn}: reply {reply.status} {reply.content[:40]!r}")
    return SoakResult(turns, seconds, rss_start, rss_middle, rss_end, rss_peak, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=500)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="glmtui-soak-") as folder:
        os.environ["GLMTUI_DATA_DIR"] = str(Path(folder) / "data")
        os.environ["GLMTUI_CONFIG"] = str(Path(folder) / "config.toml")
        server = LoopbackServer()
        server.start()
        try:
            result = asyncio.run(soak(server, args.turns))
        finally:
            server.stop()
    first_half = result.rss_middle - result.rss_start
    second_half = result.rss_end - result.rss_middle
    per_turn = result.seconds / result.turns * 1000
    rss = f"{result.rss_start:.0f} / {result.rss_middle:.0f} / {result.rss_end:.0f}"
    print(f"| soak: {result.turns} turns | value |")
    print("|---|---|")
    print(f"| wall time | {result.seconds:.1f} s ({per_turn:.0f} ms/turn) |")
    print(f"| RSS start / middle / end | {rss} MiB |")
    print(f"| RSS peak | {result.rss_peak:.0f} MiB |")
    print(f"| growth, first half / second half | {first_half:+.1f} / {second_half:+.1f} MiB |")
    print(f"| turns on disk | {'all' if not result.problems else 'PROBLEMS'} |")
    for problem in result.problems[:20]:
        print(f"  - {problem}", file=sys.stderr)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
