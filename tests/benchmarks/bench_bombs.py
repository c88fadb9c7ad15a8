"""Markdown bombs: how long the UI stops responding while one streams in or is opened.

For each bomb (a 10,000-row table, 3,000 levels of emphasis or quotes, runaway brackets, a
500-level list), this measures the longest stall of the event loop (a heartbeat task that
wakes every 5 ms records how late it is) and the total time:

- **streamed**: the headless chat screen (120x40) fed by the loopback server as fast as it
  sends, 40 characters per event;
- **opened**: a saved session whose reply is the bomb, shown in the chat screen;
- **baseline**: Textual's own ``Markdown`` widget given the whole document once
  (``Markdown.update``), measured in the same run (capped at 60 s).

The target (issue 9): no stall longer than 1 s. Run:
``python -m tests.benchmarks.bench_bombs [--only NAME] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.server import LoopbackServer, stream_of

BOMBS: dict[str, str] = {
    "table 10k rows": "| n | square | note |\n|---:|---:|---|\n"
    + "".join(f"| {n} | {n * n} | row-{n} |\n" for n in range(10_000)),
    "emphasis 3k deep": "*" * 3000 + "x" + "*" * 3000 + "\n",
    "quotes 3k deep": "> " * 3000 + "deep\n",
    "brackets 5k": "[" * 5000 + "x" + "](" * 2500 + "\n",
    "list 500 deep": "".join("  " * i + "- item\n" for i in range(500)),
}
TARGET = 1.0
BASELINE_CAP = 60.0


class Heartbeat:
    """Records how late a 5 ms timer fires: the longest delay is the longest stall."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - 0.005)
            last = now

    def __enter__(self) -> Heartbeat:
        self._task = asyncio.get_running_loop().create_task(self._beat())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def _measured(work: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    """(longest stall, total seconds) of ``work``."""
    started = time.perf_counter()
    with Heartbeat() as beat:
        await work()
        await asyncio.sleep(0.02)  # one more beat after the last frame
    return beat.longest, time.perf_counter() - started


async def streamed(server: LoopbackServer, text: str) -> tuple[float, float]:
    from tests.ui_helpers import make_app, send, settle

    server.enqueue(stream_of([text[i : i + 40] for i in range(0, len(text), 40)]))
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()

        async def work() -> None:
            await send(pilot, "bomb")
            await settle(pilot)

        return await _measured(work)


async def opened(server: LoopbackServer, text: str) -> tuple[float, float]:
    from glmtui.domain import Message, Session
    from tests.ui_helpers import chat, make_app

    session = Session(
        title="bomb",
        messages=[Message("user", "bomb"), Message("assistant", text, status="complete")],
    )
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()

        async def work() -> None:
            await chat(app).show_session(session)
            await pilot.pause()

        return await _measured(work)


async def baseline(text: str) -> tuple[float, float]:
    from textual.app import App, ComposeResult
    from textual.widgets import Markdown

    class Naive(App[None]):
        def compose(self) -> ComposeResult:
            yield Markdown()

    app = Naive()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()

        async def work() -> None:
            await app.query_one(Markdown).update(text)
            await pilot.pause()

        try:
            return await asyncio.wait_for(_measured(work), BASELINE_CAP)
        except TimeoutError:
            return BASELINE_CAP, BASELINE_CAP


def _fmt(seconds: float) -> str:
    return f"≥ {seconds:.0f} s" if seconds >= BASELINE_CAP else f"{seconds * 1000:,.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only bombs whose name contains this")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    bombs = {k: v for k, v in BOMBS.items() if not args.only or args.only in k}
    with tempfile.TemporaryDirectory(prefix="glmtui-bombs-") as folder:
        os.environ["GLMTUI_DATA_DIR"] = str(Path(folder) / "data")
        os.environ["GLMTUI_CONFIG"] = str(Path(folder) / "config.toml")
        print(f"Longest UI stall (median of {args.runs}); target ≤ {TARGET:.0f} s\n")
        print("| bomb | streamed | opened | baseline: Markdown.update | baseline ÷ streamed |")
        print("|---|---|---|---|---|")
        failed = False
        with LoopbackServer() as server:
            for name, text in bombs.items():
                stream_runs = [asyncio.run(streamed(server, text)) for _ in range(args.runs)]
                open_runs = [asyncio.run(opened(server, text)) for _ in range(args.runs)]
                base = asyncio.run(baseline(text))
                stream_stall = statistics.median(r[0] for r in stream_runs)
                open_stall = statistics.median(r[0] for r in open_runs)
                failed |= max(stream_stall, open_stall) > TARGET
                ratio = base[0] / stream_stall if stream_stall else float("inf")
                print(
                    f"| {name} | {_fmt(stream_stall)} | {_fmt(open_stall)} | {_fmt(base[0])} "
                    f"| {ratio:,.2f} |",
                    flush=True,
                )
    print("\nstalls over the target" if failed else "\nall within the target")
    return 1 if failed else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
