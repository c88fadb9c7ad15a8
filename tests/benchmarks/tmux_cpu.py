"""CPU of glmtui and of the naive screen in a real terminal, while one reply streams.

Usage (from the repository root; needs tmux)::

    .venv/bin/python -m tests.benchmarks.tmux_cpu                  # 200 tok/s and flat out
    .venv/bin/python -m tests.benchmarks.tmux_cpu --rate 50 --runs 3

The headless benchmark (:mod:`.bench_streaming`) does not draw to a terminal; this one does,
as a user sees it: each app runs in ``tmux new -x 120 -y 40`` against the loopback server
(its own process, serving ``--tokens`` tokens at ``--rate`` per second, 0 = as fast as it
can), a prompt is typed, and the app process's CPU (user + system, from ``/proc``) is read
from the keypress until the reply's end marker is on screen (the whole turn), and over the
middle half of the reply's expected time (the steady state; paced replies only). It prints
medians, glmtui ÷ naive, measured in the same run, alternating the two apps.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_streaming import child_env, loopback_server
from tests.server import END_MARKER

ROOT = Path(__file__).resolve().parents[2]
SESSION = "glmtui-bench-cpu"
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _screen() -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-t", SESSION, "-p"], capture_output=True, text=True
    ).stdout


def _wait(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def measure(
    app: str, url: str, timeout: float, steady: tuple[float, float] | None = None
) -> tuple[float, float, float | None] | None:
    """(wall s, CPU s, steady-state CPU % of a core) of one reply in ``app`` (``glmtui`` or
    ``naive``); None if it failed. ``steady``: the window, in seconds after the keypress, whose
    CPU is the steady state (the reply streaming, its start and end left out)."""
    home = tempfile.mkdtemp(prefix="glmtui-tmux-")
    python = sys.executable
    if app == "glmtui":
        command = [python, "-m", "glmtui", "--base-url", url]
        ready = "Ask GLM-5"
    else:
        command = [python, "-m", "tests.benchmarks.naive", url]
        ready = "Ask something"
    env = child_env(Path(home))
    assigned = " ".join(
        f"{key}={shlex.quote(env[key])}"
        for key in ("GLMTUI_CONFIG", "GLMTUI_DATA_DIR", "PYTHONPATH")
    )
    shell = f"cd {ROOT} && {assigned} OXEN_API_KEY=sk-bench-0 exec {shlex.join(command)}"
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    subprocess.run(["tmux", "new", "-d", "-s", SESSION, "-x", "120", "-y", "40", shell], check=True)
    try:
        if not _wait(lambda: ready in _screen(), 20):
            return None
        pane = subprocess.run(
            ["tmux", "list-panes", "-t", SESSION, "-F", "#{pane_pid}"],
            capture_output=True,
            text=True,
        )
        pid = int(pane.stdout.split()[0])
        subprocess.run(["tmux", "send-keys", "-t", SESSION, "stream please"], check=True)
        time.sleep(0.3)
        started, cpu = time.monotonic(), _cpu_seconds(pid)
        subprocess.run(["tmux", "send-keys", "-t", SESSION, "Enter"], check=True)
        in_steady: float | None = None
        if steady is not None:
            time.sleep(max(0.0, started + steady[0] - time.monotonic()))
            window_start, window_cpu = time.monotonic(), _cpu_seconds(pid)
            time.sleep(max(0.0, started + steady[1] - time.monotonic()))
            in_steady = 100 * (_cpu_seconds(pid) - window_cpu) / (time.monotonic() - window_start)
        if not _wait(lambda: END_MARKER in _screen(), timeout):
            return None
        return time.monotonic() - started, _cpu_seconds(pid) - cpu, in_steady
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.tmux_cpu")
    parser.add_argument("--rate", type=float, action="append", help="tokens/s (0 = flat out)")
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is not installed")
    print("| rate | app | wall s | CPU s | CPU % of a core | steady CPU % | glmtui ÷ naive |")
    print("|---|---|---|---|---|---|---|")
    for rate in args.rate or [200.0, 0.0]:
        options = ("--tokens", str(args.tokens), "--rate", str(rate))
        with (
            tempfile.TemporaryDirectory() as tmp,
            loopback_server(child_env(Path(tmp)), *options) as url,
        ):
            results: dict[str, list[tuple[float, float, float | None]]] = {
                "glmtui": [],
                "naive": [],
            }
            # The middle half of the reply's expected time: streaming, start and end left out.
            expected = args.tokens / rate if rate else 0.0
            steady = (0.25 * expected, 0.75 * expected) if expected >= 4 else None
            for _ in range(args.runs):
                for app in results:
                    result = measure(app, url, args.timeout, steady)
                    if result is not None:
                        results[app].append(result)
        label = f"{rate:g} tok/s" if rate else "flat out"
        cpu = {
            app: statistics.median(c for _, c, _ in runs) for app, runs in results.items() if runs
        }
        for app, runs in results.items():
            if not runs:
                print(f"| {label} | {app} | failed | | | | |")
                continue
            wall = statistics.median(w for w, _, _ in runs)
            steadies = [s for _, _, s in runs if s is not None]
            in_steady = f"{statistics.median(steadies):.1f}" if steadies else "–"
            ratio = ""
            if app == "glmtui" and cpu.get("naive"):
                ratio = f"{cpu['glmtui'] / cpu['naive']:.2f}"
            print(
                f"| {label} | {app} | {wall:.1f} | {cpu[app]:.2f} | "
                f"{100 * cpu[app] / wall:.1f} | {in_steady} | {ratio} |"
            )


if __name__ == "__main__":
    main()
