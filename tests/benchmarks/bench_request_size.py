"""The request-size estimate while typing, on a 200,000-token session (issue 22, point 5).

The status bar shows the estimated size of the request Enter would send, updated as the user
types. Target: the status bar holds the new figure ≤ 20 ms (median) after a keystroke, with
a 200,000-token history in the chat.

The session is :func:`tests.benchmarks.long_history.long_session` (1,000 messages, ~200,000
tokens) with every reply's usage taken away (so nothing is anchored on a reported count:
the whole history is estimated, the worst case) and an 8 KB text file attached to every
twentieth prompt. Figures:

* **keystroke → status**: a key posted to the app as the driver posts it, until the status
  bar's figure has changed (the key typed into the composer, the estimate, the bar told).
  Keys are spaced wider than the bar's repaint throttle (``REQUEST_REFRESH``), so each shows
  at its leading edge, not at a trailing one; the time is taken where the bar is told (not
  when the benchmark next looks);
* **per keystroke, the estimate**: what the screen does for one keystroke
  (``show_request``: the draft's estimate added to the cached history, the bar told);
* **history, cold / warm**: working the history's part out from nothing (a fresh estimator),
  and again on an event with every message's estimate cached;
* **refresh on an event**: the whole status bar recomputed, as after a reply.

Run: ``python -m tests.benchmarks.bench_request_size [--keys 60] [--runs 300]``. Prints a
Markdown table of medians and 95th percentiles, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

from textual import events

from glmtui.domain import Session
from glmtui.domain.attachments import Attachment
from glmtui.ui.chat.attachments import REQUEST_REFRESH
from glmtui.ui.chat.status import RequestEstimate
from glmtui.ui.screens.chat import ChatScreen
from glmtui.ui.widgets.status import StatusBar, StatusInfo
from tests.benchmarks.long_history import long_session
from tests.ui_helpers import chat_opened, make_app, settle, until

TARGET_MS = 20.0
ATTACHED = ("def handler(event: dict) -> int:\n    return len(event)\n" * 160)[:8192]


def bench_session(messages: int) -> Session:
    """The long session, every usage taken away, an 8 KB file on every 20th prompt."""
    session = long_session(messages)
    attachment = Attachment("src/handler.py", "text", "text/x-python", 8192, text=ATTACHED)
    session.messages = [
        replace(
            message,
            usage=None,
            attachments=(attachment,) if message.role == "user" and n % 40 == 0 else (),
        )
        for n, message in enumerate(session.messages)
    ]
    return session


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(action: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds per call of ``action``."""
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def measure(messages: int, keys: int, runs: int) -> tuple[int, dict[str, list[float]]]:
    """(the history's estimated tokens, milliseconds per figure)."""
    app = make_app(None, session=bench_session(messages))
    results: dict[str, list[float]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await chat_opened(pilot)
        assert isinstance(screen, ChatScreen)
        await settle(pilot)
        composer = screen.composer
        composer.focus()
        await until(pilot, lambda: composer.has_focus)
        bar = screen.query_one(StatusBar)
        shown: list[float] = []  # when the bar was told the request's size
        show = bar.show

        def told(info: StatusInfo) -> None:
            if info.request is not None:
                shown.append(time.perf_counter())
            show(info)

        bar.show = told  # type: ignore[method-assign]
        latencies = []
        for n in range(keys):
            shown.clear()
            start = time.perf_counter()
            app.post_message(events.Key("x", "x"))
            await until(pilot, lambda: bool(shown), within=10)
            latencies.append((shown[0] - start) * 1000)
            await pilot.pause(REQUEST_REFRESH * 1.5)  # past the throttle: the next shows at once
            if n % 20 == 19:
                composer.text = ""
        results["keystroke → status"] = latencies
        composer.text = "Explain the pipeline once more"
        results["per keystroke, the estimate"] = timed(screen.show_request, runs)
        session = screen.session
        results["history, cold"] = timed(lambda: RequestEstimate().history(session), runs)
        results["history, warm"] = timed(lambda: screen.request_estimate.history(session), runs)
        results["refresh on an event"] = timed(screen.refresh_status, runs)
        history = screen.request_estimate.tokens
    return history, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=60, help="keystrokes timed in the app")
    parser.add_argument("--runs", type=int, default=300, help="calls timed per function")
    args = parser.parse_args(argv)
    history, results = asyncio.run(measure(args.messages, args.keys, args.runs))
    print(
        f"History: {args.messages:,} messages, ~{history:,} tokens estimated; "
        f"Python {platform.python_version()}, {platform.machine()}; target ≤ {TARGET_MS:.0f} ms."
    )
    print()
    print("| figure | median ms | p95 ms |")
    print("|---|---:|---:|")
    for name, values in results.items():
        print(f"| {name} | {statistics.median(values):.3f} | {percentile(values, 0.95):.3f} |")
    verdict = statistics.median(results["keystroke → status"]) <= TARGET_MS
    print()
    print(f"keystroke → status median within {TARGET_MS:.0f} ms: {'yes' if verdict else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
