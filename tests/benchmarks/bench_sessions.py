"""How fast the session store lists and searches a large folder (issue 5, point 6).

The target: with 10,000 sessions of 20 messages each, the browser opens in under 1 s and a
search answers in under 0.3 s. This generates such a folder (``gen_sessions``, cached under the
system temp folder between runs), then prints a Markdown table of medians over several runs:

- cold index build: no cache, every file parsed and indexed (a first start, or a deleted cache);
- warm open: a new store (as a new process would) listing every session from the index;
- re-list: the same store listing again with nothing changed;
- refresh after touching 10 files: 10 files rewritten by "another program", then a listing;
- searches: a common word, a rare word, no match, two words, a 2-character query, a rare word
  made of common trigrams, and typing a word letter by letter (the slowest keystroke).

Run: ``python -m tests.benchmarks.bench_sessions [--sessions 10000] [--runs 5]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from glmtui.store import SessionStore, decode_session, encode_session
from glmtui.store.index import INDEX_FILE
from tests.benchmarks.gen_sessions import COMMON_WORD, NO_MATCH, RARE_WORD, generate

TARGET_OPEN = 1.0
TARGET_SEARCH = 0.3


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def prepare(sessions: int, messages: int, seed: int, folder: Path | None) -> Path:
    """The data dir holding the generated sessions, generating them on first use."""
    data = folder or Path(tempfile.gettempdir()) / f"glmtui-bench-{sessions}x{messages}-{seed}"
    done = data / ".complete"
    if not done.exists():
        shutil.rmtree(data, ignore_errors=True)
        print(f"generating {sessions:,} sessions in {data} …", file=sys.stderr, flush=True)
        generate(data / "sessions", sessions, messages=messages, seed=seed)
        done.write_text("ok")
    return data


def touch_files(data: Path, count: int, rng: random.Random) -> None:
    """Rewrite ``count`` sessions with a new title, as an editor or another glmtui would."""
    files = sorted((data / "sessions").glob("*.toml"))
    for path in rng.sample(files, count):
        try:
            session = decode_session(path.read_bytes(), path=path)
        except Exception:
            continue  # one of the damaged files
        session.title += " (edited)"
        temp = path.with_name(f".{path.name}.bench.tmp")
        temp.write_bytes(encode_session(session, "toml"))
        os.replace(temp, path)


def run(args: argparse.Namespace) -> list[tuple[str, list[float], str, float | None]]:
    """Every measurement: (name, seconds per run, note, target)."""
    data = prepare(args.sessions, args.messages, args.seed, args.folder)
    rng = random.Random(args.seed)
    rows: list[tuple[str, list[float], str, float | None]] = []

    cold: list[float] = []
    for _ in range(args.cold_runs):
        shutil.rmtree(data / "cache", ignore_errors=True)
        with SessionStore(data) as store:
            cold.append(_timed(store.refresh))
    with SessionStore(data) as store:
        listed = store.list_sessions()
    unreadable = sum(1 for s in listed if not s.readable)
    rows.append(("cold index build (parse every file)", cold, f"{len(listed):,} files", None))

    warm: list[float] = []
    relist: list[float] = []
    for _ in range(args.runs):
        with SessionStore(data) as store:
            warm.append(_timed(store.list_sessions))
            relist.append(_timed(store.list_sessions))
    rows.append(("warm open: new store, list all", warm, f"{unreadable} unreadable", TARGET_OPEN))
    rows.append(("re-list, nothing changed", relist, "", TARGET_OPEN))

    refresh: list[float] = []
    with SessionStore(data) as store:
        store.list_sessions()
        for _ in range(args.runs):
            touch_files(data, 10, rng)
            refresh.append(_timed(store.list_sessions))
    rows.append(("refresh after touching 10 files", refresh, "", TARGET_OPEN))

    queries = [
        ("search: common word", COMMON_WORD),
        ("search: rare word", RARE_WORD),
        ("search: no match", NO_MATCH),
        ("search: two words", "rust lifetime"),
        ("search: 2 characters", "ru"),
        ("search: 2 characters, no match", "qz"),
        ("search: rare word of common trigrams", "sorry for the"),
    ]
    with SessionStore(data) as store:
        store.list_sessions()
        for label, query in queries:
            times: list[float] = []
            hits = 0
            for _ in range(args.runs):
                started = time.perf_counter()
                hits = len(store.search(query))
                times.append(time.perf_counter() - started)
            rows.append((label, times, f"'{query}': {hits} hits", TARGET_SEARCH))
        typing: list[float] = []
        for _ in range(args.runs):
            keystrokes = []
            for n in range(1, len(RARE_WORD) + 1):
                started = time.perf_counter()
                store.search(RARE_WORD[:n])
                keystrokes.append(time.perf_counter() - started)
            typing.append(max(keystrokes))
        rows.append(
            ("search: typing a word, slowest keystroke", typing, f"'{RARE_WORD}'", TARGET_SEARCH)
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command line; prints the table to stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--cold-runs", type=int, default=3, help="runs of the cold build")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--folder", type=Path, help="data dir to use (default: a temp folder)")
    args = parser.parse_args(argv)

    rows = run(args)
    data = prepare(args.sessions, args.messages, args.seed, args.folder)
    index = data / "cache" / INDEX_FILE
    print(
        f"{args.sessions:,} sessions × {args.messages} messages, "
        f"{_folder_size(data / 'sessions') / 1e6:,.0f} MB of session files, "
        f"index {index.stat().st_size / 1e6:,.0f} MB · Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, {platform.system()}\n"
    )
    print("| measurement | median | min | max | runs | target | |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, times, note, target in rows:
        median = statistics.median(times)
        verdict = "" if target is None else ("ok" if median < target else "**over**")
        goal = "" if target is None else f"< {target * 1000:,.0f} ms"
        print(
            f"| {label} | {_ms(median)} | {_ms(min(times))} | {_ms(max(times))} | "
            f"{len(times)} | {goal} {verdict} | {note} |"
        )
    return 0


def _ms(seconds: float) -> str:
    return f"{seconds:,.1f} s" if seconds >= 10 else f"{seconds * 1000:,.1f} ms"


if __name__ == "__main__":
    sys.exit(main())
