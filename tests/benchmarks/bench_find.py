"""How fast find in the conversation answers a keystroke (issue 23, point 3).

The target: in a 1,000-message session, the first result shows within 100 ms of a keystroke.
This opens such a session in a headless app (Pilot), opens the find bar and types queries a
letter at a time, then prints a Markdown table of median and p95 over the keystrokes:

- keystroke → result ready: from the key's ``Input.Changed`` until the search has run, the
  marks and count are set and the view is moved (the debounce,
  :data:`~glmtui.ui.widgets.find_bar.DEBOUNCE`, included); then → drawn: Pilot's wait for
  the frame that shows it (a headless frame wait costs ~25 ms by itself: the next row);
- search + marks + scroll: the work after the debounce alone (search every message, mark,
  bring the current match into view);
- baseline, plain Python: the same queries searched in the messages' texts with
  ``str.lower()`` and ``str.find`` in one loop, measured in the same run: the ratio says what
  the conversation adds to a bare search;
- jump to the first match: Enter on the newest match wraps to the oldest, loading and laying
  out every earlier message (the slowest move there is).

Run: ``python -m tests.benchmarks.bench_find [--messages 1000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime

from glmtui.domain import Message, Session
from glmtui.ui.screens.chat import ChatScreen
from glmtui.ui.widgets.find_bar import DEBOUNCE, FindBar
from tests.benchmarks.figures import percentile
from tests.ui_helpers import make_app

TARGET = 0.1
"""Seconds from a keystroke to its first result on screen."""
QUERIES = ("tokenizer", "Paris", "quantum entanglement", "zzzz")
"""Typed a letter at a time: a common word, a proper noun (exact case), two words, no match."""
WORDS = [
    "model",
    "stream",
    "token",
    "reply",
    "answer",
    "reasoning",
    "function",
    "value",
    "list",
    "table",
    "code",
    "server",
    "quantum",
    "entanglement",
    "tokenizer",
    "window",
    "context",
    "prompt",
    "cache",
    "latency",
    "frame",
    "render",
    "layout",
]
STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def session(messages: int, seed: int) -> Session:
    """``messages`` alternating prompts and replies (with reasoning and a code block)."""
    rng = random.Random(seed)

    def words(count: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(count))

    out: list[Message] = []
    for n in range(messages // 2):
        out.append(Message("user", f"Question {n}: {words(12)}?", created_at=STAMP))
        answer = f"{words(60)}\n\n```python\nprint({n})\n```\n\n- {words(8)}\n- Paris {words(8)}"
        out.append(
            Message(
                "assistant",
                answer,
                created_at=STAMP,
                reasoning=words(40),
                status="complete",
                model="glm-5",
            )
        )
    return Session(id="bench-find", title="Find", created_at=STAMP, updated_at=STAMP, messages=out)


def baseline(texts: list[str], query: str) -> int:
    """The bare search: every text lowered and scanned (what the conversation search does,
    without its items, caches or drawing)."""
    needle = query.lower()
    found = 0
    for text in texts:
        lowered = text.lower()
        at = lowered.find(needle)
        while at >= 0:
            found += 1
            at = lowered.find(needle, at + len(needle))
    return found


async def measure(messages: int, seed: int) -> dict[str, list[float]]:
    """One run: every keystroke of :data:`QUERIES` timed, and a jump to the first match."""
    data = session(messages, seed)
    texts = [t for m in data.messages for t in (m.content, m.reasoning or "")]
    app = make_app(session=data)
    times: dict[str, list[float]] = {
        "ready": [],
        "shown": [],
        "work": [],
        "pause": [],
        "baseline": [],
        "jump": [],
    }
    async with app.run_test(size=(120, 40)) as pilot:
        while not isinstance(app.screen, ChatScreen) or not app.screen.is_mounted:
            await pilot.pause(0.01)
        screen = app.screen
        await pilot.press("ctrl+f")
        bar = screen.query_one(FindBar)
        for query in QUERIES:
            bar.input.value = ""
            await pilot.pause(DEBOUNCE * 2)
            for end in range(1, len(query) + 1):
                before = screen.find_matches
                started = time.perf_counter()
                bar.input.value = query[:end]  # as a key would: Input.Changed, debounce
                while screen.find_matches is before and time.perf_counter() - started < 2:  # noqa: ASYNC110 - a poll: Pilot's waits cost ~25 ms
                    await asyncio.sleep(0.001)
                times["ready"].append(time.perf_counter() - started)
                await pilot.pause()  # the frame that shows it
                times["shown"].append(time.perf_counter() - started)
                started = time.perf_counter()
                screen._find_run(query[:end])  # the work alone, again
                times["work"].append(time.perf_counter() - started)
                await pilot.pause()
                started = time.perf_counter()
                await pilot.pause()  # nothing to do: what waiting for a frame costs here
                times["pause"].append(time.perf_counter() - started)
                started = time.perf_counter()
                baseline(texts, query[:end])
                times["baseline"].append(time.perf_counter() - started)
        before = screen.find_matches
        bar.input.value = "tokenizer"
        while screen.find_matches is before or not screen.find_matches:
            await pilot.pause(DEBOUNCE)
        screen._find_show(len(screen.find_matches) - 1)
        await pilot.pause()
        started = time.perf_counter()
        await pilot.press("enter")  # wraps to the first match: every message laid out
        await pilot.pause()
        times["jump"].append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    """Command line; prints the table to stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args(argv)
    merged: dict[str, list[float]] = {}
    for run in range(args.runs):
        for key, values in asyncio.run(measure(args.messages, args.seed + run)).items():
            merged.setdefault(key, []).extend(values)
    print(
        f"{args.messages:,} messages, {args.runs} runs, {len(merged['shown'])} keystrokes · "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.system()}\n"
    )
    base = statistics.median(merged["baseline"])
    print("| measurement | median | p95 | × baseline | target |")
    print("|---|---:|---:|---:|---|")
    rows = (
        ("keystroke → result ready: marks set, view moved (debounce included)", "ready", TARGET),
        ("keystroke → drawn (Pilot's wait for the frame included)", "shown", None),
        ("search + marks + scroll (after the debounce, before drawing)", "work", None),
        ("Pilot's wait for a frame alone (in the row above)", "pause", None),
        ("baseline: plain Python lower() + find over the texts", "baseline", None),
        ("Enter: jump to the first match (loads every message)", "jump", None),
    )
    for label, key, target in rows:
        values = merged[key]
        median = statistics.median(values)
        verdict = (
            "" if target is None else ("ok" if percentile(values, 0.95) < target else "**over**")
        )
        goal = "" if target is None else f"p95 < {target * 1000:,.0f} ms {verdict}"
        print(
            f"| {label} | {median * 1000:,.1f} ms | {percentile(values, 0.95) * 1000:,.1f} ms | "
            f"{median / base:,.1f} | {goal} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
