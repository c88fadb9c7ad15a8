"""How long screens take to open, and how a huge message folds and unfolds.

Usage (from the repository root)::

    .venv/bin/python -m tests.benchmarks.open_screens                 # every scenario, 5 runs
    .venv/bin/python -m tests.benchmarks.open_screens --only help,theme --runs 3
    .venv/bin/python -m tests.benchmarks.open_screens --profile help  # where the time goes

Screens (target: ≤ 150 ms, median): F1 help, F2 request preview, Ctrl+B's parameters overlay
in an 80-column terminal, and the theme picker (the ``change_theme`` action, as Ctrl+P →
theme runs it). Each figure runs from the key press (the key event posted to the app, as the
driver posts it) to the first frame of the new screen that would reach a terminal *with its
content in place*: the overlay's fields mounted, the picker's themes listed. A frame is
detected as in :mod:`tests.benchmarks.first_frame` and :mod:`tests.benchmarks.probe`: by
wrapping ``Screen._compositor_refresh`` (private Textual API), counting only frames of the
screen on top that Textual does not throw away (drawn outside ``App._batch_count``).
"first" is the first open in a fresh process (imports and stylesheets included), "again" the
next open after closing it, in the same process.

Huge messages (``--huge-mb``, 50 MB by default: a pasted log as a prompt, and as reasoning in a
reply): the key that unfolds it (``o``, ``t``) → the first frame that shows it unfolded; the
longest stall of the event loop from the key until the message is laid out (a 5 ms heartbeat, see
:mod:`tests.benchmarks.bench_bombs`); the slowest of PageDown presses made meanwhile (key →
frame); how long until it is laid out whole; and the key that folds it again → frame.

Every run is a fresh process (``--child SCENARIO``), headless, at 120x40 (80x40 for the
overlay), in demo mode (no network), with garbage collection handled as ``glmtui`` handles it
(:mod:`glmtui.startup_gc`). This machine has 2 noisy vCPUs: read the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.pilot import Pilot
    from textual.screen import Screen

    from glmtui.ui.app import GlmApp

ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = 150.0
CAP = 120.0
"""Seconds any one wait may take before the run reports it as capped."""
HUGE_BYTES = int(float(os.environ.get("GLMTUI_BENCH_HUGE_MB", "50")) * 1_000_000)
"""The size of the huge messages (``--huge-mb``, passed to the children in the environment)."""
PAGES_WHILE_UNFOLDING = 5

Ready = Callable[["Screen[Any]"], bool]


class Frames:
    """Resolves waiters at the first displayed frame of the top screen that meets a test."""

    def __init__(self) -> None:
        self._waiters: list[tuple[Ready, asyncio.Future[float]]] = []
        self.count = 0

    def install(self) -> None:
        from textual.screen import Screen

        original = Screen._compositor_refresh
        frames = self

        def refresh(screen: Screen[Any]) -> None:
            batched = screen.app._batch_count > 0  # Textual does not display this frame
            original(screen)
            if batched or screen is not screen.app.screen:
                return
            now = time.perf_counter()
            frames.count += 1
            for waiter in list(frames._waiters):
                ready, future = waiter
                if not future.done() and ready(screen):
                    future.set_result(now)
                    frames._waiters.remove(waiter)

        Screen._compositor_refresh = refresh  # type: ignore[method-assign, assignment]

    def expect(self, ready: Ready) -> asyncio.Future[float]:
        """A future set to the time of the first frame after now whose screen is ``ready``."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((ready, future))
        return future


async def _within(future: Awaitable[float], start: float) -> float:
    """Milliseconds from ``start`` to ``future``'s time (CAP seconds at most)."""
    try:
        return (await asyncio.wait_for(future, CAP) - start) * 1000
    except TimeoutError:
        return CAP * 1000


def _press(app: GlmApp, key: str) -> float:
    """Post a key event as the driver does; returns the time it was posted."""
    from textual import events

    characters = {"ctrl+b": "\x02", "escape": "\x1b", "o": "o", "t": "t"}
    start = time.perf_counter()
    app.post_message(events.Key(key, characters.get(key)))
    return start


def _is(name: str, ready: Ready | None = None) -> Ready:
    return lambda screen: type(screen).__name__ == name and (ready is None or ready(screen))


def _overlay_ready(screen: Screen[Any]) -> bool:
    from glmtui.ui.widgets.sidebar import ParameterSidebar

    return screen.query_one(ParameterSidebar).ready


def _themes_listed(screen: Screen[Any]) -> bool:
    from textual.command import CommandList

    listed = screen.query_one(CommandList).option_count
    return screen.has_class("-ready") and listed == len(screen.app.available_themes)


@dataclass(frozen=True)
class ScreenScenario:
    """A screen opened by a key (or an action) and closed with Escape."""

    name: str
    title: str
    size: tuple[int, int]
    key: str
    """The key that opens it, or ``action:NAME`` for an app action."""
    ready: Ready


SCREENS = {
    s.name: s
    for s in (
        ScreenScenario("help", "F1 help", (120, 40), "f1", _is("HelpScreen")),
        ScreenScenario(
            "preview", "F2 request preview", (120, 40), "f2", _is("RequestPreviewScreen")
        ),
        ScreenScenario(
            "overlay",
            "Ctrl+B overlay (80 columns)",
            (80, 40),
            "ctrl+b",
            _is("ParametersScreen", _overlay_ready),
        ),
        ScreenScenario(
            "theme",
            "theme picker (change_theme)",
            (120, 40),
            "action:change_theme",
            _is("CommandPalette", _themes_listed),
        ),
    )
}
HUGE = {"unfold-prompt": "{} MB prompt (o)", "unfold-reasoning": "{} MB reasoning (t)"}


def huge_text(size: int | None = None) -> str:
    """``size`` characters of log lines, some non-ASCII, as a pasted log looks."""
    size = HUGE_BYTES if size is None else size
    line = (
        "2026-11-25 20:{m:02d}:{s:02d} INFO worker-{n:03d} processed item {n:06d}; status=ok é ✓\n"
    )
    block = "".join(line.format(m=n // 60 % 60, s=n % 60, n=n) for n in range(1000))
    return (block * (size // len(block) + 1))[:size]


def _session(scenario: str) -> Any:
    from glmtui.domain import Message, Session

    if scenario == "unfold-prompt":
        messages = [Message("user", huge_text()), Message("assistant", "Noted.", status="complete")]
    elif scenario == "unfold-reasoning":
        messages = [
            Message("user", "Think hard."),
            Message("assistant", "Done.", reasoning=huge_text(), status="complete"),
        ]
    else:
        return None
    return Session(title="huge", messages=messages)


async def _ready_app(pilot: Pilot[int]) -> None:
    from tests.ui_helpers import settle, sidebar_ready

    await sidebar_ready(pilot)
    await settle(pilot)


async def measure_screen(scenario: ScreenScenario, profile: bool) -> dict[str, Any]:
    from tests.ui_helpers import make_app

    frames = Frames()
    frames.install()
    app = make_app()
    out: dict[str, Any] = {}
    async with app.run_test(size=scenario.size) as pilot:
        await _ready_app(pilot)
        for attempt in ("first", "again"):
            opened = frames.expect(scenario.ready)
            profiler = cProfile.Profile() if profile and attempt == "first" else None
            if profiler is not None:
                profiler.enable()
            if scenario.key.startswith("action:"):
                start = time.perf_counter()
                await app.run_action(scenario.key.removeprefix("action:"))
            else:
                start = _press(app, scenario.key)
            out[attempt] = await _within(opened, start)
            if profiler is not None:
                profiler.disable()
                out["profile"] = _top(profiler)
            await pilot.pause()
            closed = frames.expect(_is("ChatScreen"))
            await _within(closed, _press(app, "escape"))
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
    return out


async def measure_huge(scenario: str, profile: bool) -> dict[str, Any]:
    from glmtui.ui.items import ReplyItem, UserItem
    from tests.benchmarks.bench_bombs import Heartbeat
    from tests.ui_helpers import chat, make_app

    frames = Frames()
    frames.install()
    app = make_app(session=_session(scenario))
    out: dict[str, Any] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready_app(pilot)
        view = chat(app).conversation
        index = 0 if scenario == "unfold-prompt" else 1
        item = view.items[index]
        key = "o" if isinstance(item, UserItem) else "t"

        def unfolded() -> bool:
            if isinstance(item, UserItem):
                return item.expanded
            assert isinstance(item, ReplyItem)
            return item.reasoning_open

        view.focus()
        view.select(index)
        await pilot.pause()
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        with Heartbeat() as beat:
            shown = frames.expect(lambda screen: unfolded())
            out["unfold"] = await _within(shown, _press(app, key))
            pages = []
            for _ in range(PAGES_WHILE_UNFOLDING):
                paged = frames.expect(lambda screen: True)
                pages.append(await _within(paged, _press(app, "pagedown")))
            started = time.perf_counter()
            while getattr(item, "behind", False) and time.perf_counter() - started < CAP:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            out["laid_out"] = (time.perf_counter() - started) * 1000 + out["unfold"] + sum(pages)
            out["stall"] = beat.longest * 1000
        out["pages"] = max(pages)
        if profiler is not None:
            profiler.disable()
            out["profile"] = _top(profiler)
        view.select(index)
        await pilot.pause()
        folded = frames.expect(lambda screen: not unfolded())
        out["fold"] = await _within(folded, _press(app, key))
    return out


def _top(profiler: cProfile.Profile, lines: int = 40) -> str:
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats(
        os.environ.get("BENCH_SORT", "cumulative")
    ).print_stats(lines)
    return text.getvalue()


def child(scenario: str, profile: bool) -> None:
    """One run in this process; prints ``RESULT {json}``.

    Garbage collection is held off while the app starts, then what the start made is frozen,
    as ``glmtui`` does (:mod:`glmtui.startup_gc`): without it, full collections walking the
    start's objects would land in the measured opens, which the real app does not pay.
    """
    from glmtui import startup_gc

    startup_gc.pause()
    if scenario in SCREENS:
        result = asyncio.run(measure_screen(SCREENS[scenario], profile))
    else:
        result = asyncio.run(measure_huge(scenario, profile))
    print("RESULT " + json.dumps(result), flush=True)


def _run_child(scenario: str, env: dict[str, str], profile: bool) -> dict[str, Any] | None:
    command = [sys.executable, "-m", "tests.benchmarks.open_screens", "--child", scenario]
    if profile:
        command += ["--profile", scenario]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CAP * 8
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            return result
    print(f"{scenario}: no result\n{done.stderr[-2000:]}", file=sys.stderr)
    return None


def _ms(values: list[float]) -> str:
    if not values:
        return "–"
    median = statistics.median(values)
    capped = "≥ " if median >= CAP * 1000 else ""
    spread = f" ({min(values):,.0f}–{max(values):,.0f})" if len(values) > 1 else ""
    return f"{capped}{median:,.0f} ms{spread}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", help="comma-separated scenarios: " + ", ".join([*SCREENS, *HUGE]))
    parser.add_argument("--profile", metavar="SCENARIO", help="print a cProfile of one run")
    parser.add_argument("--huge-mb", type=float, default=50, help="size of the huge messages")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.profile is not None)
        return 0
    from tests.benchmarks.bench_streaming import child_env

    with tempfile.TemporaryDirectory(prefix="glmtui-open-") as folder:
        env = child_env(Path(folder))
        env["GLMTUI_BENCH_HUGE_MB"] = str(args.huge_mb)
        if args.profile:
            result = _run_child(args.profile, env, profile=True)
            print(result.get("profile", "") if result else "failed")
            return 0 if result else 1
        wanted = args.only.split(",") if args.only else [*SCREENS, *HUGE]
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in wanted}
        for _ in range(args.runs):  # scenarios alternate, so a busy moment hits all alike
            for name in wanted:
                result = _run_child(name, env, profile=False)
                if result is not None:
                    results[name].append(result)
    failed = False
    screens = [name for name in wanted if name in SCREENS]
    if screens:
        print(f"Key press → first frame of the screen, median (min–max) of {args.runs} runs\n")
        print(f"| screen | first open | again | target ≤ {TARGET_MS:.0f} ms |")
        print("|---|---|---|---|")
        for name in screens:
            first = [r["first"] for r in results[name]]
            again = [r["again"] for r in results[name]]
            ok = bool(first) and max(statistics.median(first), statistics.median(again)) <= (
                TARGET_MS
            )
            failed |= not ok
            print(f"| {SCREENS[name].title} | {_ms(first)} | {_ms(again)} | {'✓' if ok else '✗'} |")
    huge = [name for name in wanted if name in HUGE]
    if huge:
        print(f"\nHuge messages, median (min–max) of {args.runs} runs\n")
        print(
            "| message | unfold → frame | longest stall | PageDown while unfolding (slowest) "
            "| laid out whole | fold → frame |"
        )
        print("|---|---|---|---|---|---|")
        for name in huge:
            runs = results[name]
            cells = [_ms([r[k] for r in runs]) for k in ("unfold", "stall", "pages", "laid_out")]
            cells.append(_ms([r["fold"] for r in runs]))
            title = HUGE[name].format(f"{args.huge_mb:g}")
            print(f"| {title} | " + " | ".join(cells) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
