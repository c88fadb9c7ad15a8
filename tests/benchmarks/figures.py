"""Pure functions that turn a run's raw records into the figures the table shows.

Kept free of Textual and of I/O so the smoke test can check them on made-up records.

Records:
    An *arrival* is ``(time, chars)``: the moment a content delta reached the client (the
    network read that carried it) and the total number of answer characters received once
    it is counted. A *frame* is ``(time, cpu, rendered)``: when a frame was drawn, the
    process CPU seconds at that moment and the number of answer characters on screen.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

Arrival = tuple[float, int]
"""``(perf_counter seconds, cumulative answer characters received)``."""

Frame = tuple[float, float, int]
"""``(perf_counter seconds, process CPU seconds, answer characters rendered)``."""

COARSE = 0.3
"""A tenth measured over a span wider than this share of the tokens is too coarse to report."""


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` = 0.95 for p95) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def visible_latencies(arrivals: Sequence[Arrival], frames: Sequence[Frame]) -> list[float]:
    """Seconds from each delta's arrival to the first frame that shows all of its text.

    A delta counts as visible at the first frame drawn at or after its arrival whose rendered
    character count reaches the delta's cumulative end. Deltas never shown (a capped run) are
    left out, so ``len(result) <= len(arrivals)``.
    """
    latencies: list[float] = []
    j = 0
    for arrived, chars in arrivals:
        # Arrivals grow in time and in chars, so a frame that failed one never serves a later.
        while j < len(frames) and (frames[j][0] < arrived or frames[j][2] < chars):
            j += 1
        if j == len(frames):
            break
        latencies.append(frames[j][0] - arrived)
    return latencies


def tokens_shown(arrivals: Sequence[Arrival], rendered: int) -> int:
    """How many deltas are wholly on screen when ``rendered`` characters are."""
    ends = [chars for _, chars in arrivals]
    return bisect_right(ends, rendered)


@dataclass(frozen=True, slots=True)
class Growth:
    """CPU per token at the start and at the end of a reply, and their ratio."""

    first_ms: float
    """CPU ms per token from the first delta's arrival to the frame that shows 10 % of them."""
    last_ms: float
    """CPU ms per token from the last frame showing ≤ 90 % of the tokens to the frame that
    shows them all (the reply's final re-render, after the stream ends, is not included)."""
    coarse: bool
    """True when either span covers more than :data:`COARSE` of the tokens (too few frames)."""

    @property
    def ratio(self) -> float:
        """``last_ms / first_ms``: 1.0 means the cost per token does not grow."""
        return self.last_ms / self.first_ms if self.first_ms > 0 else math.inf


def growth(arrivals: Sequence[Arrival], frames: Sequence[Frame], start_cpu: float) -> Growth | None:
    """CPU per token in the last tenth of the shown tokens ÷ in the first tenth.

    ``frames`` are those drawn after the first arrival; ``start_cpu`` is the process CPU at
    the first arrival. Returns None when fewer than two frames show any text.
    """
    points = [(cpu, tokens_shown(arrivals, rendered)) for _, cpu, rendered in frames]
    points = [p for p in points if p[1] > 0]
    if len(points) < 2:
        return None
    total = points[-1][1]
    first = next(p for p in points if p[1] >= total / 10)
    end_index = next(i for i, p in enumerate(points) if p[1] >= total)
    before = [p for p in points[:end_index] if p[1] <= 0.9 * total]
    start = before[-1] if before else (start_cpu, 0)
    end = points[end_index]
    first_ms = 1000 * (first[0] - start_cpu) / first[1]
    last_ms = 1000 * (end[0] - start[0]) / max(1, end[1] - start[1])
    coarse = first[1] > COARSE * total or end[1] - start[1] > COARSE * total
    return Growth(first_ms=first_ms, last_ms=last_ms, coarse=coarse)


@dataclass(frozen=True, slots=True)
class Summary:
    """Median and range of one figure over the runs."""

    median: float
    low: float
    high: float
    n: int


def summarise(values: Sequence[float]) -> Summary | None:
    """Median, min and max of the values that are finite (None when there are none)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return Summary(statistics.median(finite), min(finite), max(finite), len(finite))
