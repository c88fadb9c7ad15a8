"""One measurement in a fresh process: ``python -m tests.benchmarks.runs '<spec as JSON>'``.

The parent (:mod:`tests.benchmarks.bench_streaming`) starts one process per run, so runs never
share caches, widgets or garbage. The process prints one line, ``RESULT {json}``, and leaves
with ``os._exit`` straight after measuring, so tearing down a huge widget tree costs nothing
and a capped run stops at once.

Spec keys:
    kind: ``stream`` (one reply streamed from the loopback server) or ``session`` (open a long
        conversation and scroll it).
    app: ``ours`` (glmtui's real chat screen, ``GlmApp`` under ``run_test``) or ``naive``
        (:class:`~tests.benchmarks.naive.NaiveChatApp`).
    url: the loopback server's base URL.
    tokens, rate, doc: the reply (``stream``): length, chunks per second (0 = flat out) and
        document (``prose`` or ``code``).
    messages: conversation length (``session``); scroll_cap: seconds of paging at most.
    cap: wall seconds after which a run stops and reports what it managed (marked capped).
    profile: optional path; when set, the measured window (``session``: app start → settled)
        runs under cProfile and the stats are dumped there.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual.app import App
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Markdown
from textual.worker import Worker, WorkerState

from tests.benchmarks import figures
from tests.benchmarks.probe import BENCH_KEY, Recorder, TimedClient, fetch_timeline, rss_mib

SIZE = (120, 40)
"""Terminal size of every run, in cells."""

PROMPT = "Please write the long benchmark answer."


def _settings(url: str) -> Any:
    from glmtui.config import Overrides, load_settings

    settings = load_settings(Overrides(base_url=url))
    return replace(settings, api_key=BENCH_KEY, max_retries=0)


async def _until(predicate: Callable[[], object], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not reach the expected state")
        await asyncio.sleep(0.005)


def _rendered_by(view: Widget) -> Callable[[], int]:
    """Answer characters on screen: ``view.rendered_length`` when the widget has it, else the
    length of its ``.answer`` Markdown's source (the fallback until the renderer reports)."""
    if hasattr(view, "rendered_length"):
        return lambda: int(view.rendered_length)
    markdown = view if isinstance(view, Markdown) else view.query_one(".answer", Markdown)
    return lambda: len(markdown.source)


class _Window:
    """Runs the measured window: optional profiler, cap, and the final frame."""

    def __init__(self, spec: dict[str, Any], recorder: Recorder) -> None:
        self.spec = spec
        self.recorder = recorder
        self.profiler = cProfile.Profile() if spec.get("profile") else None

    async def run(self, app: App[Any], worker: Worker[Any], sent_at: float) -> dict[str, Any]:
        recorder, spec = self.recorder, self.spec
        cap = float(spec["cap"])
        await _until(lambda: worker.state != WorkerState.PENDING)
        capped = False
        try:
            remaining = max(0.1, sent_at + cap - time.monotonic())
            await asyncio.wait_for(asyncio.shield(worker.wait()), remaining)
        except TimeoutError:
            capped = True
        except Exception as error:  # the worker failed: report it rather than a figure
            crash = getattr(app, "_exception", None)  # private: why the app itself stopped
            if crash is not None:
                return {"error": f"the app crashed: {type(crash).__name__}: {crash}"}
            return {"error": f"{type(error).__name__}: {error}"}
        if capped:
            end_t, end_cpu = time.monotonic(), time.process_time()
        else:
            end_t, end_cpu, _ = await recorder.next_frame(app.screen)
        if self.profiler is not None:
            self.profiler.disable()
            self.profiler.dump_stats(spec["profile"])
        sends = await fetch_timeline(spec["url"], recorder.trace)
        retimed = recorder.use_timeline(sends) if sends else 0
        result = self._figures(capped, end_t, end_cpu)
        result["arrivals_retimed"] = retimed
        return result

    def _figures(self, capped: bool, end_t: float, end_cpu: float) -> dict[str, Any]:
        from tests.server import build_tokens

        recorder, spec = self.recorder, self.spec
        if recorder.start is None:
            return {"error": "no content arrived"}
        start_t, start_cpu = recorder.start
        frames = [f for f in recorder.frames if start_t < f[0] <= end_t]
        expected = len("".join(build_tokens(int(spec["tokens"]), spec["doc"])))
        shown = frames[-1][2] if frames else 0
        tokens = figures.tokens_shown(recorder.arrivals, shown)
        if capped and frames:
            end_t, end_cpu = frames[-1][0], frames[-1][1]
        wall = end_t - start_t
        cpu = end_cpu - start_cpu
        latencies = figures.visible_latencies(recorder.arrivals, frames)
        growth = figures.growth(recorder.arrivals, frames, start_cpu)
        return {
            "capped": capped,
            "complete": shown >= expected and recorder.chars == expected,
            "tokens_expected": int(spec["tokens"]),
            "tokens_arrived": len(recorder.arrivals),
            "tokens_shown": tokens,
            "wall_s": wall,
            "cpu_s": cpu,
            "cpu_pct": 100 * cpu / wall if wall > 0 else None,
            "cpu_ms_per_token": 1000 * cpu / tokens if tokens else None,
            "tokens_per_s": tokens / wall if wall > 0 else None,
            "frames": len(frames),
            "latency_median_ms": 1000 * figures.percentile(latencies, 0.5) if latencies else None,
            "latency_p95_ms": 1000 * figures.percentile(latencies, 0.95) if latencies else None,
            "latency_max_ms": 1000 * max(latencies) if latencies else None,
            "growth": growth.ratio if growth is not None else None,
            "growth_first_ms": growth.first_ms if growth is not None else None,
            "growth_last_ms": growth.last_ms if growth is not None else None,
            "growth_coarse": growth.coarse if growth is not None else None,
            "rss_mib": rss_mib(),
        }


def _app_client_options(settings: Any) -> dict[str, Any]:
    """What ``GlmApp`` configures on the client it builds for itself (``read_pacing``), so
    the benchmark's client reads the socket the way the product does."""
    from glmtui.ui.app import GlmApp

    own = GlmApp(settings).client
    return {"read_pacing": own.read_pacing}


def _extra_body(spec: dict[str, Any]) -> dict[str, Any]:
    return {"x_tokens": int(spec["tokens"]), "x_rate": float(spec["rate"]), "x_doc": spec["doc"]}


async def stream_ours(spec: dict[str, Any]) -> None:
    """Stream one reply into glmtui's chat screen (``GlmApp.run_test``, 120x40)."""
    from glmtui.ui.app import GlmApp
    from glmtui.ui.screens.chat import ChatScreen
    from glmtui.ui.widgets.composer import Composer

    recorder = Recorder()
    recorder.install()
    settings = _settings(spec["url"])
    client = TimedClient(spec["url"], recorder, _extra_body(spec), **_app_client_options(settings))
    app = GlmApp(settings, client=client)
    window = _Window(spec, recorder)
    async with app.run_test(size=SIZE):
        await _until(lambda: isinstance(app.screen, ChatScreen) and app.screen.is_mounted)
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await asyncio.sleep(0.3)  # let the model-card request and the first frames settle
        composer = screen.query_one(Composer)
        composer.text = PROMPT
        if window.profiler is not None:
            window.profiler.enable()
        sent_at = time.monotonic()
        composer.action_submit()
        await _until(lambda: screen._generation is not None)
        worker = screen._generation
        assert worker is not None
        await _until(lambda: screen.live_reply is not None)
        recorder.rendered = _rendered_by(screen.live_reply)
        _emit(spec, await window.run(app, worker, sent_at))


async def stream_naive(spec: dict[str, Any]) -> None:
    """Stream one reply into the naive ``Markdown.get_stream()`` screen (120x40)."""
    from tests.benchmarks.naive import NaiveChatApp

    recorder = Recorder()
    recorder.install()
    client = TimedClient(spec["url"], recorder, _extra_body(spec))
    app = NaiveChatApp()
    window = _Window(spec, recorder)
    async with app.run_test(size=SIZE):
        await asyncio.sleep(0.3)
        if window.profiler is not None:
            window.profiler.enable()
        sent_at = time.monotonic()
        answer = await app.reply(PROMPT)
        recorder.rendered = _rendered_by(answer)
        worker = app.run_worker(app.feed(client, PROMPT, answer), exclusive=True)
        _emit(spec, await window.run(app, worker, sent_at))


async def _settle(cap: float) -> float:
    """Wait until the process goes quiet; returns when it was last busy (monotonic).

    Busy means more than 20 % of a core over a 0.1 s sample; quiet means 0.5 s without a busy
    sample (a blinking cursor costs far less).
    """
    last_busy = time.monotonic()
    cpu = time.process_time()
    deadline = last_busy + cap
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        now, now_cpu = time.monotonic(), time.process_time()
        if now_cpu - cpu > 0.02:
            last_busy = now
        cpu = now_cpu
        if now - last_busy >= 0.5:
            break
    return last_busy


async def _scroll(
    recorder: Recorder, screen: Screen[Any], pane: Widget, cap: float
) -> dict[str, Any]:
    """Jump top → bottom once, then page down from the top one frame at a time.

    Paging stops after ``cap`` seconds; ``scroll_s`` is then extrapolated from the mean page
    time to the number of pages the whole conversation needs (``scroll_capped`` says so).
    """
    load_all = getattr(pane, "load_all", None)  # glmtui renders earlier messages on demand
    started = time.monotonic()
    if load_all is not None:
        load_all()
    pane.scroll_to(y=0, animate=False, immediate=True)
    await recorder.next_frame(screen)
    load_s = time.monotonic() - started
    started = time.monotonic()
    pane.scroll_to(y=pane.max_scroll_y, animate=False, immediate=True)
    await recorder.next_frame(screen)
    jump = time.monotonic() - started
    pane.scroll_to(y=0, animate=False, immediate=True)
    await recorder.next_frame(screen)
    step = max(1, pane.scrollable_content_region.height)
    needed = max(1, math.ceil(pane.max_scroll_y / step))
    pages: list[float] = []
    started = time.monotonic()
    while pane.scroll_y < pane.max_scroll_y and time.monotonic() - started < cap:
        before = time.monotonic()
        pane.scroll_to(y=pane.scroll_y + step, animate=False, immediate=True)
        await recorder.next_frame(screen, within=30)
        pages.append(time.monotonic() - before)
    elapsed = time.monotonic() - started
    capped = pane.scroll_y < pane.max_scroll_y
    return {
        "load_all_s": load_s,
        "scroll_jump_ms": 1000 * jump,
        "scroll_s": elapsed / len(pages) * needed if capped and pages else elapsed,
        "scroll_pages": needed,
        "scroll_pages_done": len(pages),
        "scroll_capped": capped,
        "page_p95_ms": 1000 * figures.percentile(pages, 0.95) if pages else None,
        "page_max_ms": 1000 * max(pages) if pages else None,
    }


async def session_run(spec: dict[str, Any]) -> None:
    """Open a long conversation: first frame, settle, memory, then scroll top → bottom."""
    from tests.benchmarks.long_history import as_pairs, long_session, session_tokens

    session = long_session(int(spec["messages"]))
    last = session.messages[-1]
    recorder = Recorder()
    recorder.install()
    app: App[Any]
    if spec["app"] == "ours":
        from glmtui.api.client import ChatClient
        from glmtui.ui.app import GlmApp

        app = GlmApp(
            _settings(spec["url"]), client=ChatClient(spec["url"], BENCH_KEY), session=session
        )
        pane_id = "#conversation"
    else:
        from tests.benchmarks.naive import NaiveChatApp

        app = NaiveChatApp(as_pairs(session))
        pane_id = "#chat"
    ready: list[tuple[float, float, float]] = []

    def watch(screen: Screen[Any]) -> None:
        if ready:
            return
        try:
            pane = screen.query_one(pane_id)
        except Exception:
            return
        if spec["app"] == "ours":
            items = getattr(pane, "items", [])
            laid_out = bool(items) and pane.row_of(len(items) - 1) is not None
            shown = [pane] if laid_out and items[-1].message is last else []
        else:
            tail = list(pane.children)[-3:]
            shown = tail[-1:] if len(pane.children) == len(session.messages) else []
        if shown and shown[-1].region.height > 0:
            ready.append((time.monotonic(), time.process_time(), rss_mib()))

    recorder.on_frame = watch
    rss_before = rss_mib()
    cap = float(spec["cap"])
    profiler = cProfile.Profile() if spec.get("profile") else None
    if profiler is not None:  # profiles opening the session, up to the settle
        profiler.enable()
    started, cpu0 = time.monotonic(), time.process_time()
    async with app.run_test(size=SIZE):
        try:
            await _until(lambda: bool(ready), within=cap)
        except TimeoutError:
            _emit(spec, {"error": f"no first frame within the {cap:g} s cap", "capped": True})
        first_t, first_cpu, first_rss = ready[0]
        settled = await _settle(cap)
        settled_rss = rss_mib()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(spec["profile"])
        screen = app.screen
        pane = screen.query_one(pane_id)
        scroll = await _scroll(recorder, screen, pane, float(spec.get("scroll_cap", cap)))
        _emit(
            spec,
            {
                "messages": len(session.messages),
                "tokens": session_tokens(session),
                "first_frame_s": first_t - started,
                "first_frame_cpu_s": first_cpu - cpu0,
                "settled_s": settled - started,
                "rss_before_mib": rss_before,
                "rss_first_frame_mib": first_rss,
                "rss_mib": settled_rss,
                "rss_end_mib": rss_mib(),
                **scroll,
            },
        )


def _emit(spec: dict[str, Any], result: dict[str, Any]) -> None:
    """Print the result line and leave at once (no teardown of the app)."""
    result["spec"] = spec
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    """Run the spec given as the first argument; print ``RESULT {json}`` and exit at once."""
    spec = json.loads((argv or sys.argv[1:])[0])
    runner = {"session": session_run, "ours": stream_ours, "naive": stream_naive}
    key = "session" if spec["kind"] == "session" else spec["app"]
    try:
        asyncio.run(runner[key](spec))
    except BaseException as error:
        _emit(spec, {"error": f"{type(error).__name__}: {error}"})
    _emit(spec, {"error": "the run ended without a result"})


if __name__ == "__main__":
    main()
