"""glmtui's performance benchmark: one command, one table.

Usage (from the repository root)::

    .venv/bin/python -m tests.benchmarks.bench_streaming             # full run, ~15-20 min
    .venv/bin/python -m tests.benchmarks.bench_streaming --quick     # smoke check, ~2-3 min
    .venv/bin/python -m tests.benchmarks.bench_streaming --only paced,startup --runs 5
    .venv/bin/python -m tests.benchmarks.bench_streaming --profile flat-4000-prose

It prints one Markdown table: for each figure the median over the runs (with min–max and the
number of runs n) for **glmtui**'s real chat screen and for the **naive** screen measured in
the same run (:mod:`tests.benchmarks.naive`: ``Markdown.get_stream()`` fed one delta at a
time), their ratio glmtui/naive, and issue 4's target with ✓ or ✗ for glmtui's median.

Method:
    * The loopback server (``python -m tests.server --port 0``) runs in its own process, so
      its CPU is never counted. Every run is a fresh process (:mod:`tests.benchmarks.runs`)
      at 120x40, headless (``App.run_test``); glmtui and naive runs alternate.
    * CPU is ``time.process_time()`` of the app's process (all its threads) over the measured
      window only: from the network read that carried the first content token to the frame
      drawn after the reply finished (the last frame before the cap for a capped run).
    * Frames are counted by wrapping ``Screen._compositor_refresh``; token arrivals are
      stamped as their bytes come off the socket (see :mod:`tests.benchmarks.probe`).
    * This machine has 2 noisy vCPUs: read medians, and compare the two screens within one
      run rather than across runs.

Figures:
    paced (the reply streamed at 50 and 200 tokens/s):
        CPU % of a core: window CPU ÷ window wall time.
        CPU ms/token: window CPU ÷ tokens.
        frames: frames drawn in the window.
        latency median / p95: per token, from its arrival at the client to the first frame
            whose rendered text includes it. "Rendered" is the answer widget's
            ``rendered_length`` when it has one, else the length of the answer Markdown's
            source (the naive screen always uses its Markdown's source, which runs slightly
            ahead of what is drawn, so its latency is a lower bound).
        lag at end: seconds between the ideal end of the stream (tokens ÷ rate after the
            first token) and the reply's final frame.
    flat (as fast as the server sends; prose is the mixed Markdown answer, code is one
    fenced Python block, ~2,000 lines at 16k tokens):
        tokens/s absorbed: tokens on screen ÷ window wall time.
        CPU s: window CPU.
        growth: CPU per token in the last tenth of the reply ÷ in the first tenth
            (:func:`tests.benchmarks.figures.growth`); runs with too few frames to split
            into tenths are left out.
    startup:
        first frame (headless): process launch → first frame of the chat screen of
            ``glmtui --demo`` (:mod:`tests.benchmarks.first_frame`), whole process.
        first frame (tmux): the same in a real terminal: ``tmux new -x 120 -y 40`` until
            ``capture-pane`` shows the ready text (only when tmux is installed).
        import: whole-process wall time of ``python -c "import glmtui.ui.app"`` (naive:
            its module), and ``-X importtime``'s cumulative figure for that module.
    session (a 1,000-message, ~200,000-token conversation, :mod:`.long_history`):
        first frame: app start → first frame that shows the last message.
        settled: app start → the process goes quiet (all history rendered).
        RSS: resident memory once settled.
        jump to end: ``scroll_to(max)`` from the top until drawn.
        scroll by pages: paging from the top to the bottom, one frame per page (extrapolated
            from the mean page time when paging hits its time cap, marked ~).
        page p95: the 95th-percentile time of one page (smoothness).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import pstats
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks.figures import Summary, summarise

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: every child process runs there."""

PYTHON = sys.executable
APPS = ("ours", "naive")
APP_NAMES = {"ours": "glmtui", "naive": "naive"}
_PROVIDER_ENV = (
    "OXEN_API_KEY",
    "VLLM_API_KEY",
    "SGLANG_API_KEY",
    "ZAI_API_KEY",
    "GLMTUI_BASE_URL",
    "GLMTUI_MODEL",
    "GLMTUI_PROVIDER",
    "GLMTUI_THEME",
)


# --------------------------------------------------------------------------------------------
# What to measure
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One row of the table: a figure read from each run's result."""

    label: str
    key: str
    digits: int = 1
    target: str = ""
    meets: Callable[[float], bool] | None = None
    skip: Callable[[dict[str, Any]], bool] | None = None
    """Runs for which this figure is not meaningful (left out of the median)."""


@dataclass(frozen=True)
class Scenario:
    """A configuration measured for both screens, ``runs`` times each."""

    key: str
    group: str
    title: str
    figures: tuple[Figure, ...]
    spec: dict[str, Any] = field(default_factory=dict)
    long: bool = False
    """Long scenarios are run ``--long-runs`` times instead of ``--runs``."""


def at_most(limit: float) -> Callable[[float], bool]:
    """A target met by values ≤ ``limit``."""
    return lambda value: value <= limit


def at_least(limit: float) -> Callable[[float], bool]:
    """A target met by values ≥ ``limit``."""
    return lambda value: value >= limit


def _coarse(result: dict[str, Any]) -> bool:
    return bool(result.get("growth_coarse")) or result.get("growth") is None


def _paced(rate: int, tokens: int, cap: float) -> Scenario:
    target_cpu = {50: 8.0, 200: 15.0}.get(rate)
    cpu = Figure(
        "CPU % of a core",
        "cpu_pct",
        1,
        f"≤ {target_cpu:g} %" if target_cpu else "",
        at_most(target_cpu) if target_cpu else None,
    )
    p95_target = rate == 200
    return Scenario(
        key=f"paced-{rate}",
        group="paced",
        title=f"paced {rate} tok/s, {tokens:,} tokens",
        spec={"kind": "stream", "tokens": tokens, "rate": rate, "doc": "prose", "cap": cap},
        long=tokens / rate > 30,
        figures=(
            cpu,
            Figure("CPU ms/token", "cpu_ms_per_token", 2),
            Figure("frames", "frames", 0),
            Figure("latency median ms", "latency_median_ms", 0),
            Figure(
                "latency p95 ms",
                "latency_p95_ms",
                0,
                "≤ 50 ms" if p95_target else "",
                at_most(50) if p95_target else None,
            ),
            Figure("lag at end s", "lag_s", 2),
        ),
    )


def _flat(tokens: int, doc: str, cap: float) -> Scenario:
    rate_target = 3000 if doc == "prose" else 1500
    growth_target = tokens >= 16000
    return Scenario(
        key=f"flat-{tokens}-{doc}",
        group="flat",
        title=f"flat-out {tokens // 1000}k tokens, {doc}",
        spec={"kind": "stream", "tokens": tokens, "rate": 0, "doc": doc, "cap": cap},
        long=tokens >= 16000,
        figures=(
            Figure(
                "tokens/s absorbed",
                "tokens_per_s",
                0,
                f"≥ {rate_target:,}",
                at_least(rate_target),
            ),
            Figure("CPU s", "cpu_s", 2),
            Figure(
                "growth last/first tenth",
                "growth",
                2,
                "≤ 1.5" if growth_target else "",
                at_most(1.5) if growth_target else None,
                skip=_coarse,
            ),
        ),
    )


def _startup(has_tmux: bool) -> Scenario:
    figures = [
        Figure("first frame, headless s", "first_frame_s", 2, "≤ 0.6 s", at_most(0.6)),
    ]
    if has_tmux:
        figures.append(
            Figure("first frame, tmux s", "tmux_first_frame_s", 2, "≤ 0.6 s", at_most(0.6))
        )
    figures += [
        Figure("import, whole process s", "import_s", 2),
        Figure("import, -X importtime ms", "importtime_ms", 0),
    ]
    return Scenario("startup", "startup", "startup (glmtui --demo)", tuple(figures))


def _session(messages: int, cap: float, scroll_cap: float) -> Scenario:
    return Scenario(
        key="session",
        group="session",
        title=f"long session, {messages:,} messages",
        spec={"kind": "session", "messages": messages, "cap": cap, "scroll_cap": scroll_cap},
        long=True,
        figures=(
            Figure("first frame s", "first_frame_s", 2, "≤ 1.0 s", at_most(1.0)),
            Figure("settled s", "settled_s", 2),
            Figure("RSS MiB", "rss_mib", 0, "≤ 200 MB", at_most(200 / 1.048576)),
            Figure("render all earlier messages s", "load_all_s", 2),
            Figure("jump to end ms", "scroll_jump_ms", 0),
            Figure("scroll by pages s", "scroll_s", 1),
            Figure("page p95 ms", "page_p95_ms", 0),
        ),
    )


GROUPS = ("paced", "flat", "startup", "session")


def plan(quick: bool, has_tmux: bool) -> list[Scenario]:
    """The scenarios of a full (or ``--quick``) run, in table order."""
    if quick:
        return [
            _paced(50, 500, 40),
            _paced(200, 1000, 30),
            *(_flat(n, doc, 10) for doc in ("prose", "code") for n in (1000, 4000)),
            _startup(has_tmux),
            _session(200, 30, 5),
        ]
    return [
        _paced(50, 4000, 150),
        _paced(200, 4000, 60),
        *(_flat(n, doc, 20) for doc in ("prose", "code") for n in (1000, 4000, 16000)),
        _startup(has_tmux),
        _session(1000, 60, 15),
    ]


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------


def child_env(tmp: Path) -> dict[str, str]:
    """The environment of every child: no provider keys, config and data in ``tmp``.

    Bytecode may be written (``PYTHONDONTWRITEBYTECODE`` is dropped): an installed glmtui
    runs from compiled modules, and startup should not be charged with compiling them.
    """
    env = {k: v for k, v in os.environ.items() if k not in _PROVIDER_ENV}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["GLMTUI_CONFIG"] = str(tmp / "config" / "config.toml")
    env["GLMTUI_DATA_DIR"] = str(tmp / "data")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@contextlib.contextmanager
def loopback_server(env: dict[str, str], *options: str) -> Iterator[str]:
    """Start ``python -m tests.server --port 0 [options]`` in its own process; yields its
    base URL."""
    process = subprocess.Popen(
        [PYTHON, "-m", "tests.server", "--port", "0", "--quiet", *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/v1", line)
        if match is None:
            raise RuntimeError(f"the loopback server did not start: {line!r}")
        yield match.group(0)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_child(spec: dict[str, Any], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run one measurement in a fresh process (:mod:`tests.benchmarks.runs`)."""
    try:
        done = subprocess.run(
            [PYTHON, "-m", "tests.benchmarks.runs", json.dumps(spec)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {done.returncode}: {' | '.join(tail)}"}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _first_frame(app: str, env: dict[str, str]) -> dict[str, Any]:
    launched = time.time()
    cpu0 = _children_cpu()
    done = subprocess.run(
        [PYTHON, "-m", "tests.benchmarks.first_frame", app],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    ended = time.time()
    for line in done.stdout.splitlines():
        if line.startswith("FIRST_FRAME "):
            times = json.loads(line[len("FIRST_FRAME ") :])
            if "first_frame" in times:
                return {
                    "first_frame_s": times["first_frame"] - launched,
                    "process_s": ended - launched,
                    "process_cpu_s": _children_cpu() - cpu0,
                }
    return {"error": f"no first frame: {done.stderr.strip()[-200:]}"}


def _import_module(app: str) -> str:
    return "glmtui.ui.app" if app == "ours" else "tests.benchmarks.naive"


def _import_times(app: str, env: dict[str, str]) -> dict[str, Any]:
    module = _import_module(app)
    started = time.perf_counter()
    subprocess.run([PYTHON, "-c", f"import {module}"], cwd=ROOT, env=env, check=True)
    wall = time.perf_counter() - started
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    cumulative = math.nan
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() == module:
            cumulative = int(parts[1]) / 1000
    return {"import_s": wall, "importtime_ms": cumulative}


class Tmux:
    """A private tmux server (its own socket) for real-terminal startup runs."""

    READY = {"ours": "(demo)", "naive": "Ask something"}
    """Text that appears with the first frame (glmtui's title and status bar say "(demo)")."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"glmtui-bench-{os.getpid()}"
        self.env = env
        self.count = 0

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True
        )
        return done.stdout

    def __enter__(self) -> Tmux:
        # An idle session keeps the server up, so no run pays for starting it.
        self._tmux("new-session", "-d", "-s", "idle", "-x", "80", "-y", "24", "sleep 86400")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._tmux("kill-server")

    def first_frame(self, app: str) -> dict[str, Any]:
        """Launch the app in a new 120x40 session; seconds until the ready text shows."""
        self.count += 1
        name = f"run{self.count}"
        module = "glmtui --demo" if app == "ours" else "tests.benchmarks.naive"
        command = f"cd {ROOT} && exec {PYTHON} -m {module}"
        started = time.perf_counter()
        self._tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", command)
        try:
            while time.perf_counter() - started < 20:
                if self.READY[app] in self._tmux("capture-pane", "-p", "-t", name):
                    return {"tmux_first_frame_s": time.perf_counter() - started}
                time.sleep(0.02)
            return {"error": "the ready text never appeared under tmux"}
        finally:
            self._tmux("kill-session", "-t", name)


def startup_run(app: str, env: dict[str, str], tmux: Tmux | None) -> dict[str, Any]:
    """One startup measurement of one app: headless first frame, imports, tmux."""
    result: dict[str, Any] = {}
    result.update(_first_frame(app, env))
    result.update(_import_times(app, env))
    if tmux is not None:
        result.update(tmux.first_frame(app))
    return result


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def _post_process(scenario: Scenario, result: dict[str, Any]) -> dict[str, Any]:
    spec = scenario.spec
    if spec.get("kind") == "stream" and spec.get("rate") and "wall_s" in result:
        ideal = (int(spec["tokens"]) - 1) / float(spec["rate"])
        result["lag_s"] = result["wall_s"] - ideal
    return result


def _one(
    scenario: Scenario, app: str, url: str, env: dict[str, str], tmux: Tmux | None
) -> dict[str, Any]:
    if scenario.group == "startup":
        return startup_run(app, env, tmux)
    spec = {**scenario.spec, "app": app, "url": url}
    timeout = float(spec.get("cap", 60)) * 3 + 60
    return _post_process(scenario, run_child(spec, env, timeout))


def _describe(result: dict[str, Any], scenario: Scenario) -> str:
    if "error" in result:
        return f"error: {result['error']}"
    shown = []
    for figure in scenario.figures[:3]:
        value = result.get(figure.key)
        if isinstance(value, (int, float)):
            shown.append(f"{figure.label} {value:.{figure.digits}f}")
    if result.get("capped"):
        shown.append("capped")
    return ", ".join(shown)


Results = dict[str, dict[str, list[dict[str, Any]]]]


def measure(
    scenarios: Sequence[Scenario],
    runs: int,
    long_runs: int,
    startup_runs: int,
    log: Callable[[str], None],
) -> Results:
    """Run every scenario for both screens, interleaved round by round; returns raw results."""
    results: Results = {s.key: {app: [] for app in APPS} for s in scenarios}
    with tempfile.TemporaryDirectory(prefix="glmtui-bench-") as tmp:
        env = child_env(Path(tmp))
        # Compile up front, as pip does on install: no run pays for it (both apps alike).
        compile_all = [PYTHON, "-m", "compileall", "-q", "glmtui", "tests"]
        subprocess.run(compile_all, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        has_tmux = any(s.group == "startup" for s in scenarios) and shutil.which("tmux")
        tmux_cm: contextlib.AbstractContextManager[Tmux | None] = (
            Tmux(env) if has_tmux else contextlib.nullcontext()
        )
        with loopback_server(env) as url, tmux_cm as tmux:

            def count(s: Scenario) -> int:
                if s.group == "startup":
                    return startup_runs
                return long_runs if s.long else runs

            rounds = max(count(s) for s in scenarios)
            total = sum(2 * count(s) for s in scenarios)
            done = 0
            started = time.perf_counter()
            for round_ in range(rounds):
                for scenario in scenarios:
                    if round_ >= count(scenario):
                        continue
                    order = APPS if round_ % 2 == 0 else APPS[::-1]
                    for app in order:
                        result = _one(scenario, app, url, env, tmux)
                        results[scenario.key][app].append(result)
                        done += 1
                        elapsed = time.perf_counter() - started
                        log(
                            f"[{done}/{total} {elapsed:5.0f} s] {scenario.title} · "
                            f"{APP_NAMES[app]} · run {round_ + 1}: {_describe(result, scenario)}"
                        )
    return results


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def _values(runs: list[dict[str, Any]], figure: Figure) -> list[float]:
    values = []
    for result in runs:
        if "error" in result or (figure.skip is not None and figure.skip(result)):
            continue
        value = result.get(figure.key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values.append(float(value))
    return values


def _cell(summary: Summary | None, digits: int, mark: str = "") -> str:
    if summary is None:
        return "–"
    if summary.n == 1 or summary.low == summary.high:
        return f"{summary.median:,.{digits}f}{mark}"
    return (
        f"{summary.median:,.{digits}f}{mark} [{summary.low:,.{digits}f}–{summary.high:,.{digits}f}]"
    )


def _marks(scenario: Scenario, runs: list[dict[str, Any]], figure: Figure) -> str:
    mark = ""
    if any(r.get("capped") for r in runs if "error" not in r) and scenario.group != "session":
        mark += "†"
    if any(r.get("complete") is False and not r.get("capped") for r in runs):
        mark += "‼"
    if figure.key == "scroll_s" and any(r.get("scroll_capped") for r in runs):
        mark = "~" + mark
    return mark


def table(scenarios: Sequence[Scenario], results: Results) -> list[str]:
    """The Markdown table (and its footnotes) for the results."""
    lines = [
        "| scenario | figure | n | glmtui | naive | glmtui/naive | target |",
        "|---|---|---|---|---|---|---|",
    ]
    notes: set[str] = set()
    for scenario in scenarios:
        by_app = results[scenario.key]
        for i, figure in enumerate(scenario.figures):
            summaries = {app: summarise(_values(by_app[app], figure)) for app in APPS}
            marks = {app: _marks(scenario, by_app[app], figure) for app in APPS}
            for mark in "".join(marks.values()):
                notes.add(mark)
            ours, naive = summaries["ours"], summaries["naive"]
            ratio = (
                f"{ours.median / naive.median:.2f}"
                if ours is not None and naive is not None and naive.median
                else "–"
            )
            target = figure.target
            if target and figure.meets is not None and ours is not None:
                target += " ✓" if figure.meets(ours.median) else " ✗"
            n = "/".join(str(s.n if s is not None else 0) for s in summaries.values())
            lines.append(
                f"| {scenario.title if i == 0 else ''} | {figure.label} | {n} "
                f"| {_cell(ours, figure.digits, marks['ours'])} "
                f"| {_cell(naive, figure.digits, marks['naive'])} | {ratio} | {target} |"
            )
    footnotes = {
        "†": "† capped: at least one run hit its time cap; the figure covers what was on "
        "screen by then.",
        "‼": "‼ at least one run ended with less text on screen than the server sent.",
        "~": "~ paging hit its time cap; the time is extrapolated from the mean page time.",
    }
    lines.append("")
    lines.append(
        "n = runs counted for glmtui/naive; cells are median [min–max]; ✓/✗ = glmtui's "
        "median against issue 4's target; – = no figure (growth: too few frames to split "
        "the reply into tenths)."
    )
    lines += [text for mark, text in footnotes.items() if mark in notes]
    return lines


def _errors(scenarios: Sequence[Scenario], results: Results) -> list[str]:
    out = []
    for scenario in scenarios:
        for app in APPS:
            for i, result in enumerate(results[scenario.key][app]):
                if "error" in result:
                    out.append(
                        f"{scenario.title} · {APP_NAMES[app]} · run {i + 1}: {result['error']}"
                    )
    return out


def _machine() -> str:
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        commit = "?"
    import textual

    load = os.getloadavg()[0]
    return (
        f"{time.strftime('%Y-%m-%d %H:%M')} · commit {commit or '?'} · "
        f"{os.cpu_count()} CPUs, load {load:.2f} before the run · Python "
        f"{platform.python_version()} · Textual {textual.__version__}"
    )


# --------------------------------------------------------------------------------------------
# Profiling
# --------------------------------------------------------------------------------------------


def profile(scenario: Scenario, app: str, top: int, out: Path | None) -> list[str]:
    """Run one scenario once under cProfile and return the top functions (cumulative, own)."""
    with tempfile.TemporaryDirectory(prefix="glmtui-bench-") as tmp:
        env = child_env(Path(tmp))
        path = out or Path(tmp) / "profile.pstats"
        with loopback_server(env) as url:
            spec = {**scenario.spec, "app": app, "url": url, "profile": str(path)}
            result = run_child(spec, env, float(spec.get("cap", 60)) * 5 + 60)
        lines = [f"{scenario.title} · {APP_NAMES[app]} (under cProfile): {result}"]
        if not path.exists():
            return [*lines, "no profile was written (startup is not profiled)"]
        for order in ("cumulative", "tottime"):
            stream = _Lines()
            stats = pstats.Stats(str(path), stream=stream)  # type: ignore[arg-type]
            stats.strip_dirs().sort_stats(order).print_stats(top)
            lines += [f"--- top {top} by {order} ---", *stream.text.splitlines()[4:]]
        return lines


class _Lines:
    """A minimal text stream for :class:`pstats.Stats`."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM → KeyboardInterrupt, so the server, tmux and the running child are cleaned up."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_streaming",
        description="glmtui's streaming, startup and long-session benchmark (issue 4).",
    )
    parser.add_argument("--quick", action="store_true", help="fewer, lighter runs (smoke check)")
    parser.add_argument("--runs", type=int, help="runs per screen (default 3; quick 1)")
    parser.add_argument(
        "--long-runs", type=int, help="runs of the long scenarios (default 2; quick 1)"
    )
    parser.add_argument("--startup-runs", type=int, help="startup runs (default 9; quick 2)")
    parser.add_argument(
        "--only",
        metavar="GROUPS",
        help=f"comma-separated groups or scenario keys to run ({', '.join(GROUPS)})",
    )
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write raw results here")
    parser.add_argument(
        "--profile",
        metavar="SCENARIO",
        help="run one scenario once under cProfile instead (e.g. paced-200, flat-4000-prose)",
    )
    parser.add_argument("--profile-app", choices=APPS, default="ours")
    parser.add_argument("--profile-out", type=Path, help="keep the .pstats file here")
    parser.add_argument("--top", type=int, default=30, help="functions listed by --profile")
    args = parser.parse_args(argv)

    has_tmux = shutil.which("tmux") is not None
    scenarios = plan(args.quick, has_tmux)
    if args.profile:
        chosen = [s for s in plan(False, False) + scenarios if s.key == args.profile]
        if not chosen:
            parser.error(
                f"unknown scenario {args.profile!r}: {', '.join(s.key for s in scenarios)}"
            )
        print("\n".join(profile(chosen[0], args.profile_app, args.top, args.profile_out)))
        return 0
    if args.only:
        wanted = {w.strip() for w in args.only.split(",") if w.strip()}
        scenarios = [s for s in scenarios if s.group in wanted or s.key in wanted]
        if not scenarios:
            parser.error(f"--only matched nothing: {args.only}")
    runs = args.runs or (1 if args.quick else 3)
    long_runs = args.long_runs or (1 if args.quick else min(runs, 2))
    startup_runs = args.startup_runs or (2 if args.quick else max(9, runs))

    header = _machine()
    started = time.perf_counter()

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = measure(scenarios, runs, long_runs, startup_runs, log)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    elapsed = time.perf_counter() - started
    lines = [
        f"glmtui benchmark ({'quick' if args.quick else 'full'}) · {header} · "
        f"took {elapsed / 60:.1f} min, load {os.getloadavg()[0]:.2f} at the end",
        "",
        *table(scenarios, results),
    ]
    errors = _errors(scenarios, results)
    if errors:
        lines += ["", "Errors:", *(f"- {e}" for e in errors)]
    print("\n".join(lines))
    if args.json:
        payload = {"header": header, "elapsed_s": elapsed, "results": results}
        args.json.write_text(json.dumps(payload, indent=1))
    return (
        1
        if errors
        and all("error" in r for s in scenarios for app in APPS for r in results[s.key][app])
        else 0
    )


if __name__ == "__main__":
    sys.exit(main())
